"""The topic registry: the situation topic is created compacted, and its (unit, family) records stay on the
unit's partition (the partition its unit-keyed records of before are on)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.partitioner import DefaultPartitioner

from hypercare.settings import Settings
from hypercare.situation import record
from hypercare.topics import ensure_compacted, ensure_topics, situation_partitioner, topics_for

UNITS = [f"SE2321000131-E{i:04d}" for i in range(60)] + ["Vårdcentral Ödåkra"]
FAMILIES = ["tickets", "access", "floorwalkers", "ed"]


def test_every_family_of_a_unit_goes_where_the_unit_key_of_before_went() -> None:
    default = DefaultPartitioner()
    for count in (1, 4, 7):
        partitions = list(range(count))
        for unit in UNITS:
            before = default(record.partition_key(unit), partitions, partitions)
            assert before == default(json.dumps(unit, ensure_ascii=False).encode(), partitions, partitions)
            for family in FAMILIES:
                key = record.encode_key(unit, family)
                assert situation_partitioner(key, partitions, partitions) == before
    # Other keys are placed as the default partitioner places them; no key still goes anywhere available.
    other = b'"SE2321000131-E0001"'
    assert situation_partitioner(other, [0, 1, 2, 3], [0, 1, 2, 3]) == default(other, [0, 1, 2, 3], [0, 1, 2, 3])
    assert situation_partitioner(b"[not json", [0, 1, 2, 3], [0]) == default(b"[not json", [0, 1, 2, 3], [0])
    assert situation_partitioner(None, [0, 1, 2, 3], [2]) == 2


async def _configs(settings: Settings, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [resource] = response.to_object()["resources"]
        return {entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]}
    finally:
        await admin.close()


async def test_the_situation_topic_is_created_compacted_and_the_others_are_not(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory()
    await ensure_topics(settings)
    await ensure_topics(settings)  # idempotent; the existing topic is already compacted
    topics = topics_for(settings)
    assert (await _configs(settings, topics.situation)).get("cleanup.policy") == "compact"
    assert (await _configs(settings, topics.family("tickets"))).get("cleanup.policy") in (None, "delete")


async def test_an_existing_situation_topic_that_cannot_be_altered_is_named_in_a_warning(
    settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """Tansu has no AlterConfigs (on Apache Kafka the policy is changed, keeping the topic's other settings)."""
    settings = settings_factory()
    topic = topics_for(settings).situation
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])  # as the versions of before created it
        with caplog.at_level(logging.WARNING, logger="hypercare.topics"):
            assert await ensure_compacted(admin, topic) is False
    finally:
        await admin.close()
    assert f"topic {topic} should have cleanup.policy=compact" in caplog.text


async def test_tansu_accepts_compaction_and_keeps_every_record(settings_factory: Callable[..., Settings]) -> None:
    """Measures the embedded broker's gap (STACK_NOTES.md quirk 5): nothing superseded is ever dropped, so a
    starting gateway reads every record written; if this ever fails, Tansu compacts and the docs can say so."""
    settings = settings_factory()
    await ensure_topics(settings)
    topic = topics_for(settings).situation
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, partitioner=situation_partitioner)
    await producer.start()
    try:
        for i in range(200):
            key, value = record.encode("U1", "tickets", {"i": i}, as_of="2024-11-12T10:00:00+00:00")
            await producer.send(topic, key=key, value=value)
        await producer.flush()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    read: list[Any] = []
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while len(read) < 200:
            batches = await consumer.getmany(timeout_ms=1000)
            if not batches:
                break
            read += [r for records in batches.values() for r in records]
    finally:
        await consumer.stop()
    assert [record.decode(r.value).state["i"] for r in read] == list(range(200))
    assert {r.partition for r in read} == {DefaultPartitioner()(record.partition_key("U1"), tps_ids(tps), [])}


def tps_ids(tps: list[TopicPartition]) -> list[int]:
    return [tp.partition for tp in tps]
