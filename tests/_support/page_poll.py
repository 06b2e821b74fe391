"""Wait in a browser page for an expression to turn truthy.

Playwright's ``page.wait_for_function`` polls by eval, which the console's Content-Security-Policy forbids: it
passes only when the expression is true at the first try, and turns into a CSP violation otherwise."""

from __future__ import annotations

import asyncio
import time
from typing import Any


async def until(page: Any, expression: str, arg: Any = None, timeout: float = 15.0) -> None:
    """Poll ``expression`` (``page.evaluate``) every 0.1 s until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await page.evaluate(expression, arg):
        assert time.monotonic() < deadline, f"not within {timeout} s: {expression}"
        await asyncio.sleep(0.1)
