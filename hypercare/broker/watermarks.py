"""True end offsets of topic partitions, read from a Fetch response's high watermark.

Tansu answers ListOffsets(LATEST) with the first offset of the last record batch + 1 (STACK_NOTES.md,
quirk 1); a Fetch response's high watermark is right. Both the worker's table recovery
(``streams.tansu_compat``) and the gateway's situation store need the true end; this module needs only
aiokafka, so the API process never loads Faust. On Apache Kafka both agree and this costs one small fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition


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
