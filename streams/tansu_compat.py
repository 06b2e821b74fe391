"""True end offsets for table recovery (STACK_NOTES.md, Tansu quirk 1).

Tansu answers ListOffsets(LATEST) with the first offset of the last record batch + 1, so Faust's
recovery stops before the end of a changelog and a restarted worker loses updates. A Fetch
response's high watermark is right, so we read the end from a fetch of the last batch. On Apache
Kafka both agree and this costs one small fetch per changelog partition at recovery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka


async def fetch_high_watermarks(
    bootstrap: str, reported: Mapping[TopicPartition, int], *, timeout: float = 10.0
) -> dict[TopicPartition, int]:
    result = dict(reported)
    probe = [tp for tp, offset in reported.items() if offset and offset > 0]
    if not probe:
        return result
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(probe)
        for tp in probe:
            consumer.seek(tp, reported[tp] - 1)
        pending = set(probe)
        deadline = asyncio.get_running_loop().time() + timeout
        while pending and asyncio.get_running_loop().time() < deadline:
            await consumer.getmany(*pending, timeout_ms=200, max_records=1)
            for tp in list(pending):
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    result[tp] = max(highwater, reported[tp])
                    pending.discard(tp)
                    consumer.pause(tp)
    finally:
        await consumer.stop()
    return result


_installed = False


def install() -> None:
    """Make Faust's consumer thread compute highwaters from fetch responses (idempotent)."""
    global _installed
    if _installed:
        return
    thread_cls: Any = faust_aiokafka.AIOKafkaConsumerThread
    original = thread_cls._highwaters

    async def _highwaters(self: Any, partitions: Sequence[TopicPartition]) -> Mapping[TopicPartition, int]:
        reported: Mapping[TopicPartition, int] = await original(self, partitions)
        if self.consumer.in_transaction:
            return reported
        transport = self.transport
        servers = faust_aiokafka.server_list(transport.url, transport.default_port)
        return await fetch_high_watermarks(",".join(servers), reported)

    thread_cls._highwaters = _highwaters
    _installed = True
