"""The one registry of Kafka topics, shared by the ingest API, the stream worker and the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from hypercare.contract.events import FAMILIES
from hypercare.settings import Settings

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
        """Per-unit aggregate state after each processed batch, keyed by unit_id (read by gateways)."""
        return f"{self.prefix}.situation"

    def all(self) -> list[str]:
        return [*self.families.values(), self.quarantine, self.dead_letter, self.situation]


def topics_for(settings: Settings) -> Topics:
    return Topics(prefix=settings.topic_prefix)


async def ensure_topics(settings: Settings, *, attempts: int = 30) -> None:
    """Create every topic of the registry that does not exist yet (idempotent)."""
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
                        [NewTopic(name, settings.topic_partitions, settings.topic_replication) for name in missing]
                    )
            return
        except KafkaConnectionError:
            if attempt == attempts - 1:
                raise
            log.info("broker not reachable yet, retrying topic creation")
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
