"""Readiness checks shared by the API and the stream worker: each answers None when fine, else the problem."""

from __future__ import annotations

from aiokafka.client import AIOKafkaClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def broker_problem(bootstrap: str) -> str | None:
    """Whether a broker of ``bootstrap`` answers a metadata request (a fresh connection each time)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2500, retry_backoff_ms=100)
    try:
        await client.bootstrap()
    except Exception as error:
        return f"broker {bootstrap} unreachable ({type(error).__name__})"
    finally:
        await client.close()
    return None


async def database_problem(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"database unreachable ({type(error).__name__})"
    return None
