"""Faust on Tansu: true end offsets for table recovery, and a fetch wait that is not the latency.

End offsets (STACK_NOTES.md, Tansu quirk 1): Tansu answers ListOffsets(LATEST) with the first offset of the
last record batch + 1, so Faust's
recovery stops before the end of a changelog and a restarted worker loses updates. A Fetch
response's high watermark is right, so we read the end from a fetch of the last batch. On Apache
Kafka both agree and this costs one small fetch per changelog partition at recovery.

Fetch wait: Tansu answers a fetch that found no records only when ``fetch_max_wait_ms`` is over,
even if records arrive meanwhile (measured: a record produced every 100 ms reached a consumer after
378 ms at the median with Faust's fixed 1,500 ms wait, 4 ms with 50 ms). Faust hard-codes 1,500 ms
for its stream consumer, so the worker's consumer gets ``HYPERCARE_KAFKA_FETCH_WAIT_MS`` instead.
On Apache Kafka, which answers as soon as records arrive, a short wait only means more idle fetches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

from hypercare.broker.watermarks import fetch_high_watermarks
from streams.faust_patches import Patch
from streams.faust_patches import install as install_patches

_fetch_wait_ms = 50


def _short_fetch_wait(create_worker_consumer: Callable[..., Any]) -> Callable[..., Any]:
    def _create_worker_consumer(self: Any, *args: Any, **kwargs: Any) -> Any:
        consumer = create_worker_consumer(self, *args, **kwargs)
        consumer._fetch_max_wait_ms = _fetch_wait_ms  # read by AIOKafkaConsumer.start() for its fetcher
        return consumer

    return _create_worker_consumer


def _highwaters_from_fetch(original: Callable[..., Any]) -> Callable[..., Any]:
    async def _highwaters(self: Any, partitions: Sequence[TopicPartition]) -> Mapping[TopicPartition, int]:
        reported: Mapping[TopicPartition, int] = await original(self, partitions)
        if self.consumer.in_transaction:
            return reported
        transport = self.transport
        servers = faust_aiokafka.server_list(transport.url, transport.default_port)
        return await fetch_high_watermarks(",".join(servers), reported)

    return _highwaters


PATCHES = (
    Patch(
        faust_aiokafka.AIOKafkaConsumerThread,
        "_highwaters",
        _highwaters_from_fetch,
        why="end offsets from a fetch's high watermark: Tansu's ListOffsets(LATEST) is too low",
    ),
    Patch(
        faust_aiokafka.AIOKafkaConsumerThread,
        "_create_worker_consumer",
        _short_fetch_wait,
        why="the worker's fetch wait from HYPERCARE_KAFKA_FETCH_WAIT_MS, not Faust's fixed 1,500 ms",
    ),
)


def install(*, fetch_wait_ms: int = 50) -> None:
    """Make Faust's consumer thread compute highwaters from fetch responses and fetch with a short wait."""
    global _fetch_wait_ms
    _fetch_wait_ms = fetch_wait_ms
    install_patches(*PATCHES)
