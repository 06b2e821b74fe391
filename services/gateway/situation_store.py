"""The gateway's copy of every unit's aggregate state, read from the situation topic.

Records are read with :mod:`hypercare.situation.record`, the codec the stream worker writes them with.

Each gateway replica reads the whole topic from the beginning without a consumer group, so
replicas scale out behind a load balancer and each holds the full picture. The topic is compacted
and keyed by (unit, family) (:mod:`hypercare.topics`), so the newest record of every pair is kept
for good and a replica started after any time rebuilds the whole picture; records keyed by the
unit alone, written before, read the same (the codec takes unit and family from the value).

The consumer loop runs under the app's :class:`~services.supervision.Supervisor` (task
``situation-store``): when it fails it is restarted with backoff and shows in ``/readyz``; a batch
that was being applied when it failed is read again from its first record (applying a record again
changes nothing, the newest state per pair wins).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from hypercare.broker.watermarks import fetch_high_watermarks
from hypercare.settings import Settings
from hypercare.situation import record as situation_record
from hypercare.topics import topics_for
from services.supervision import Supervisor

log = logging.getLogger(__name__)


TASK = "situation-store"


class SituationStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._supervisor: Supervisor | None = None
        self._topic = topics_for(settings).situation
        self.unit_states: dict[str, dict[str, dict[str, Any]]] = {}
        self._touched: set[str] = set()  # units whose records arrived since the hub last asked
        self.version = 0
        self.changed = asyncio.Event()
        self.caught_up = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._targets: dict[TopicPartition, int] = {}
        self._applying: dict[TopicPartition, int] = {}  # first offset of each partition's batch being applied

    def take_touched(self) -> set[str] | None:
        """The units whose state records arrived since the last call (the hub computes only those again).

        ``None`` would mean "unknown: everything may have changed"; this store always knows.
        """
        touched, self._touched = self._touched, set()
        return touched

    async def start(self, *, supervisor: Supervisor | None = None) -> None:
        """Assign every partition, note the end offsets, start the consumer loop (under ``supervisor``)."""
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
        self._supervisor = supervisor or Supervisor(cap=self._settings.task_restart_backoff_max)
        self._supervisor.start(TASK, self._run)

    async def stop(self) -> None:
        if self._supervisor is not None:
            await self._supervisor.cancel(TASK)
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
        """The consumer loop; a failure ends it and the supervisor runs it again."""
        assert self._consumer is not None
        for tp, offset in self._applying.items():  # the batch a failed run did not finish
            self._consumer.seek(tp, offset)
        self._applying.clear()
        while True:
            batches = await self._consumer.getmany(timeout_ms=500, max_records=5000)
            self._applying = {tp: records[0].offset for tp, records in batches.items() if records}
            updated = False
            for records in batches.values():
                for record in records:
                    updated |= self._apply(record.value)
            self._applying.clear()
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
        self._touched.add(record.unit_id)
        return True
