"""``Annotated`` aliases for everything the routes need from the app (built once in ``services.app``).

This is the one module that reads ``app.state``: ``create_app`` builds the runtime objects (settings, org
registry, health rules, alert rules, stop criteria, reporting duties, report context) before the first
request, and its lifespan adds the connections (database, producer, situation hub, alert service).
Routers ask for them through these aliases and never look at ``app.state`` themselves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hypercare.org.registry import OrgRegistry
from hypercare.settings import Settings
from hypercare.situation.health import HealthRules
from hypercare.storage.db import Database
from services.alerts.rules import AlertRules
from services.alerts.service import AlertService
from services.auth.tokens import TokenCache
from services.duties.config import DutiesConfig
from services.gateway.hub import SituationHub
from services.ingest.producer import EventProducer
from services.ingest.quarantine_sink import QuarantineSink
from services.reports.context import ReportContext
from services.stop_criteria.rules import StopCriteria


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _producer(request: Request) -> EventProducer:
    producer: EventProducer = request.app.state.producer
    return producer


def _quarantine_sink(request: Request) -> QuarantineSink | None:
    """Rejected items' table writes that outlast a database outage; None until the lifespan starts it."""
    sink: QuarantineSink | None = getattr(request.app.state, "quarantine_sink", None)
    return sink


def _token_cache(request: Request) -> TokenCache | None:
    cache: TokenCache | None = getattr(request.app.state, "token_cache", None)
    return cache


def _hub(request: Request) -> SituationHub:
    hub: SituationHub = request.app.state.hub
    return hub


def _live_hub(request: Request) -> SituationHub | None:
    """The hub, or None until the lifespan has started it (an app under test without its gateway)."""
    hub: SituationHub | None = getattr(request.app.state, "hub", None)
    return hub


def _org(request: Request) -> OrgRegistry:
    org: OrgRegistry = request.app.state.org
    return org


def _health_rules(request: Request) -> HealthRules:
    rules: HealthRules = request.app.state.rules
    return rules


def _alert_rules(request: Request) -> AlertRules:
    rules: AlertRules = request.app.state.alert_rules
    return rules


def _alert_service(request: Request) -> AlertService | None:
    """The gateway's alert runtime; None until the lifespan has started it (e.g. an app under test)."""
    service: AlertService | None = getattr(request.app.state, "alert_service", None)
    return service


def _stop_criteria(request: Request) -> StopCriteria:
    criteria: StopCriteria = request.app.state.stop_criteria
    return criteria


def _duties(request: Request) -> DutiesConfig:
    duties: DutiesConfig = request.app.state.duties
    return duties


def _report_context(request: Request) -> ReportContext:
    context: ReportContext = request.app.state.report_context
    return context


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_db)]
ProducerDep = Annotated[EventProducer, Depends(_producer)]
QuarantineSinkDep = Annotated[QuarantineSink | None, Depends(_quarantine_sink)]
HubDep = Annotated[SituationHub, Depends(_hub)]
LiveHubDep = Annotated[SituationHub | None, Depends(_live_hub)]
TokenCacheDep = Annotated[TokenCache | None, Depends(_token_cache)]
OrgDep = Annotated[OrgRegistry, Depends(_org)]
HealthRulesDep = Annotated[HealthRules, Depends(_health_rules)]
AlertRulesDep = Annotated[AlertRules, Depends(_alert_rules)]
AlertServiceDep = Annotated[AlertService | None, Depends(_alert_service)]
StopCriteriaDep = Annotated[StopCriteria, Depends(_stop_criteria)]
DutiesDep = Annotated[DutiesConfig, Depends(_duties)]
ReportContextDep = Annotated[ReportContext, Depends(_report_context)]
