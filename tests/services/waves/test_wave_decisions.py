"""A wave's status moved on by the decision log: paused and resumed by roll-out decisions, exited by a handover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypercare.org.registry import load_org
from services.waves.service import Decided, WaveDecisions, effective_status, wave_decisions

REGISTRY = """\
region: {id: SE2321000131-RX, name: Regionen, hsa_prefix: SE2321000131}
waves:
  - {id: w1, name: Våg 1, status: live, actual_go_live: 2025-03-04T05:30:00+00:00}
  - {id: w2, name: Våg 2, status: live, actual_go_live: 2025-04-08T06:00:00+00:00}
  - {id: w3, name: Våg 3, status: readiness, planned_go_live: 2025-06-01T06:00:00+00:00}
administrations:
  - id: SE2321000131-FA
    name: A
    sites:
      - id: SE2321000131-SA1
        name: A1
        wave: w1
        units: [{id: SE2321000131-EA1, name: A1}]
      - id: SE2321000131-SA2
        name: A2
        wave: w2
        units: [{id: SE2321000131-EA2, name: A2}]
      - id: SE2321000131-SA3
        name: A3
        wave: w3
        units: [{id: SE2321000131-EA3, name: A3}]
"""
W2 = datetime(2025, 4, 8, 6, 0, tzinfo=UTC)


def entry(n: int, at: datetime, node: str, **fields: str) -> Decided:
    return Decided(decision_id=f"d{n}", title=f"Beslut {n}", occurred_at=at, unit_id=node, **fields)  # type: ignore[arg-type]


def test_pause_resume_and_handover(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(REGISTRY, encoding="utf-8")
    org = load_org(path)
    log = [
        # Region-wide, after w2 went live: the wave in progress (w2) is paused, w1 is not.
        entry(1, W2 + timedelta(hours=5), org.region.id, rollout_decision="pause"),
        # A handover of w1, with its exit criteria stamped.
        entry(2, W2 + timedelta(hours=6), org.region.id, handover_decision="handover", wave_id="w1"),
        # A site of w3 (not live): concerns no wave.
        entry(3, W2 + timedelta(hours=7), "SE2321000131-SA3", rollout_decision="pause"),
    ]
    found = wave_decisions(org, reversed(log))  # any order in
    assert found["w2"].rollout is not None and found["w2"].rollout.state == "paused"
    assert found["w1"].rollout is None and found["w3"].rollout is None
    assert effective_status("live", found["w2"]) == "paused"
    assert effective_status("live", found["w1"]) == "exited"
    assert effective_status("readiness", found["w3"]) == "readiness"

    resumed = wave_decisions(
        org, [*log, entry(4, W2 + timedelta(hours=9), "SE2321000131-EA2", rollout_decision="continue")]
    )
    rollout = resumed["w2"].rollout
    assert rollout is not None and (rollout.state, rollout.decision_id) == ("resumed", "d4")
    assert effective_status("live", resumed["w2"]) == "live"
    # A continue without an earlier pause says nothing; a roll-back pauses.
    assert wave_decisions(org, [entry(5, W2, "SE2321000131-EA1", rollout_decision="continue")])["w1"].rollout is None
    rolled = wave_decisions(org, [entry(6, W2, "SE2321000131-FA", rollout_decision="rollback")])
    assert [w for w, d in rolled.items() if d.rollout and d.rollout.state == "rolled_back"] == ["w1", "w2"]
    assert effective_status("planned", WaveDecisions()) == "planned"
