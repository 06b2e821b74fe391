"""The Faust application: one batch loop folds every event family into per-unit tables.

Records are keyed by unit_id, so a unit's events, its table entries and its changelog all live on
the same partition number: no repartition topic is needed. The loop takes whole fetched batches
from ``streams.record_feed`` rather than Faust's per-event stream (the bottleneck, STACK_NOTES.md)
and writes each changed unit once per batch. Faust runs the group, the tables and their recovery.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import faust
import pydantic_core
from aiokafka.errors import MessageSizeTooLargeError
from faust.exceptions import ProducerSendError
from faust.serializers import codecs

from hypercare.contract.events import FAMILIES
from hypercare.observability import metrics
from hypercare.observability.readiness import broker_problem, database_problem
from hypercare.settings import Settings
from hypercare.situation import record as situation_record
from hypercare.situation.state import STATEFUL_FAMILIES
from hypercare.storage.db import Database
from hypercare.storage.events_store import EventRow, store_events
from hypercare.storage.quarantine import QuarantineRow, add_quarantined
from hypercare.topics import situation_partitioner, topics_for
from streams import offset_guard, record_feed, tansu_compat
from streams.processor import BatchProcessor, BatchResult, Record
from streams.sink import EventSink, Stored
from streams.web import WorkerWeb

log = logging.getLogger(__name__)


class UnitTable(faust.Table):  # type: ignore[type-arg]
    """A per-family table of unit states whose changelog writes are awaited, not buffered.

    ``table[key] = value`` hands the changelog record to Faust's ``send_soon`` buffer, and Faust's
    pre-commit flush gives up after 0.1 s without progress: an offset commit can then overtake a
    buffered changelog write, and a SIGKILL loses the update for good. Writes here go to the local
    store at once and to the changelog in :meth:`TableStates.flush_changelog`, which each checkpoint
    awaits before the offsets are committed. The changelog partition is the unit's source partition.
    """


# Sends one record's bytes (topic, key, value, partition or None for the producer's partitioner); its delivery.
SendRaw = Callable[[str, bytes | None, bytes, int | None], Awaitable[Awaitable[Any]]]


def raw_sender(app: faust.App) -> SendRaw:
    """Records already in bytes go straight to the app's producer: Faust's ``Topic.send`` (a message object, its
    future, callbacks and codecs per record) cost about 60 µs a record, which the checkpoint's hundreds of
    changelog records and each batch's situation records paid. Errors arrive wrapped as ``Topic.send`` wraps
    them (``ProducerSendError``)."""

    async def send(topic: str, key: bytes | None, value: bytes, partition: int | None) -> Awaitable[Any]:
        return await app.producer.send(topic, key, value, partition, None, None)

    return send


class TableStates:
    """The :class:`StateStore` of the worker: Faust tables, with changelog writes collected per batch."""

    def __init__(self, tables: dict[str, UnitTable], send: SendRaw) -> None:
        self._tables = tables
        self._send = send
        self._pending: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}

    def get(self, family: str, key: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._tables[family].data.get(key)
        return value

    def put(self, family: str, key: str, partition: int, value: dict[str, Any]) -> None:
        self._tables[family].data[key] = value
        self._pending[(family, key)] = (partition, value)

    async def flush_changelog(self) -> list[Awaitable[Any]]:
        """Send the latest state of every unit changed since the last flush; their delivery futures.

        The changelog value is ``{"offsets": …, "state": …}``, read back as JSON when a table recovers.
        A value the producer refuses as too large is counted and logged, never retried: the worker goes on
        (that state then recovers older after a restart). States kept in parts make this a defence only.
        """
        pending, self._pending = self._pending, {}
        deliveries = []
        for (family, key), (partition, value) in pending.items():
            encoded = b'{"offsets":' + _json(value["offsets"]) + b',"state":' + _json(value["state"]) + b"}"
            changelog = self._tables[family].changelog_topic.get_topic_name()
            try:
                # The key as Faust's table writes and recovers it (its "json" codec).
                delivery = await self._send(changelog, codecs.dumps("json", key), encoded, partition)
            except ProducerSendError as error:
                if not too_large(error):
                    raise
                _refused_as_too_large("changelog", len(encoded))
                continue
            deliveries.append(delivery)
        return deliveries


def too_large(error: BaseException) -> bool:
    """Whether a send failed because the record is over the producer's or the broker's size limit (Faust wraps
    the producer's refusal in a ``ProducerSendError``; the broker's comes back on the delivery future)."""
    return isinstance(error, MessageSizeTooLargeError) or isinstance(error.__cause__, MessageSizeTooLargeError)


def _refused_as_too_large(kind: str, size: int | None = None) -> None:
    metrics.WORKER_RECORDS_TOO_LARGE.labels(kind=kind).inc()
    log.error("a %s record was refused as too large (%s bytes) and skipped", kind, "?" if size is None else size)


async def deliver(deliveries: Sequence[Awaitable[Any]]) -> None:
    """Wait for every send; one refused as too large is counted and skipped (retrying it would fail the same
    way forever), any other failure is raised."""
    for outcome in await asyncio.gather(*deliveries, return_exceptions=True):
        if isinstance(outcome, BaseException):
            if not too_large(outcome):
                raise outcome
            _refused_as_too_large("delivery")


def _json(value: Any) -> bytes:
    """Compact UTF-8 JSON of a state (JSON-native values only), by pydantic-core: about three times faster than
    the standard library's encoder, which was the largest single cost of a checkpoint with many open tickets."""
    return pydantic_core.to_json(value)


def create_app(settings: Settings) -> faust.App:
    tansu_compat.install(fetch_wait_ms=settings.kafka_fetch_wait_ms)
    topics = topics_for(settings)
    event_topics = frozenset(topics.families.values())
    offset_guard.install(event_topics)
    record_feed.install(event_topics)
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level of its datadir
    app = faust.App(
        f"{settings.topic_prefix}-streams",
        broker=f"kafka://{settings.bootstrap}",
        store=settings.worker_store,
        datadir=str(settings.data_dir / "streams"),  # Faust's own files, beside the SQLite file and broker log
        autodiscover=False,
        broker_session_timeout=settings.kafka_session_timeout,
        broker_heartbeat_interval=settings.kafka_heartbeat_interval,
        broker_request_timeout=max(30.0, settings.kafka_session_timeout),
        broker_commit_interval=1.0,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        table_standby_replicas=0,
        producer_acks=-1,
        producer_linger_ms=5,
        producer_max_batch_size=256 * 1024,
        # Situation records are keyed by (unit, family) but placed by the unit, beside its events.
        producer_partitioner=situation_partitioner,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
    )
    source = app.topic(
        *topics.families.values(),
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    dead_letters = app.topic(topics.dead_letter, key_serializer="raw", value_serializer="raw")
    tables: dict[str, UnitTable] = {
        family: app.tables.add(  # type: ignore[misc]
            UnitTable(
                app,
                name=f"units-{family}",
                default=None,
                key_type=str,  # keys and values travel as JSON (faust derives the codec from the type)
                partitions=settings.topic_partitions,
                beacon=app.tables.beacon,
            )
        )
        for family in FAMILIES
        if family in STATEFUL_FAMILIES
    }
    database = Database.from_url(settings.effective_database_url)

    async def store(rows: Sequence[EventRow]) -> dict[str, tuple[str, int, int]]:
        with metrics.DB_SINK_BATCH.time():
            return await store_events(database, rows=rows)

    # The partitions of the batch in progress, and how long it has waited on the database (0 when it has not).
    in_progress: set[tuple[str, int]] = set()
    stuck = {"seconds": 0.0}

    def on_stuck(seconds: float) -> None:
        stuck["seconds"] = seconds
        for topic, partition in in_progress:
            metrics.WORKER_STUCK_SECONDS.labels(topic, str(partition)).set(seconds)
        if seconds:
            metrics.WORKER_DB_RETRIES.inc()

    sink = EventSink(store, on_stuck=on_stuck)

    async def store_batch(rows: Sequence[EventRow]) -> Stored:
        return await sink(rows)

    send_raw = raw_sender(app)
    states = TableStates(tables, send_raw)
    processor = BatchProcessor(topics=topics, states=states, store_events=store_batch)

    def forget_parts(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Partitions moved: another worker may have written parts of units' states this one will read."""
        processor.forget()

    app.on_partitions_revoked.connect(forget_parts)
    app.on_partitions_assigned.connect(forget_parts)

    async def process_until_done(records: list[Record]) -> BatchResult:
        """The sink waits out database outages and dead-letters what the database refuses (streams.sink)."""
        in_progress.clear()
        in_progress.update((r.topic, r.partition) for r in records)
        try:
            return await processor.process(records, now=datetime.now(UTC), views=False)
        finally:
            if stuck["seconds"]:
                on_stuck(0.0)
            in_progress.clear()

    outstanding: list[Awaitable[Any]] = []  # deliveries that the next checkpoint waits for
    # The (family, unit) pairs changed by batches whose views are not published yet, and the broker timestamps of
    # those batches' applied records (their event-to-aggregate latency is observed when the views go out).
    unpublished: dict[tuple[str, str], None] = {}
    unpublished_at: list[float] = []

    async def publish_views() -> None:
        """Each changed (unit, family)'s read-side view to the situation topic (the console's next picture),
        keyed by the pair for compaction and placed on the unit's partition (``producer_partitioner``).

        A record the producer refuses as too large is counted and skipped (the gateway keeps the unit's previous one).
        """
        if not unpublished:
            return
        units = sorted(unpublished)
        unpublished.clear()
        as_of = datetime.now(UTC).isoformat()
        for (family, unit_id), view in processor.views(units).items():
            key, record = situation_record.encode(unit_id, family, view, as_of=as_of)
            try:
                outstanding.append(await send_raw(topics.situation, key, record, None))
            except ProducerSendError as error:
                if not too_large(error):
                    raise
                _refused_as_too_large("situation", len(record))
        published = datetime.now(UTC).timestamp()
        for timestamp in unpublished_at:
            metrics.EVENT_TO_AGGREGATE.observe(max(0.0, published - timestamp))
        unpublished_at.clear()

    async def publish(result: BatchResult, *, backlog: bool) -> None:
        """The batch's changed units' views (:func:`publish_views`; while more records wait, at the next batch that
        finds none waiting or at the checkpoint: a unit changed by several batches of a backlog is viewed and sent
        once; views after every batch were 11 % of the worker's samples at 2,000 units), its dead letters and its
        metrics."""
        unpublished.update(dict.fromkeys(result.changed_units))
        unpublished_at.extend(r.timestamp for r in result.applied_records if r.timestamp is not None)
        if not backlog:
            await publish_views()
        for letter in result.dead_letters:
            value = json.dumps(letter.as_json()).encode()
            try:
                outstanding.append(await dead_letters.send(value=value))
            except ProducerSendError as error:
                if not too_large(error):
                    raise
                _refused_as_too_large("dead_letter", len(value))
        record_metrics(result)
        if result.dead_letters:
            rows = [
                QuarantineRow(
                    stage="stream",
                    reason=letter.reason,
                    item_index=None,
                    raw=letter.as_json()["raw"] or "",
                    submitted_by=None,
                    src_topic=letter.record.topic,
                    src_partition=letter.record.partition,
                    src_offset=letter.record.offset,
                )
                for letter in result.dead_letters
            ]
            try:
                await add_quarantined(database, items=rows)
            except Exception:
                log.exception("could not store %d dead letters (they are on the dead-letter topic)", len(rows))

    def record_metrics(result: BatchResult) -> None:
        metrics.WORKER_BATCHES.inc()
        for (family, outcome), n in result.outcomes.items():
            metrics.STREAM_RECORDS.labels(family=family, outcome=outcome).inc(n)
        if result.dead_letters:
            metrics.DEAD_LETTERS.inc(len(result.dead_letters))
            metrics.QUARANTINED.labels(stage="stream").inc(len(result.dead_letters))

    def prepare(fetched: list[Any]) -> list[Record]:
        """A fetch's records as the processor takes them, decoded as they arrive (the feed calls this in the
        fetching task, so the next records are decoded while a batch waits on the database)."""
        return [
            Record(
                topic=r.topic,
                partition=r.partition,
                offset=r.offset,
                key=r.key,
                value=r.value,
                timestamp=r.timestamp / 1000 if r.timestamp is not None else None,
                decoded=processor.decode_ahead(r.topic, r.value),
            )
            for r in fetched
        ]

    async def handle(prepared: list[Record]) -> list[Record]:
        """One batch from the feed: the records admitted in order are processed and published."""
        records, rewind = offset_guard.guard_for(app.consumer).admit(prepared)
        for tp, offset in rewind.items():
            log.warning("%s: records before the batch's first were never delivered; reading again from %d", tp, offset)
            await app.consumer.seek(tp, offset)
        if records:
            await publish(await process_until_done(records), backlog=record_feed.feed_for(app.consumer).backlog())
        return records

    async def checkpoint() -> None:
        """Every view not yet published to the situation topic, every changed unit's whole state to its changelog,
        every send delivered: then offsets may be committed."""
        await publish_views()
        deliveries = [*outstanding, *await states.flush_changelog()]
        outstanding.clear()
        await deliver(deliveries)

    app.topics.add(source)  # subscribed without an agent: streams.record_feed hands its records over

    @app.task  # type: ignore[untyped-decorator]
    async def aggregate() -> None:
        await record_feed.feed_for(app.consumer).run(
            handle,
            checkpoint,
            max_records=settings.worker_batch_size,
            interval=settings.worker_checkpoint_seconds,
            prepare=prepare,
        )

    lag_labels: set[tuple[str, str]] = set()

    @app.timer(interval=5.0)  # type: ignore[untyped-decorator]
    async def measure_lag() -> None:
        """Records behind per assigned event-topic partition (high watermark from fetch responses)."""
        guard = offset_guard.guard_for(app.consumer)
        measured: set[tuple[str, str]] = set()
        for tp in app.consumer.assignment():
            if tp.topic not in event_topics:
                continue
            highwater = app.consumer.highwater(tp)
            due = guard.process_due.get(tp)
            if highwater is not None and due is not None:
                labels = (tp.topic, str(tp.partition))
                metrics.CONSUMER_LAG.labels(*labels).set(max(0, highwater - due))
                measured.add(labels)
        for labels in lag_labels - measured:  # partitions this worker no longer has
            metrics.CONSUMER_LAG.remove(*labels)
        lag_labels.clear()
        lag_labels.update(measured)

    async def partitions_problem() -> str | None:
        if not any(tp.topic in event_topics for tp in app.consumer.assignment()):
            return "no event-topic partitions assigned"
        if not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return "table recovery still running"
        return None

    async def broker_check() -> str | None:
        return await broker_problem(settings.bootstrap)

    async def database_check() -> str | None:
        return await database_problem(database.engine)

    async def stuck_check() -> str | None:
        if stuck["seconds"] >= settings.worker_stuck_seconds:
            return f"a batch has waited {stuck['seconds']:.0f} s on the database"
        return None

    app.service(  # an instance works too: faust prepares classes and instances alike
        WorkerWeb(  # type: ignore[arg-type]
            host=settings.host,
            port=settings.worker_web_port,
            checks={
                "partitions": partitions_problem,
                "broker": broker_check,
                "database": database_check,
                "stuck": stuck_check,
            },
            registry=metrics.WORKER_REGISTRY,
        )
    )
    app.hypercare_database = database  # type: ignore[attr-defined]
    return app
