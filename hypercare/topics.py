"""The one registry of Kafka topics, shared by the ingest API, the stream worker and the gateway.

The situation topic is compacted (``cleanup.policy=compact``): its records are keyed by (unit,
family) (:mod:`hypercare.situation.record`), so the broker keeps the newest record of every pair
for good and drops only superseded ones, and a gateway that starts after any time rebuilds the whole
picture from it. :func:`ensure_topics` creates it so, and switches an existing situation topic of
another policy to ``compact`` where the broker lets it (AlterConfigs, keeping the topic's other
settings), else logs a warning. Every other topic keeps the broker's default policy.

The embedded broker (Tansu 0.6.0, STACK_NOTES.md quirk 5) accepts ``cleanup.policy=compact`` at
creation and reports it back in DescribeConfigs, but ignores it: it compacts, expires and deletes
nothing (measured: 1,000 writes of one key, all 1,000 still read back), and it offers no
AlterConfigs. The picture is complete there too, as nothing is ever dropped, but the topic and a
starting gateway's replay grow with every record written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from aiokafka.partitioner import DefaultPartitioner

from hypercare.contract.events import FAMILIES
from hypercare.settings import Settings
from hypercare.situation import record as situation_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    prefix: str

    def family(self, family: str) -> str:
        """Events of one family (tickets, access, floorwalkers, ed), keyed by JSON-encoded unit_id."""
        return f"{self.prefix}.events.{family}"

    @property
    def families(self) -> dict[str, str]:
        return {family: self.family(family) for family in FAMILIES}

    @property
    def quarantine(self) -> str:
        """Raw items the ingest API rejected, with the reason."""
        return f"{self.prefix}.quarantine"

    @property
    def dead_letter(self) -> str:
        """Records a stream worker could not process, with the reason."""
        return f"{self.prefix}.deadletter"

    @property
    def situation(self) -> str:
        """Per-(unit, family) read-side state after each processed batch, compacted (read by gateways)."""
        return f"{self.prefix}.situation"

    def all(self) -> list[str]:
        return [*self.families.values(), self.quarantine, self.dead_letter, self.situation]


def topics_for(settings: Settings) -> Topics:
    return Topics(prefix=settings.topic_prefix)


COMPACTED = {"cleanup.policy": "compact"}
_DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' config_source of a setting made on the topic itself

_default_partitioner = DefaultPartitioner()


def situation_partitioner(key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]) -> int:
    """A producer partitioner (aiokafka's and Faust's ``producer_partitioner`` signature).

    A situation key ``[unit, family]`` goes where the unit's key alone goes (murmur2 of
    :func:`hypercare.situation.record.partition_key`, as aiokafka's default partitioner hashes), so
    every family of a unit shares its partition; every other key is placed by the default partitioner.
    """
    if key is not None and key[:1] == b"[":
        try:
            unit_id, _ = situation_record.decode_key(key)
        except situation_record.RecordError:
            pass
        else:
            key = situation_record.partition_key(unit_id)
    return int(_default_partitioner(key, all_partitions, available))


def topic_configs(topics: Topics, name: str) -> dict[str, str]:
    """The configs a topic of the registry is created with."""
    return dict(COMPACTED) if name == topics.situation else {}


def _entries(response: Any) -> list[dict[str, Any]]:
    return [
        entry
        for resource in response.to_object()["resources"]
        if not resource["error_code"]
        for entry in resource["config_entries"]
    ]


async def ensure_compacted(admin: AIOKafkaAdminClient, topic: str) -> bool:
    """Make an existing topic compacted where the broker lets it; False (and a warning) when it stays not."""
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = [entry for response in described for entry in _entries(response)]
        policy = next((e["config_value"] for e in entries if e["config_names"] == "cleanup.policy"), None)
        if policy == COMPACTED["cleanup.policy"]:
            return True
        kept = {
            e["config_names"]: e["config_value"]
            for e in entries
            if e.get("config_source") == _DYNAMIC_TOPIC_CONFIG and e["config_value"] is not None
        }
        altered = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={**kept, **COMPACTED})]
        )
        errors = [
            resource["error_code"]
            for response in altered
            for resource in response.to_object()["resources"]
            if resource["error_code"]
        ]
        if errors:
            raise RuntimeError(f"AlterConfigs answered error code {errors[0]}")
    except Exception as error:
        log.warning(
            "topic %s should have cleanup.policy=compact and could not be changed (%s: %s); a gateway that "
            "starts after the broker deleted old records misses what they held: set it on the topic",
            topic,
            type(error).__name__,
            error,
        )
        return False
    log.info("topic %s: cleanup.policy was %s, now compact", topic, policy or "the broker default")
    return True


async def ensure_topics(settings: Settings, *, attempts: int = 30) -> None:
    """Create every topic of the registry that does not exist yet (idempotent); the situation topic compacted."""
    topics = topics_for(settings)
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [name for name in topics.all() if name not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [
                            NewTopic(
                                name,
                                settings.topic_partitions,
                                settings.topic_replication,
                                topic_configs=topic_configs(topics, name),
                            )
                            for name in missing
                        ]
                    )
            if topics.situation not in missing:
                await ensure_compacted(admin, topics.situation)
            return
        except KafkaConnectionError:
            if attempt == attempts - 1:
                raise
            log.info("broker not reachable yet, retrying topic creation")
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
