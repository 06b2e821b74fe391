"""The gateway's copy of every unit's aggregate state, read from the situation topic.

Records are read with :mod:`hypercare.situation.record`, the codec the stream worker writes them with.

Each gateway replica reads the whole topic from the beginning without a consumer group, so
replicas scale out behind a load balancer and each holds the full picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from hypercare.broker.watermarks import fetch_high_watermarks
from hypercare.settings import Settings
from hypercare.situation import record as situation_record
from hypercare.topics import topics_for

log = logging.getLogger(__name__)


class SituationStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._topic = topics_for(settings).situation
        self.unit_states: dict[str, dict[str, dict[str, Any]]] = {}
        self.version = 0
        self.changed = asyncio.Event()
        self.caught_up = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._targets: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_wait_ms=self._settings.kafka_fetch_wait_ms,  # see streams/tansu_compat.py
        )
        await consumer.start()
        self._consumer = consumer
        partitions = None
        for _ in range(100):
            partitions = consumer.partitions_for_topic(self._topic)
            if partitions:
                break
            await consumer._client.force_metadata_update()
            await asyncio.sleep(0.1)
        if not partitions:
            raise RuntimeError(f"topic {self._topic} has no partitions")
        tps = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._targets = await fetch_high_watermarks(self._settings.bootstrap, await consumer.end_offsets(tps))
        await self._check_caught_up()
        self._task = asyncio.create_task(self._run(), name="situation-store")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _check_caught_up(self) -> None:
        if self.caught_up.is_set() or self._consumer is None:
            return
        for tp, end in self._targets.items():
            if await self._consumer.position(tp) < end:
                return
        self.caught_up.set()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500, max_records=5000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the situation topic failed; retrying")
                await asyncio.sleep(1.0)
                continue
            updated = False
            for records in batches.values():
                for record in records:
                    updated |= self._apply(record.value)
            if updated:
                self.version += 1
                self.changed.set()
            await self._check_caught_up()

    def _apply(self, raw: bytes | None) -> bool:
        if raw is None:
            return False
        try:
            record = situation_record.decode(raw)
        except situation_record.RecordError as error:
            log.warning("ignoring a situation record: %s", error)
            return False
        self.unit_states.setdefault(record.unit_id, {})[record.family] = record.state
        return True
