"""A seeded, repeatable go-live day as contract-v1 events (DOMAIN.md: what goes wrong at a cut-over).

The scenario runs on its own clock. It is generated forward in one-minute steps from ``start`` with
one ``random.Random(seed)``, so the events of a slice depend only on (org, seed, start, slice), never
on how a caller cuts time into slices. Consequences that lie in the future (a ticket's resolution, a
retried login, a floor walker's next check-in) are scheduled when their cause happens and handed out
when their slice is asked for. Time arithmetic is done in UTC; hour-of-day rules use Europe/Stockholm.

The scenario's "go-live" is its ``start``: failure rates and ticket volumes fade with the hours since.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypercare.org.registry import OrgRegistry, UnitPlacement

STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Go-live Tuesday 12 November 2024; the switch started 05:30, the day shift arrives around 07:00.
GO_LIVE_START = datetime(2024, 11, 12, 6, 30, tzinfo=STOCKHOLM)
STEP = timedelta(minutes=1)

Stamp = Callable[[datetime], datetime]

# ---------------------------------------------------------------------------------------------
# Tables. Rates are per member of staff *at work*, so the hour-of-day table drives every volume.
# ---------------------------------------------------------------------------------------------

# Share of a unit's staff at work per hour of day 00..23 (Europe/Stockholm).
ON_DUTY: dict[str, tuple[float, ...]] = {
    #                  00   01   02   03   04   05   06   07   08   09   10   11
    "round_the_clock": (
        0.20,
        0.20,
        0.20,
        0.20,
        0.20,
        0.20,
        0.25,
        0.45,
        0.45,
        0.45,
        0.45,
        0.45,
        0.45,
        0.55,
        0.50,
        0.35,
        0.35,
        0.35,
        0.35,
        0.35,
        0.35,
        0.30,
        0.20,
        0.20,
    ),
    #                  12   13   14   15   16   17   18   19   20   21   22   23
    "office_hours": (0, 0, 0, 0, 0, 0, 0, 0.30, 1, 1, 1, 1, 0.70, 1, 1, 1, 0.70, 0.20, 0, 0, 0, 0, 0, 0),
}


@dataclass(frozen=True)
class ShiftChange:
    """Arriving staff log in around ``at`` (normal spread ``spread_min``); ``share`` of the unit's staff,
    more than the shift's head count because people log in on a second workstation too."""

    at: time
    spread_min: float
    share: float


# Login storms (DOMAIN.md shift times): day 06:45, evening 12:30-14:00, night 21:00-21:45.
SHIFT_CHANGES: dict[str, tuple[ShiftChange, ...]] = {
    "round_the_clock": (
        ShiftChange(time(6, 55), 12, 0.90),
        ShiftChange(time(13, 5), 22, 0.60),
        ShiftChange(time(21, 15), 12, 0.40),
    ),
    "office_hours": (ShiftChange(time(7, 45), 15, 0.90),),
}

# Per member of staff at work, per hour, at full go-live intensity (logins do not fade).
LOGINS_PER_HOUR = 0.40
TICKETS_PER_HOUR = 0.08
DENIALS_PER_HOUR = 0.08

# (hours since go-live, value), linear in between, flat after the last point.
GO_LIVE_INTENSITY = ((0.0, 1.0), (10.0, 0.8), (24.0, 0.6), (72.0, 0.35), (168.0, 0.2))
LOGIN_FAILURE_RATE = ((0.0, 0.30), (3.0, 0.22), (9.0, 0.12), (24.0, 0.08), (72.0, 0.04))


@dataclass(frozen=True)
class UnitProfile:
    """Head count (all shifts), opening hours and the mix of professions of a kind of unit."""

    staff: int
    hours: str
    roles: Mapping[str, float]


UNIT_PROFILES: dict[str, UnitProfile] = {
    "ed": UnitProfile(
        60,
        "round_the_clock",
        {"lakare": 0.30, "sjukskoterska": 0.40, "underskoterska": 0.22, "medicinsk_sekreterare": 0.08},
    ),
    "ward": UnitProfile(
        40,
        "round_the_clock",
        {
            "lakare": 0.12,
            "sjukskoterska": 0.40,
            "underskoterska": 0.40,
            "medicinsk_sekreterare": 0.04,
            "fysioterapeut": 0.04,
        },
    ),
    "icu": UnitProfile(45, "round_the_clock", {"lakare": 0.15, "sjukskoterska": 0.55, "underskoterska": 0.30}),
    "primary_care": UnitProfile(
        30,
        "office_hours",
        {
            "lakare": 0.25,
            "sjukskoterska": 0.35,
            "underskoterska": 0.15,
            "medicinsk_sekreterare": 0.15,
            "fysioterapeut": 0.10,
        },
    ),
    "outpatient": UnitProfile(
        20,
        "office_hours",
        {
            "lakare": 0.25,
            "sjukskoterska": 0.30,
            "underskoterska": 0.10,
            "medicinsk_sekreterare": 0.20,
            "psykolog": 0.15,
        },
    ),
    "lab": UnitProfile(30, "round_the_clock", {"biomedicinsk_analytiker": 0.85, "medicinsk_sekreterare": 0.15}),
    "radiology": UnitProfile(
        30, "round_the_clock", {"rontgensjukskoterska": 0.55, "lakare": 0.30, "medicinsk_sekreterare": 0.15}
    ),
    "support": UnitProfile(15, "office_hours", {"other": 1.0}),
    "other": UnitProfile(40, "round_the_clock", {"lakare": 0.30, "sjukskoterska": 0.45, "underskoterska": 0.25}),
}
MATERNITY_ROLES = {"barnmorska": 0.45, "sjukskoterska": 0.15, "underskoterska": 0.30, "lakare": 0.10}
# Units outside the wave going live (the latest live wave) only see a trickle (a few staff with early access).
OTHER_WAVE_STAFF_SHARE = 0.05


@dataclass(frozen=True)
class FailureBehaviour:
    """How a first login failure plays out: ``weight`` among first failures, the chance the next try
    fails the same way, and how many failures before the user gives up and calls the service desk."""

    weight: float
    fails_again: float
    give_up_after: int


LOGIN_FAILURES: dict[str, FailureBehaviour] = {
    "card_error": FailureBehaviour(35, 0.45, 3),  # SITHS card, reader, wrong certificate
    "wrong_password": FailureBehaviour(30, 0.35, 3),
    "expired": FailureBehaviour(12, 0.90, 2),
    "no_account": FailureBehaviour(10, 1.00, 2),
    "mfa_failed": FailureBehaviour(8, 0.25, 3),
    "other": FailureBehaviour(5, 0.40, 2),
}
LOCKING_REASONS = frozenset({"card_error", "wrong_password"})
LOCKS_AFTER = 3  # SITHS: the PIN locks after three wrong tries
UNLOCK_MINUTES = (30.0, 120.0)  # until the service desk has unlocked the account

MODULES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "lakare": ("PowerOrders", "PowerChart", "Läkemedelslista", "Remisser", "Dynamic Documentation"),
    "sjukskoterska": ("MAR", "Vårdplan", "iView mätvärden", "Läkemedelslista", "PowerChart"),
    "underskoterska": ("iView mätvärden", "Omvårdnadsdokumentation", "Vårdplan"),
    "medicinsk_sekreterare": ("Diktering", "Tidbok", "Remisser", "Patientregistrering"),
    "barnmorska": ("Förlossningsjournal", "MAR", "Mödrahälsovård"),
    "rontgensjukskoterska": ("RadNet", "Remisser"),
    "biomedicinsk_analytiker": ("PathNet", "Provtagning"),
    "fysioterapeut": ("Rehabjournal", "Tidbok"),
    "psykolog": ("Psykologjournal", "Tidbok"),
    "other": ("PowerChart",),
}
PRIVILEGES = ("läsa", "skriva", "signera", "ordinera", "makulera")


@dataclass(frozen=True)
class CategoryProfile:
    """A ticket category: relative weight per go-live phase, median minutes to resolve, the share
    opened as urgent (priority 1-2) and as a patient-safety risk, and what callers say (Swedish)."""

    mix: tuple[float, float, float]
    resolve_median_min: float
    urgent: float
    patient_safety: float
    summaries: tuple[str, ...]
    resolutions: tuple[str, ...] = ("atgardad", "instruktion_given", "workaround")
    known_issue_id: str | None = None


# Phases: the first 3 hours, 3-8 hours, after 8 hours. Login and permissions dominate early.
PHASE_ENDS_H = (3.0, 8.0)
CATEGORIES: dict[str, CategoryProfile] = {
    "login": CategoryProfile(
        (40, 18, 8),
        25,
        0.10,
        0.00,
        (
            "Kan inte logga in med SITHS-kortet, PIN-koden är spärrad",
            "Fel certifikat väljs vid inloggning, kommer inte in i journalen",
            "Kortläsaren hittar inte kortet på expeditionen",
            "Lösenordet har gått ut och går inte att byta",
            "Konto saknas i nya journalsystemet för nyanställd",
        ),
        ("pin_aterstalld", "certifikat_bytt", "losenord_aterstallt", "konto_skapat"),
    ),
    "permissions": CategoryProfile(
        (30, 22, 12),
        60,
        0.15,
        0.02,
        (
            "Saknar behörighet att ordinera läkemedel trots läkarroll",
            "Befattningen matchar inte enheten, ser inte avdelningens patienter",
            "Kan inte signera anteckningar, modulen är inte tilldelad",
            "Undersköterska når inte mätvärden i iView",
        ),
        ("behorighet_tilldelad", "befattning_korrigerad"),
    ),
    "printing": CategoryProfile(
        (5, 14, 14),
        45,
        0.10,
        0.02,
        (
            "Etikettskrivaren skriver inte ut provrörsetiketter",
            "Patientarmband skrivs ut tomma",
            "Utskrift av läkemedelslistan hamnar på fel skrivare",
        ),
        known_issue_id="KI-101",
    ),
    "orders": CategoryProfile(
        (5, 10, 14),
        70,
        0.25,
        0.10,
        (
            "Labbremiss går inte att skicka, fastnar som ej signerad",
            "Röntgenbeställning saknar undersökningstyp",
            "Ordinationer från akuten följer inte med vid inskrivning på avdelning",
        ),
    ),
    "medication": CategoryProfile(
        (4, 9, 13),
        60,
        0.35,
        0.25,
        (
            "Läkemedelslistan visar dubbla ordinationer efter konverteringen",
            "Kan inte registrera given dos i MAR",
            "Infusion saknar spädningsinstruktion",
        ),
        known_issue_id="KI-110",
    ),
    "documentation": CategoryProfile(
        (4, 9, 12),
        80,
        0.10,
        0.05,
        (
            "Mallen för inskrivningsanteckning saknas",
            "Journalanteckningar från gamla systemet syns inte",
            "Kan inte dokumentera omvårdnadsstatus",
        ),
    ),
    "scheduling": CategoryProfile(
        (2, 5, 8),
        90,
        0.05,
        0.00,
        (
            "Mottagningens tidbok är tom efter migreringen",
            "Kan inte boka återbesök",
        ),
    ),
    "lab": CategoryProfile(
        (2, 4, 6),
        75,
        0.25,
        0.10,
        (
            "Provsvar kommer inte tillbaka till beställaren",
            "Analysen finns inte i beställningskatalogen",
        ),
    ),
    "radiology": CategoryProfile(
        (1, 3, 5),
        90,
        0.20,
        0.08,
        (
            "Ord saknas i röntgensvaren",
            "Bilder går inte att öppna från journalen",
        ),
        known_issue_id="KI-104",
    ),
    "integration": CategoryProfile(
        (1, 2, 3),
        150,
        0.30,
        0.10,
        (
            "Inskrivning från akuten till avdelning misslyckas",
            "Remisser från vårdcentralen kommer inte fram",
            "Ambulansjournalen överförs inte till akuten",
        ),
    ),
    "performance": CategoryProfile(
        (3, 6, 5),
        120,
        0.20,
        0.03,
        (
            "Systemet är mycket långsamt, tar minuter att öppna en patient",
            "Frysningar vid signering",
        ),
        known_issue_id="KI-107",
    ),
    "hardware": CategoryProfile(
        (2, 3, 3),
        60,
        0.05,
        0.00,
        (
            "Arbetsstationen på rondvagnen startar inte",
            "Streckkodsläsaren för armband fungerar inte",
        ),
        ("utrustning_bytt", "atgardad"),
    ),
    "other": CategoryProfile(
        (1, 3, 3),
        60,
        0.02,
        0.00,
        (
            "Fråga om reservrutin på papper",
            "Behöver genomgång av akutliggaren",
        ),
        ("instruktion_given", "atgardad"),
    ),
}
RESOLVE_SPREAD = 0.8  # sigma of the log-normal time to resolve
KNOWN_ISSUE_SHARE = 0.35
# Test identities (Skatteverket's "Tolvan"): callers sometimes paste one; ingest must redact it.
FAKE_IDENTITY_NUMBERS = ("19121212-1212", "121212-1212", "191212121212")
IDENTITY_NUMBER_SHARE = 0.03
TICKET_CHANNELS = {"phone": 45, "chat": 20, "portal": 20, "walk_up": 5, "floorwalker": 10}

# Floor walkers: (shift start, hours, how many), about 20 in all over 24 hours.
WALKER_SHIFTS = ((time(6, 30), 9.0, 10), (time(14, 30), 8.5, 6), (time(22, 30), 8.5, 4))
WALKER_CHECKIN_MIN = (10.0, 25.0)
WALKER_VISIT_MIN = (40.0, 100.0)
WALKER_MOVE_MIN = (5.0, 12.0)
WALKER_BREAK_MIN = 30.0
WALKER_ASSISTS_PER_HOUR = 4.0
WALKER_ESCALATION = 0.08  # per check-in at full intensity
ESCALATION_NOTES = (
    "Avdelningen har gått över till reservrutin på papper, behöver stöd från förvaltningen",
    "Flera sjuksköterskor saknar behörighet till MAR, läkemedelsutdelningen är försenad",
    "Etikettskrivaren är ur funktion, prover kan inte skickas",
    "Läkarna kommer inte in med SITHS-kort, ronden står still",
    "Inskrivningar från akuten fastnar, patienter väntar på plats",
)

# Emergency departments: occupancy as a share of capacity per hour of day (00..23), then go-live load.
ED_LOAD = (
    0.55,
    0.50,
    0.45,
    0.42,
    0.40,
    0.40,
    0.42,
    0.50,
    0.60,
    0.70,
    0.78,
    0.85,
    0.88,
    0.90,
    0.92,
    0.92,
    0.92,
    0.90,
    0.88,
    0.85,
    0.80,
    0.72,
    0.65,
    0.60,
)
ED_REPORT_EVERY = timedelta(minutes=15)
ED_GO_LIVE_LOAD = 0.15  # first-wave EDs: registration and admission are slow
ED_OVERLOAD = 0.40  # the overloaded ED on top of that
ED_DIVERSION_RELIEF = 0.20  # once the diversion has worked for an hour
ED_RECEIVER_LOAD = 0.08

# The ED diversion at Borås (DOMAIN.md: patients referred to other EDs around the go-live).
BORAS_ED = "SE2321000131-ESASBORAKM"
BORAS_ED_CAPACITY = 28
PREFERRED_RECEIVERS = ("SE2321000131-ESUSAHAKM", "SE2321000131-ESIVALIAKM")  # Sahlgrenska, Alingsås
DIVERSION_DECIDED_BY = "produktionschef-sas"
DIVERSION_START_MIN = (5, 12)
DIVERSION_LENGTH_H = (6.0, 9.0)
DIVERSION_EXPECTED_H = 8.0
DIVERSION_REASON = (
    "Överbeläggning och långa väntetider på akutmottagningen under driftstarten av det nya "
    "journalsystemet; ambulanser hänvisas till andra akutmottagningar"
)
DIVERSION_END_REASON = "Belastningen har minskat, akutmottagningen tar åter emot ambulanser"

SOURCES = {
    "ticket": "serviceportal",
    "access": "iam",
    "floorwalker": "fw-tablet",
    "ed.status": "akutliggaren",
    "decision": "console",
}


# ---------------------------------------------------------------------------------------------
# Scenario state
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    ref: str
    role: str


@dataclass
class _Unit:
    placement: UnitPlacement
    profile: UnitProfile
    first_wave: bool
    staff: list[_Staff]


@dataclass
class _Walker:
    walker_id: str
    shift_start: time
    shift_hours: float
    next_at: datetime
    state: str = "off"  # off | on_unit | moving | break
    unit_id: str | None = None
    shift_end: datetime | None = None
    visit_ends: datetime | None = None
    last_report: datetime | None = None
    shift_began: datetime | None = None
    break_taken: bool = False


@dataclass
class _Ed:
    unit_id: str
    capacity: int
    first_wave: bool
    occupancy: float
    next_at: datetime


@dataclass(frozen=True)
class _Diversion:
    diversion_id: str
    unit_id: str
    to_unit_ids: tuple[str, ...]
    starts: datetime
    ends: datetime
    expected_end: datetime


@dataclass(frozen=True)
class _Draft:
    """An event before stamping: scenario-time fields are kept apart so the runner can map them."""

    type: str
    unit_id: str
    source: str
    fields: dict[str, Any]
    times: dict[str, datetime] = field(default_factory=dict)


class CutoverScenario:
    """Go-live traffic for ``org``: logins, permission denials, tickets, floor walkers, ED reports."""

    _handed_out_until: datetime | None

    def __init__(self, org: OrgRegistry, *, seed: int, start: datetime = GO_LIVE_START) -> None:
        self.org = org
        self.seed = seed
        self.start = _utc(start, "start")
        self._reset()

    # -- public --------------------------------------------------------------------------------

    def events_between(self, scenario_from: datetime, scenario_to: datetime, *, stamp: Stamp) -> list[dict[str, Any]]:
        """Contract-v1 event dicts with scenario time in ``[scenario_from, scenario_to)``, in time order.

        ``stamp`` maps scenario time to the real ``occurred_at`` (and ``expected_end``). Slices are
        cheapest asked in order; asking for an earlier slice regenerates from the start.
        """
        lower = _utc(scenario_from, "scenario_from")
        upper = _utc(scenario_to, "scenario_to")
        if upper <= lower:
            return []
        if self._handed_out_until is not None and lower < self._handed_out_until:
            self._reset()
        self._advance(upper)
        out: list[dict[str, Any]] = []
        while self._pending and self._pending[0][0] < upper:
            at, n, draft = heapq.heappop(self._pending)
            if at >= lower:
                out.append(self._render(at, n, draft, stamp))
        self._handed_out_until = upper
        return out

    @property
    def diversion_unit_id(self) -> str | None:
        """The ED that diverts ambulances in this scenario (Borås in the default org)."""
        return self._diversion.unit_id if self._diversion else None

    # -- setup ---------------------------------------------------------------------------------

    def _reset(self) -> None:
        rng = self._rng = random.Random(self.seed)
        self._seq = 0
        self._tickets = 0
        self._cursor = self.start
        self._handed_out_until = None
        self._pending: list[tuple[datetime, int, _Draft]] = []
        self._locked: dict[str, tuple[datetime, datetime]] = {}  # user ref -> (locked at, unlocked at)
        self._trying_until: dict[str, datetime] = {}  # user ref -> end of a login attempt in progress
        self._last_visit: dict[str, datetime] = {}
        self._units = self._build_units(rng)
        self._first_wave_units = [u for u in self._units if u.first_wave and u.placement.kind != "support"]
        self._diversion = self._plan_diversion(rng)
        self._eds = self._build_eds(rng)
        self._walkers = self._build_walkers(rng)

    def _build_units(self, rng: random.Random) -> list[_Unit]:
        live = self.org.latest_live_wave()
        plans: list[tuple[UnitPlacement, UnitProfile, bool, int]] = []
        for placement in self.org.placements.values():
            first_wave = live is None or placement.wave_id == live.id
            profile = UNIT_PROFILES.get(placement.kind, UNIT_PROFILES["other"])
            if _is_maternity(placement.name):
                profile = UnitProfile(profile.staff, profile.hours, MATERNITY_ROLES)
            head_count = profile.staff if first_wave else max(2, round(profile.staff * OTHER_WAVE_STAFF_SHARE))
            plans.append((placement, profile, first_wave, head_count))
        # Pseudonymous user refs "u-4821": unique across the region, never a name or identity number.
        total = sum(plan[3] for plan in plans)
        numbers = iter(rng.sample(range(1000, 1000 + max(9000, 3 * total)), total))
        units: list[_Unit] = []
        for placement, profile, first_wave, head_count in plans:
            roles, weights = zip(*profile.roles.items(), strict=False)
            staff = [_Staff(f"u-{next(numbers)}", rng.choices(roles, weights)[0]) for _ in range(head_count)]
            units.append(_Unit(placement, profile, first_wave, staff))
        return units

    def _plan_diversion(self, rng: random.Random) -> _Diversion | None:
        eds = self.org.emergency_departments
        live = self.org.latest_live_wave()
        diverting = next((e for e in eds if e.unit_id == BORAS_ED), None) or next(
            (e for e in eds if live is not None and e.wave_id == live.id), None
        )
        if diverting is None:
            return None
        preferred = [e.unit_id for e in eds if e.unit_id in PREFERRED_RECEIVERS]
        elsewhere = [e.unit_id for e in eds if e.administration_id != diverting.administration_id]
        receivers = preferred or elsewhere[:2] or [e.unit_id for e in eds if e.unit_id != diverting.unit_id][:2]
        if not receivers:
            return None
        starts = self.start + timedelta(minutes=rng.randint(*DIVERSION_START_MIN))
        return _Diversion(
            diversion_id=f"div-{self.seed}-1",
            unit_id=diverting.unit_id,
            to_unit_ids=tuple(receivers),
            starts=starts,
            ends=starts + timedelta(hours=rng.uniform(*DIVERSION_LENGTH_H)),
            expected_end=starts + timedelta(hours=DIVERSION_EXPECTED_H),
        )

    def _build_eds(self, rng: random.Random) -> list[_Ed]:
        eds: list[_Ed] = []
        for unit in self._units:
            if unit.placement.kind != "ed":
                continue
            overloaded = self._diversion is not None and unit.placement.unit_id == self._diversion.unit_id
            capacity = BORAS_ED_CAPACITY if overloaded else rng.randint(16, 45)
            ed = _Ed(
                unit.placement.unit_id,
                capacity,
                unit.first_wave,
                0.0,
                self.start + timedelta(seconds=rng.uniform(0, ED_REPORT_EVERY.total_seconds())),
            )
            ed.occupancy = self._ed_target(ed, self.start)
            eds.append(ed)
        return eds

    def _build_walkers(self, rng: random.Random) -> list[_Walker]:
        walkers: list[_Walker] = []
        for shift_start, hours, count in WALKER_SHIFTS:
            for _ in range(count):
                walker = _Walker(f"fw-{len(walkers) + 1:02d}", shift_start, hours, self.start)
                on_shift = _shift_containing(walker.shift_start, walker.shift_hours, self.start)
                first = self.start if on_shift else _next_shift_start(shift_start, self.start)
                walker.next_at = first + timedelta(minutes=rng.uniform(0, 10))
                walkers.append(walker)
        return walkers if self._first_wave_units else []

    # -- generation ----------------------------------------------------------------------------

    def _advance(self, until: datetime) -> None:
        while self._cursor < until:
            self._step(self._cursor, self._cursor + STEP)
            self._cursor += STEP

    def _step(self, t0: datetime, t1: datetime) -> None:
        """One scenario minute: Poisson draws per unit, then scheduled ED reports, decisions, walkers."""
        rng = self._rng
        local = (t0 + STEP / 2).astimezone(STOCKHOLM)
        minute_of_day = local.hour * 60 + local.minute + 0.5
        intensity = _curve(GO_LIVE_INTENSITY, self._hours(t0))
        for unit in self._units:
            head_count = len(unit.staff)
            at_work = head_count * ON_DUTY[unit.profile.hours][local.hour]
            storm = sum(
                head_count * change.share * _normal_pdf(_minutes_apart(minute_of_day, change.at), change.spread_min)
                for change in SHIFT_CHANGES[unit.profile.hours]
            )
            for _ in range(_poisson(rng, at_work * LOGINS_PER_HOUR / 60 + storm)):
                self._login(unit, rng.choice(unit.staff), _within(rng, t0))
            for _ in range(_poisson(rng, at_work * intensity * TICKETS_PER_HOUR / 60)):
                self._open_ticket(unit, _within(rng, t0))
            for _ in range(_poisson(rng, at_work * intensity * DENIALS_PER_HOUR / 60)):
                self._permission_denied(unit, rng.choice(unit.staff), _within(rng, t0))
        for ed in self._eds:
            while ed.next_at < t1:
                self._ed_status(ed, ed.next_at)
                ed.next_at += ED_REPORT_EVERY + timedelta(seconds=rng.uniform(-45, 45))
        if self._diversion is not None:
            self._diversion_events(t0, t1)
        for walker in self._walkers:
            while walker.next_at < t1:
                self._walker_acts(walker, walker.next_at)

    def _emit(
        self,
        at: datetime,
        type_: str,
        unit_id: str,
        source: str,
        fields: dict[str, Any],
        times: dict[str, datetime] | None = None,
    ) -> None:
        self._seq += 1
        heapq.heappush(self._pending, (at, self._seq, _Draft(type_, unit_id, source, fields, times or {})))

    def _render(self, at: datetime, n: int, draft: _Draft, stamp: Stamp) -> dict[str, Any]:
        event: dict[str, Any] = {
            # "n" before the sequence: the seed is a date (20241112), and "20241112-1000" reads as an identity number.
            "event_id": f"sim-{self.seed}-n{n}",
            "type": draft.type,
            "occurred_at": _rfc3339(stamp(at)),
            "unit_id": draft.unit_id,
            "source": draft.source,
            **draft.fields,
        }
        for name, value in draft.times.items():
            event[name] = _rfc3339(stamp(value))
        return event

    def _hours(self, at: datetime) -> float:
        return (at - self.start).total_seconds() / 3600

    # -- access --------------------------------------------------------------------------------

    def _login(self, unit: _Unit, user: _Staff, at: datetime) -> None:
        """One attempt to get in: failures are retried; three card/PIN failures lock the account."""
        rng = self._rng
        if at < self._trying_until.get(user.ref, at):
            return  # already at a keyboard, retrying: one attempt at a time per person
        locked = self._locked.get(user.ref)
        if locked is not None and locked[0] <= at < locked[1]:
            self._login_event(unit, user, at, "account_locked")
            return
        if rng.random() >= _curve(LOGIN_FAILURE_RATE, self._hours(at)):
            self._login_event(unit, user, at, None)
            return
        reasons, weights = zip(*((r, b.weight) for r, b in LOGIN_FAILURES.items()), strict=False)
        reason = rng.choices(reasons, weights)[0]
        behaviour = LOGIN_FAILURES[reason]
        failures = 0
        while True:
            self._login_event(unit, user, at, reason)
            failures += 1
            at += timedelta(seconds=rng.uniform(20, 120))
            self._trying_until[user.ref] = at
            if reason in LOCKING_REASONS and failures >= LOCKS_AFTER:
                self._login_event(unit, user, at, "account_locked")
                self._locked[user.ref] = (at, at + timedelta(minutes=rng.uniform(*UNLOCK_MINUTES)))
                return
            if failures >= behaviour.give_up_after:
                return
            if rng.random() >= behaviour.fails_again:
                self._login_event(unit, user, at, None)
                return

    def _login_event(self, unit: _Unit, user: _Staff, at: datetime, reason: str | None) -> None:
        fields: dict[str, Any] = {"user_ref": user.ref, "outcome": "success" if reason is None else "failure"}
        if reason is not None:
            fields["reason"] = reason
        self._emit(at, "access.login", unit.placement.unit_id, SOURCES["access"], fields)

    def _permission_denied(self, unit: _Unit, user: _Staff, at: datetime) -> None:
        """A position that does not match the unit: the same user often hits the wall a few times."""
        rng = self._rng
        fields: dict[str, Any] = {
            "user_ref": user.ref,
            "role": user.role,
            "module": rng.choice(MODULES_BY_ROLE.get(user.role, MODULES_BY_ROLE["other"])),
        }
        if rng.random() < 0.6:
            fields["privilege"] = rng.choice(PRIVILEGES)
        tries = 1 + (rng.randint(1, 3) if rng.random() < 0.4 else 0)
        for _ in range(tries):
            self._emit(at, "access.permission_denied", unit.placement.unit_id, SOURCES["access"], dict(fields))
            at += timedelta(minutes=rng.uniform(2, 8))

    # -- tickets -------------------------------------------------------------------------------

    def _open_ticket(self, unit: _Unit, at: datetime) -> None:
        """A service-portal case and its future: picked up, sometimes waiting or escalated, resolved."""
        rng = self._rng
        hours = self._hours(at)
        phase = sum(hours >= end for end in PHASE_ENDS_H)
        names = list(CATEGORIES)
        category = rng.choices(names, [CATEGORIES[c].mix[phase] for c in names])[0]
        profile = CATEGORIES[category]
        patient_safety = rng.random() < profile.patient_safety
        if patient_safety:
            priority = 1 if rng.random() < 0.4 else 2
        elif rng.random() < profile.urgent:
            priority = 1 if rng.random() < 0.08 else 2
        else:
            priority = 3 if rng.random() < 0.7 else 4
        summary = rng.choice(profile.summaries)
        if rng.random() < IDENTITY_NUMBER_SHARE:
            summary += f". Gäller patient {rng.choice(FAKE_IDENTITY_NUMBERS)}"
        self._tickets += 1
        ticket_id = f"INC-{self.seed}-{self._tickets:06d}"
        unit_id = unit.placement.unit_id
        channels, weights = zip(*TICKET_CHANNELS.items(), strict=False)
        self._emit(
            at,
            "ticket.opened",
            unit_id,
            SOURCES["ticket"],
            {
                "ticket_id": ticket_id,
                "channel": rng.choices(channels, weights)[0],
                "category": category,
                "priority": priority,
                "summary": summary,
                "patient_safety": patient_safety,
            },
        )

        median = profile.resolve_median_min * (0.6 if priority == 1 else 1.0)
        resolve_after = max(3.0, rng.lognormvariate(math.log(median), RESOLVE_SPREAD))

        def later(share: float) -> datetime:
            return at + timedelta(minutes=resolve_after * share)

        if rng.random() < 0.8:
            update: dict[str, Any] = {"ticket_id": ticket_id, "status": "in_progress"}
            if category == "login" and rng.random() < 0.1:
                update["category"] = "permissions"  # it was the position, not the card
            self._emit(later(rng.uniform(0.1, 0.35)), "ticket.updated", unit_id, SOURCES["ticket"], update)
        if rng.random() < (0.6 if priority == 1 else 0.12):
            escalation: dict[str, Any] = {"ticket_id": ticket_id, "status": "escalated"}
            if priority > 1 and rng.random() < 0.5:
                escalation["priority"] = priority - 1
            self._emit(later(rng.uniform(0.4, 0.6)), "ticket.updated", unit_id, SOURCES["ticket"], escalation)
        elif rng.random() < 0.25:
            self._emit(
                later(rng.uniform(0.4, 0.7)),
                "ticket.updated",
                unit_id,
                SOURCES["ticket"],
                {"ticket_id": ticket_id, "status": "waiting"},
            )
        resolved: dict[str, Any] = {"ticket_id": ticket_id, "resolution_code": rng.choice(profile.resolutions)}
        if profile.known_issue_id and rng.random() < KNOWN_ISSUE_SHARE:
            resolved.update(resolution_code="kant_fel", known_issue_id=profile.known_issue_id)
        self._emit(later(1.0), "ticket.resolved", unit_id, SOURCES["ticket"], resolved)

    # -- floor walkers -------------------------------------------------------------------------

    def _walker_acts(self, walker: _Walker, at: datetime) -> None:
        """A small state machine: check in, report every 10-25 min, move on, take a break, go home."""
        rng = self._rng
        if walker.state == "off":
            bounds = _shift_containing(walker.shift_start, walker.shift_hours, at)
            if bounds is None:
                walker.next_at = _next_shift_start(walker.shift_start, at) + timedelta(minutes=rng.uniform(0, 10))
                return
            walker.shift_began, walker.shift_end = bounds
            walker.break_taken = False
            self._arrive(walker, self._pick_unit(None), at)
            return
        assert walker.unit_id is not None and walker.shift_end is not None
        if at >= walker.shift_end:
            if walker.state != "moving":  # between units the walker is already checked out
                self._emit(
                    at, "floorwalker.checkout", walker.unit_id, SOURCES["floorwalker"], {"walker_id": walker.walker_id}
                )
            walker.state, walker.unit_id = "off", None
            walker.next_at = _next_shift_start(walker.shift_start, at) + timedelta(minutes=rng.uniform(0, 10))
            return
        if walker.state == "moving":
            self._arrive(walker, walker.unit_id, at)
            return
        if walker.state == "break":
            self._walker_checkin(walker, at, "available")
            walker.state = "on_unit"
            self._schedule(walker, at + timedelta(minutes=rng.uniform(*WALKER_CHECKIN_MIN)))
            return
        assert walker.shift_began is not None and walker.visit_ends is not None
        into_shift = (at - walker.shift_began) / (walker.shift_end - walker.shift_began)
        if not walker.break_taken and into_shift > 0.4 and rng.random() < 0.35:
            self._walker_checkin(walker, at, "break")
            walker.state, walker.break_taken = "break", True
            self._schedule(walker, at + timedelta(minutes=WALKER_BREAK_MIN))
        elif at >= walker.visit_ends:
            self._emit(
                at, "floorwalker.checkout", walker.unit_id, SOURCES["floorwalker"], {"walker_id": walker.walker_id}
            )
            walker.state, walker.unit_id = "moving", self._pick_unit(walker.unit_id)
            self._schedule(walker, at + timedelta(minutes=rng.uniform(*WALKER_MOVE_MIN)))
        else:
            self._walker_checkin(walker, at, None)
            self._schedule(walker, at + timedelta(minutes=rng.uniform(*WALKER_CHECKIN_MIN)))

    def _arrive(self, walker: _Walker, unit_id: str, at: datetime) -> None:
        walker.state, walker.unit_id, walker.last_report = "on_unit", unit_id, at
        walker.visit_ends = at + timedelta(minutes=self._rng.uniform(*WALKER_VISIT_MIN))
        self._last_visit[unit_id] = at
        self._emit(
            at,
            "floorwalker.checkin",
            unit_id,
            SOURCES["floorwalker"],
            {
                "walker_id": walker.walker_id,
                "status": "on_unit",
                "assists": 0,
                "needs_escalation": False,
            },
        )
        self._schedule(walker, at + timedelta(minutes=self._rng.uniform(*WALKER_CHECKIN_MIN)))

    def _walker_checkin(self, walker: _Walker, at: datetime, status: str | None) -> None:
        rng = self._rng
        assert walker.unit_id is not None
        intensity = _curve(GO_LIVE_INTENSITY, self._hours(at))
        minutes = (at - (walker.last_report or at)).total_seconds() / 60
        assists = _poisson(rng, minutes / 60 * WALKER_ASSISTS_PER_HOUR * intensity)
        if status is None:
            status = (
                ("assisting" if rng.random() < 0.7 else "on_unit")
                if assists
                else ("available" if rng.random() < 0.5 else "on_unit")
            )
        fields: dict[str, Any] = {
            "walker_id": walker.walker_id,
            "status": status,
            "assists": assists,
            "needs_escalation": False,
        }
        if assists:
            phase = sum(self._hours(at) >= end for end in PHASE_ENDS_H)
            names = list(CATEGORIES)
            picked = rng.choices(names, [CATEGORIES[c].mix[phase] for c in names], k=min(assists, 3))
            fields["categories"] = sorted(set(picked))
        if status != "break" and rng.random() < WALKER_ESCALATION * intensity:
            fields.update(needs_escalation=True, note=rng.choice(ESCALATION_NOTES))
        walker.last_report = at
        self._last_visit[walker.unit_id] = at
        self._emit(at, "floorwalker.checkin", walker.unit_id, SOURCES["floorwalker"], fields)

    def _schedule(self, walker: _Walker, at: datetime) -> None:
        assert walker.shift_end is not None
        walker.next_at = min(at, walker.shift_end)

    def _pick_unit(self, current: str | None) -> str:
        """Where to go next: busy units first, and those nobody has visited for a while."""
        candidates = [u for u in self._first_wave_units if u.placement.unit_id != current] or self._first_wave_units
        weights = []
        for unit in candidates:
            last = self._last_visit.get(unit.placement.unit_id)
            idle = 240.0 if last is None else min(240.0, (self._cursor - last).total_seconds() / 60)
            weights.append(len(unit.staff) * (1 + idle / 60))
        return self._rng.choices(candidates, weights)[0].placement.unit_id

    # -- emergency departments -----------------------------------------------------------------

    def _ed_target(self, ed: _Ed, at: datetime) -> float:
        load = ED_LOAD[at.astimezone(STOCKHOLM).hour]
        if ed.first_wave:
            load += ED_GO_LIVE_LOAD * _curve(GO_LIVE_INTENSITY, self._hours(at))
        diversion = self._diversion
        if diversion is not None:
            active = diversion.starts <= at < diversion.ends
            if ed.unit_id == diversion.unit_id:
                load += ED_OVERLOAD
                if active and at - diversion.starts >= timedelta(hours=1):
                    load -= ED_DIVERSION_RELIEF
            elif active and ed.unit_id in diversion.to_unit_ids:
                load += ED_RECEIVER_LOAD
        return load

    def _ed_status(self, ed: _Ed, at: datetime) -> None:
        rng = self._rng
        ed.occupancy = max(0.1, 0.5 * ed.occupancy + 0.5 * self._ed_target(ed, at) + rng.gauss(0, 0.04))
        in_department = round(ed.capacity * ed.occupancy)
        waiting = max(0, round((ed.occupancy - 0.55) * ed.capacity * 0.6 + rng.gauss(0, 1.5)))
        longest = round(15 + waiting * 9 + rng.uniform(0, 20)) if waiting else rng.randint(0, 15)
        self._emit(
            at,
            "ed.status",
            ed.unit_id,
            SOURCES["ed.status"],
            {
                "patients_waiting": waiting,
                "patients_in_department": in_department,
                "capacity": ed.capacity,
                "longest_wait_minutes": longest,
            },
        )

    def _diversion_events(self, t0: datetime, t1: datetime) -> None:
        diversion = self._diversion
        assert diversion is not None
        if t0 <= diversion.starts < t1:
            self._emit(
                diversion.starts,
                "ed.diversion_started",
                diversion.unit_id,
                SOURCES["decision"],
                {
                    "diversion_id": diversion.diversion_id,
                    "to_unit_ids": list(diversion.to_unit_ids),
                    "scope": "ambulance",
                    "reason": DIVERSION_REASON,
                    "decided_by": DIVERSION_DECIDED_BY,
                },
                {"expected_end": diversion.expected_end},
            )
        if t0 <= diversion.ends < t1:
            self._emit(
                diversion.ends,
                "ed.diversion_ended",
                diversion.unit_id,
                SOURCES["decision"],
                {
                    "diversion_id": diversion.diversion_id,
                    "decided_by": DIVERSION_DECIDED_BY,
                    "reason": DIVERSION_END_REASON,
                },
            )


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("stamp() must return a timezone-aware datetime")
    return value.isoformat(timespec="milliseconds")


def _within(rng: random.Random, t0: datetime) -> datetime:
    return t0 + timedelta(milliseconds=rng.randrange(60_000))


def _curve(points: tuple[tuple[float, float], ...], x: float) -> float:
    """Piecewise-linear through ``points``, flat before the first and after the last."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _normal_pdf(x: float, sigma: float) -> float:
    return math.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def _minutes_apart(minute_of_day: float, at: time) -> float:
    """Distance on the 24-hour circle, so a 23:50 storm also reaches 00:05."""
    diff = abs(minute_of_day - (at.hour * 60 + at.minute)) % 1440
    return min(diff, 1440 - diff)


def _is_maternity(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("bb ") or " bb " in f" {lowered} " or "barnmorsk" in lowered or "förlossning" in lowered


def _shift_occurrences(start: time, hours: float, around: datetime) -> list[tuple[datetime, datetime]]:
    day = around.astimezone(STOCKHOLM).date()
    out = []
    for offset in (-1, 0, 1):
        begins = datetime.combine(day + timedelta(days=offset), start, tzinfo=STOCKHOLM).astimezone(UTC)
        out.append((begins, begins + timedelta(hours=hours)))
    return out


def _shift_containing(start: time, hours: float, at: datetime) -> tuple[datetime, datetime] | None:
    return next(((b, e) for b, e in _shift_occurrences(start, hours, at) if b <= at < e), None)


def _next_shift_start(start: time, at: datetime) -> datetime:
    return min(b for b, _ in _shift_occurrences(start, 0, at + timedelta(seconds=1)) if b > at)


__all__ = ["BORAS_ED", "GO_LIVE_START", "STOCKHOLM", "CutoverScenario"]
