"""Producing accepted events to Kafka: acknowledged to the client only after the broker has them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from hypercare.settings import Settings


def encode_key(unit_id: str) -> bytes:
    """JSON-encoded keys, the same bytes the stream worker's tables use (co-partitioning)."""
    return json.dumps(unit_id).encode()


def encode_value(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class EventProducer:
    def __init__(self, settings: Settings) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap,
            acks="all",
            linger_ms=2,
            max_batch_size=256 * 1024,
            max_request_size=8 * 1024 * 1024,
            request_timeout_ms=15000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send_all(self, messages: Sequence[tuple[str, bytes | None, bytes]]) -> None:
        """Send (topic, key, value) messages and wait until the broker has acknowledged every one."""
        futures = [await self._producer.send(topic, value=value, key=key) for topic, key, value in messages]
        await asyncio.gather(*futures)

    async def ping(self) -> None:
        await self._producer.client.fetch_all_metadata()
