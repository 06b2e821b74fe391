"""Every Prometheus metric Hypercare exports: one catalogue for the API, the worker and the dashboards.

One server process per container (scale with replicas), so the default registry is enough (no multiprocess
mode: under ``hypercare api --workers N`` each process's /metrics answers for itself; README, "Scaling the
gateway over processes"); the dashboards and alerting rules under dashboards/ may only name metrics defined
here (a test checks them against a running API and worker). Labels stay bounded: event type, family, outcome, stage,
administration, priority, health colour, severity, transition, topic, partition and task; never a user,
ticket, unit or alert id.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# --- ingest API ---------------------------------------------------------------------------------
EVENTS_INGESTED = Counter(
    "hypercare_events_ingested_total",
    "Items submitted to POST /api/v1/events, by event type and outcome (accepted or rejected).",
    ["type", "outcome"],
)
QUARANTINED = Counter(
    "hypercare_quarantined_total",
    "Items put in quarantine: rejected at ingest or dead-lettered by a stream worker.",
    ["stage"],
)
PRODUCE_LATENCY = Histogram(
    "hypercare_produce_latency_seconds",
    "Time from sending an ingest request's events to the broker until it acknowledged all of them.",
    buckets=LATENCY_BUCKETS,
)

HTTP_REFUSED = Counter(
    "hypercare_http_refused_total",
    "API requests refused before or instead of their route: body_too_large (413), too_deep (422), "
    "rate_limited_ingest / _reads / _renders (429), value_refused (422: the database cannot take a value), "
    "database_unavailable (503).",
    ["reason"],
)
AUTH_FAILURES = Counter(
    "hypercare_auth_failures",
    "Requests refused for authentication (unauthenticated: 401, no or an unknown token) or authorization "
    "(forbidden: 403), by channel (http or websocket; a refused WebSocket counts as websocket).",
    ["channel", "outcome"],
)
AUDIT_PENDING = Gauge(
    "hypercare_audit_pending",
    "Audit-log rows waiting in the API process to be written (buffered; more while the database is down).",
)
AUDIT_DROPPED = Counter(
    "hypercare_audit_dropped",
    "Audit-log rows lost: over the bound of rows waiting for the database, refused by it, or still waiting "
    "when the API stopped (each also logged).",
)
QUARANTINE_PENDING = Gauge(
    "hypercare_quarantine_pending",
    "Rejected ingest items in the quarantine topic whose table row waits for the database to answer again.",
)
QUARANTINE_TOPIC_ONLY = Counter(
    "hypercare_quarantine_topic_only",
    "Rejected ingest items that reached only the quarantine topic, not its table (refused by the database, "
    "over the bound of rows waiting for it, or still waiting when the API stopped): backfill from the topic.",
)

# --- console gateway ----------------------------------------------------------------------------
WEBSOCKET_CLIENTS = Gauge("hypercare_websocket_clients", "WebSocket clients connected to this gateway.")
WEBSOCKET_MESSAGES = Counter(
    "hypercare_websocket_messages_sent_total", "Messages sent to WebSocket clients, by message type.", ["type"]
)
TASK_RESTARTS = Counter(
    "hypercare_task_restarts_total",
    "Restarts of a failed long-running task of the API process (services.supervision), by task.",
    ["task"],
)
WEBSOCKETS_REFUSED = Counter(
    "hypercare_websockets_refused_total",
    "Authenticated WebSocket connections refused because this gateway serves HYPERCARE_MAX_WEBSOCKETS already "
    "(close code 1013, try again later).",
)
WEBSOCKET_RESYNCS = Counter(
    "hypercare_websocket_resyncs_total",
    "Resync requests from WebSocket clients: served (a snapshot at once) or deferred (within the throttle "
    "window: one snapshot when it ends, however many were asked for).",
    ["outcome"],
)

# --- go-live figures (from the gateway's live situation picture) -----------------------------------
OPEN_TICKETS = Gauge(
    "hypercare_open_tickets",
    "Open tickets by administration and priority (1 most urgent).",
    ["administration", "priority"],
)
LOGIN_FAILURE_RATE = Gauge(
    "hypercare_login_failure_rate",
    "Login failures / logins in the last 15 minutes, by administration.",
    ["administration"],
)
LOGINS_15M = Gauge("hypercare_logins_15m", "Logins in the last 15 minutes, by administration.", ["administration"])
FLOORWALKERS_ON_DUTY = Gauge(
    "hypercare_floorwalkers_on_duty", "Floor walkers checked in on a unit, by administration.", ["administration"]
)
ACTIVE_DIVERSIONS = Gauge("hypercare_active_diversions", "Emergency departments diverting patients right now.")
UNITS_BY_HEALTH = Gauge("hypercare_units_by_health", "Units by health (green, yellow, red, not_assessed).", ["status"])

# --- alerts (raised by the gateway's rule evaluation) ---------------------------------------------
ALERTS_ACTIVE = Gauge(
    "hypercare_alerts_active", "Open or acknowledged alerts, by severity (info, warning, critical).", ["severity"]
)
ALERT_OWNER = Gauge(
    "hypercare_alert_owner",
    "1 in the one API process that evaluates and writes alerts (it holds the alert lock), 0 in the others.",
)
ALERT_TRANSITIONS = Counter(
    "hypercare_alert_transitions",
    "Alert transitions made by this gateway: raise, escalate, resolve, acknowledge.",
    ["transition"],
)
NOTIFICATION_DELIVERIES = Counter(
    "hypercare_notification_deliveries",
    "Alert notification attempts by channel (webhook, teams, email) and outcome: delivered, retried (failed, tried"
    " again later), dead (given up: out of attempts, or a failure no retry helps such as a 4xx).",
    ["channel", "outcome"],
)
NOTIFICATIONS_PENDING = Gauge(
    "hypercare_notifications_pending", "Alert notifications in the outbox waiting to be delivered (or retried)."
)

# --- stream worker --------------------------------------------------------------------------------
STREAM_RECORDS = Counter(
    "hypercare_stream_records_total",
    "Event records read by the stream worker, by family and outcome "
    "(applied, duplicate: a resent event_id, replayed: already folded in before a restart, dead_letter).",
    ["family", "outcome"],
)
DEAD_LETTERS = Counter("hypercare_dead_letters_total", "Records the stream worker could not process.")
CONSUMER_LAG = Gauge(
    "hypercare_consumer_lag",
    "Records in an event-topic partition not yet processed by this worker.",
    ["topic", "partition"],
)
EVENT_TO_AGGREGATE = Histogram(
    "hypercare_event_to_aggregate_seconds",
    "Time from the broker accepting an event to its unit state being published.",
    buckets=LATENCY_BUCKETS,
)
DB_SINK_BATCH = Histogram(
    "hypercare_db_sink_batch_seconds", "Time to store one batch of events in the database.", buckets=LATENCY_BUCKETS
)
WORKER_BATCHES = Counter("hypercare_worker_batches_total", "Batches of records processed by the stream worker.")
WORKER_RECORDS_TOO_LARGE = Counter(
    "hypercare_worker_records_too_large_total",
    "Records of the stream worker refused as too large, skipped rather than retried (kind: situation, changelog,"
    " dead_letter, or delivery when the broker refused it).",
    ["kind"],
)
WORKER_STUCK_SECONDS = Gauge(
    "hypercare_worker_stuck_seconds",
    "How long the batch in progress on an event-topic partition has waited on the database (0: not waiting).",
    ["topic", "partition"],
)
WORKER_DB_RETRIES = Counter(
    "hypercare_worker_db_retries_total", "Retries of a batch after a transient database error (an outage)."
)

API_METRICS = (
    EVENTS_INGESTED,
    QUARANTINED,
    PRODUCE_LATENCY,
    HTTP_REFUSED,
    AUTH_FAILURES,
    AUDIT_PENDING,
    AUDIT_DROPPED,
    QUARANTINE_PENDING,
    QUARANTINE_TOPIC_ONLY,
    WEBSOCKET_CLIENTS,
    WEBSOCKET_MESSAGES,
    TASK_RESTARTS,
    WEBSOCKETS_REFUSED,
    WEBSOCKET_RESYNCS,
    OPEN_TICKETS,
    LOGIN_FAILURE_RATE,
    LOGINS_15M,
    FLOORWALKERS_ON_DUTY,
    ACTIVE_DIVERSIONS,
    UNITS_BY_HEALTH,
    ALERTS_ACTIVE,
    ALERT_OWNER,
    ALERT_TRANSITIONS,
    NOTIFICATION_DELIVERIES,
    NOTIFICATIONS_PENDING,
)
WORKER_METRICS = (
    STREAM_RECORDS,
    DEAD_LETTERS,
    WORKER_RECORDS_TOO_LARGE,
    QUARANTINED,
    CONSUMER_LAG,
    EVENT_TO_AGGREGATE,
    DB_SINK_BATCH,
    WORKER_BATCHES,
    WORKER_STUCK_SECONDS,
    WORKER_DB_RETRIES,
)


def registry_of(collectors: Iterable[Collector]) -> CollectorRegistry:
    """What one kind of process exports: its own metrics and the process/runtime ones, nothing of the other kind."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in (*collectors, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


API_REGISTRY = registry_of(API_METRICS)
WORKER_REGISTRY = registry_of(WORKER_METRICS)
