"""``Annotated`` aliases for everything the routes need from the app (built once in ``services.app``).

This is the one module that reads ``app.state``: ``create_app`` builds the runtime objects (settings, org
registry, health rules, alert rules, stop criteria, readiness checklist, exit criteria, reporting duties, report
context) before the first request, and its lifespan adds the connections (database, producer, situation hub, alert
service).
Routers ask for them through these aliases and never look at ``app.state`` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from hypercare.org.registry import OrgRegistry
from hypercare.rules.exit_criteria import ExitCriteria
from hypercare.rules.readiness import ReadinessChecklist
from hypercare.settings import Settings
from hypercare.situation.health import HealthRules
from hypercare.sources.engine import Translator
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


def _state(name: str) -> Callable[[Request], Any]:
    """A dependency returning ``app.state.<name>``: the object built in ``create_app`` or its lifespan."""

    def read(request: Request) -> Any:
        return getattr(request.app.state, name)

    read.__name__ = f"app_state_{name}"
    return read


def _started(name: str) -> Callable[[Request], Any]:
    """Like :func:`_state`, but None until the lifespan has started it (an app under test may run without)."""

    def read(request: Request) -> Any:
        return getattr(request.app.state, name, None)

    read.__name__ = f"app_state_{name}_if_started"
    return read


SettingsDep = Annotated[Settings, Depends(_state("settings"))]
DatabaseDep = Annotated[Database, Depends(_state("db"))]
ProducerDep = Annotated[EventProducer, Depends(_state("producer"))]
# Rejected items' table writes that outlast a database outage.
QuarantineSinkDep = Annotated[QuarantineSink | None, Depends(_started("quarantine_sink"))]
HubDep = Annotated[SituationHub, Depends(_state("hub"))]
LiveHubDep = Annotated[SituationHub | None, Depends(_started("hub"))]
TokenCacheDep = Annotated[TokenCache | None, Depends(_started("token_cache"))]
OrgDep = Annotated[OrgRegistry, Depends(_state("org"))]
HealthRulesDep = Annotated[HealthRules, Depends(_state("rules"))]
AlertRulesDep = Annotated[AlertRules, Depends(_state("alert_rules"))]
# The gateway's alert runtime.
AlertServiceDep = Annotated[AlertService | None, Depends(_started("alert_service"))]
StopCriteriaDep = Annotated[StopCriteria, Depends(_state("stop_criteria"))]
ReadinessDep = Annotated[ReadinessChecklist, Depends(_state("readiness"))]
ExitCriteriaDep = Annotated[ExitCriteria, Depends(_state("exit_criteria"))]
DutiesDep = Annotated[DutiesConfig, Depends(_state("duties"))]
ReportContextDep = Annotated[ReportContext, Depends(_state("report_context"))]
# The source mappings in force (hypercare.sources.config): source name → its translator.
SourcesDep = Annotated[dict[str, Translator], Depends(_state("sources"))]
