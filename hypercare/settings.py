"""The one settings object of every Hypercare process, read from ``HYPERCARE_*`` variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from limits import parse_many
from pydantic import AwareDatetime, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What ingest does with an event whose unit_id the org registry lacks: refuse it (per item), or accept it under
# "unmapped" with a data-quality warning (while a registry lags behind the sources).
UnknownUnits = Literal["reject", "accept"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HYPERCARE_", env_file=".env", extra="ignore")

    # Transport and storage. Unset means "embedded": `hypercare up` starts Tansu and uses SQLite.
    kafka_bootstrap: str | None = None
    database_url: str | None = None
    data_dir: Path = Path("./var")

    host: str = "127.0.0.1"
    port: int = 8000

    org_file: Path | None = None
    rules_file: Path | None = None
    duties_file: Path | None = None

    # Topic names are "<prefix>.<family>"; a prefix per deployment (or per test) isolates them.
    topic_prefix: str = "hypercare"
    topic_partitions: int = 4
    topic_replication: int = 1

    # Request limits. The body limit holds for every route (413 before anything is parsed or authenticated);
    # JSON nested deeper than max_json_depth is refused with 422 (deep nesting costs recursion, not bytes).
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_events_per_request: int = 5000
    unknown_units: UnknownUnits = "reject"
    max_json_depth: int = Field(default=64, ge=8, le=512)

    # Per-token request budgets in `limits` notation ("600/minute", several joined by ";"; empty: no limit),
    # kept in memory by each API process (every replica keeps its own). Ingest is POST /api/v1/events;
    # renders are the report's HTML/PDF/preview and snapshots and the decision log's CSV; reads is the rest.
    rate_limit_ingest: str = "3000/minute"
    rate_limit_reads: str = "1200/minute"
    rate_limit_renders: str = "30/minute"
    # The identity provider's routes (/auth/login, /auth/callback, /auth/logout), per client address: a sign-in is
    # two of them, and a ward's or an office's people may share one address behind NAT.
    rate_limit_sign_in: str = "120/minute"

    # Stream worker. The short session suits Tansu (joins are held for session/2) and Kafka alike.
    worker_id: str = "hypercare-worker"
    worker_batch_size: int = 500
    # Changelog writes and offset commits at most this often: a crash replays up to this much.
    worker_checkpoint_seconds: float = Field(default=1.0, gt=0, le=60)
    worker_web_port: int = 6066
    kafka_session_timeout: float = 3.0
    kafka_heartbeat_interval: float = 1.0
    # How long a consumer's fetch may wait for records. Tansu only answers at the end of the wait, so on
    # the embedded broker this is the post → console latency; Apache Kafka answers as records arrive.
    kafka_fetch_wait_ms: int = Field(default=50, ge=1, le=10_000)
    worker_store: str = "memory://"
    # A batch waiting this long on the database (an outage) makes the worker's /readyz fail.
    worker_stuck_seconds: float = Field(default=60.0, gt=0)

    # Console gateway.
    gateway_tick_seconds: float = 1.0
    gateway_debounce_seconds: float = 0.05
    gateway_client_send_timeout: float = 10.0
    # A failed task of the API process (situation store, hub, alerts, webhook) is restarted after a backoff
    # that doubles per failure in a row up to this many seconds (services/supervision.py).
    task_restart_backoff_max: float = Field(default=30.0, gt=0)
    # WebSocket clients one API process serves; more are refused (close code 1013, try again later).
    max_websockets: int = Field(default=1000, ge=1)
    # At most one snapshot per client this often; a resync asked for sooner is served when the time is up.
    websocket_resync_seconds: float = Field(default=2.0, ge=0)
    # Permessage-deflate (RFC 7692) offered to WebSocket clients that ask for it: compressed per connection, so its
    # CPU grows with clients, not with distinct messages (README "Permessage-deflate at 1,000 live clients").
    websocket_deflate: bool = False

    # Alert notifications (services/notifications): who hears of which alert transition, at which escalation level
    # and org scope, by signed webhook, Teams or e-mail. Unset: no recipients but the webhook below.
    notifications_file: Path | None = None
    # A generic webhook recipient of every transition at every level (kept from before the notifications file); its
    # documents are signed when the secret is set.
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = Field(default=None, repr=False)
    # Each delivery attempt (an HTTP post, an SMTP session) may take this long.
    notification_timeout: float = Field(default=10.0, gt=0, le=120)
    # A notification that fails this many times (or once for good, e.g. a 4xx) is dead: kept, shown, not retried.
    notification_max_attempts: int = Field(default=8, ge=1, le=50)
    # Retries wait this long, doubled per attempt, at most notification_backoff_max.
    notification_backoff: float = Field(default=5.0, gt=0)
    notification_backoff_max: float = Field(default=600.0, gt=0)
    notification_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # E-mail recipients go through this SMTP server (STARTTLS unless smtp_starttls is false; smtp_ca_file verifies a
    # server certificate of a private CA). The password comes from the environment (or a Kubernetes Secret).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_ca_file: Path | None = None
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_from: str = "hypercare@localhost"

    # Where "a day" starts and ends: stop criteria per day and the daily situation report.
    timezone: str = "Europe/Stockholm"
    # The go-live of every unit whose wave (org registry) gives no actual go-live (ISO time with its offset):
    # never-visited units count their time without a floor-walker visit from it. `hypercare up --simulate` sets
    # it to the simulation's start when unset.
    go_live_at: AwareDatetime | None = None

    token_cache_seconds: float = 10.0
    # While the database is unreachable, a token verified within this many seconds keeps working (a token not
    # seen before gets 503), so the live picture and ingest outlast a short database outage.
    token_outage_grace_seconds: float = Field(default=300.0, ge=0)
    # Retry-After (seconds) of a 503 answered because the database is unreachable.
    database_retry_after_seconds: int = Field(default=5, ge=1)
    log_level: str = "INFO"
    # The API token of the client commands (`hypercare send`, `hypercare replay`; or their --token-file): from the
    # environment, never a command-line argument (shell history, process lists), never printed.
    token: SecretStr | None = None

    # Presence of a floor walker who stops reporting expires after this long.
    floorwalker_presence_minutes: int = Field(default=240, ge=1)

    # Console sign-in with the region's OpenID provider (services/auth/oidc.py). Unset issuer: pasted tokens only.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = Field(default=None, repr=False)
    oidc_claims_file: Path | None = None  # groups → roles and the scope claim; default services/auth/oidc_claims.yaml
    # The console's origin as browsers see it: the OIDC redirect URI, Origin checks, Secure cookies; with https,
    # responses carry Strict-Transport-Security and the CSP names its wss: origin for the WebSocket.
    public_url: str | None = None
    session_hours: float = Field(default=10.0, gt=0, le=24 * 14)

    # Source systems' raw records (POST /api/v1/sources/{source}/records; hypercare/sources): the mapping files in
    # force, comma-separated shipped names (servicenow_incident, entra_signin) or YAML paths, plus every *.yaml of
    # sources_dir; source_units_file replaces every mapping's unit lookup table. The pseudonym key (HMAC-SHA256)
    # hides the fields a mapping pseudonymises; a mapping with such fields refuses to start without it.
    source_mappings: str = ""
    sources_dir: Path | None = None
    source_units_file: Path | None = None
    pseudonym_key: str | None = Field(default=None, repr=False)

    # Connectors (`hypercare connector run tickets|signins`): where they post (default: this host and port) and with
    # which source token; the ServiceNow instance polled for tickets (basic auth or OAuth client credentials).
    connector_api_url: str | None = None
    connector_token: str | None = Field(default=None, repr=False)
    connector_poll_seconds: float = Field(default=30.0, gt=0)
    # Records per request to the API (and per ServiceNow page: sysparm_limit); at most HYPERCARE_MAX_EVENTS_PER_REQUEST.
    connector_batch_size: int = Field(default=200, ge=1, le=5000)
    servicenow_url: str | None = None
    servicenow_table: str = Field(default="incident", pattern=r"^[a-z0-9_]{1,80}$")
    servicenow_user: str | None = None
    servicenow_password: str | None = Field(default=None, repr=False)
    servicenow_client_id: str | None = None
    servicenow_client_secret: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer:
            missing = [name for name in ("oidc_client_id", "public_url") if not getattr(self, name)]
            if missing:
                raise ValueError("HYPERCARE_OIDC_ISSUER needs " + ", ".join(f"HYPERCARE_{m.upper()}" for m in missing))
        if self.public_url and not self.public_url.startswith(("https://", "http://")):
            raise ValueError("HYPERCARE_PUBLIC_URL must start with https:// (or http:// for a local test)")
        if bool(self.servicenow_user) != bool(self.servicenow_password):
            raise ValueError("HYPERCARE_SERVICENOW_USER and HYPERCARE_SERVICENOW_PASSWORD go together")
        if bool(self.servicenow_client_id) != bool(self.servicenow_client_secret):
            raise ValueError("HYPERCARE_SERVICENOW_CLIENT_ID and HYPERCARE_SERVICENOW_CLIENT_SECRET go together")
        return self

    @field_validator("rate_limit_ingest", "rate_limit_reads", "rate_limit_renders", "rate_limit_sign_in")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        if value.strip():
            parse_many(value)  # a typo refuses the start
        return value.strip()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def embedded_broker(self) -> bool:
        return self.kafka_bootstrap is None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hypercare.db').resolve()}"

    @property
    def bootstrap(self) -> str:
        if self.kafka_bootstrap is None:
            raise RuntimeError("HYPERCARE_KAFKA_BOOTSTRAP is not set and no embedded broker runs")
        return self.kafka_bootstrap


@lru_cache
def get_settings() -> Settings:
    return Settings()
