"""``Annotated`` aliases for what the FastAPI app keeps in ``app.state`` (built in services.app)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.storage.db import Database
from services.gateway.hub import SituationHub
from services.ingest.producer import EventProducer


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _producer(request: Request) -> EventProducer:
    producer: EventProducer = request.app.state.producer
    return producer


def _hub(request: Request) -> SituationHub:
    hub: SituationHub = request.app.state.hub
    return hub


def _org(request: Request) -> OrgRegistry:
    org: OrgRegistry = request.app.state.org
    return org


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_db)]
ProducerDep = Annotated[EventProducer, Depends(_producer)]
HubDep = Annotated[SituationHub, Depends(_hub)]
OrgDep = Annotated[OrgRegistry, Depends(_org)]
