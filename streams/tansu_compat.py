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

from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka

from hypercare.broker.watermarks import fetch_high_watermarks

_installed = False
_fetch_wait_ms = 50


def install(*, fetch_wait_ms: int = 50) -> None:
    """Make Faust's consumer thread compute highwaters from fetch responses and fetch with a short wait."""
    global _installed, _fetch_wait_ms
    _fetch_wait_ms = fetch_wait_ms
    if _installed:
        return
    thread_cls: Any = faust_aiokafka.AIOKafkaConsumerThread
    original = thread_cls._highwaters
    create_worker_consumer = thread_cls._create_worker_consumer

    def _create_worker_consumer(self: Any, *args: Any, **kwargs: Any) -> Any:
        consumer = create_worker_consumer(self, *args, **kwargs)
        consumer._fetch_max_wait_ms = _fetch_wait_ms  # read by AIOKafkaConsumer.start() for its fetcher
        return consumer

    async def _highwaters(self: Any, partitions: Sequence[TopicPartition]) -> Mapping[TopicPartition, int]:
        reported: Mapping[TopicPartition, int] = await original(self, partitions)
        if self.consumer.in_transaction:
            return reported
        transport = self.transport
        servers = faust_aiokafka.server_list(transport.url, transport.default_port)
        return await fetch_high_watermarks(",".join(servers), reported)

    thread_cls._highwaters = _highwaters
    thread_cls._create_worker_consumer = _create_worker_consumer
    _installed = True
