"""Pure ASGI middleware that guards every route before FastAPI parses or authenticates anything."""
