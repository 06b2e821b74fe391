"""The offset guard: a partition of an event topic is processed without gaps, whatever Faust delivers."""

from __future__ import annotations

from dataclasses import dataclass

from faust.types import TP

from streams.offset_guard import MAX_REWINDS, REWIND_RETRY_SECONDS, OffsetGuard

EVENTS = "hc.events.tickets"
CHANGELOG = "hc-streams-units-tickets-changelog"


@dataclass(frozen=True)
class Rec:
    topic: str
    partition: int
    offset: int


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock | None = None) -> OffsetGuard:
    return OffsetGuard(is_gapless=lambda topic: topic == EVENTS, clock=clock or Clock())


def recs(*offsets: int, partition: int = 0, topic: str = EVENTS) -> list[Rec]:
    return [Rec(topic, partition, offset) for offset in offsets]


def test_contiguous_records_pass_and_advance_the_offset_due() -> None:
    g = guard()
    g.seeked(TP(EVENTS, 0), 10)
    admitted, rewind = g.admit(recs(10, 11, 12))
    assert [r.offset for r in admitted] == [10, 11, 12]
    assert rewind == {}
    assert g.process_due[TP(EVENTS, 0)] == 13


def test_a_jump_drops_the_rest_of_the_partition_and_asks_for_a_rewind() -> None:
    g = guard()
    g.seeked(TP(EVENTS, 0), 10)
    batch = recs(10, 11, 15, 16) + recs(3, 4, partition=1)
    admitted, rewind = g.admit(batch)
    assert [(r.partition, r.offset) for r in admitted] == [(0, 10), (0, 11), (1, 3), (1, 4)]
    assert rewind == {TP(EVENTS, 0): 12}


def test_records_admitted_before_are_dropped_even_within_one_batch() -> None:
    g = guard()
    g.seeked(TP(EVENTS, 0), 10)
    g.admit(recs(10, 11, 12))
    admitted, rewind = g.admit(recs(11, 12, 13, 12, 13, 14))
    assert [r.offset for r in admitted] == [13, 14]
    assert rewind == {}


def test_after_a_seek_back_the_same_records_are_admitted_again() -> None:
    g = guard()
    g.seeked(TP(EVENTS, 0), 10)
    g.admit(recs(10, 11, 12))
    g.seeked(TP(EVENTS, 0), 11)  # recovery: back to the committed offset
    assert [r.offset for r in g.admit(recs(11, 12))[0]] == [11, 12]


def test_a_record_fetched_again_without_a_seek_is_not_queued_twice() -> None:
    g = guard()
    tp = TP(EVENTS, 0)
    g.seeked(tp, 10)
    assert [g.fetched_in_order(tp, o) for o in (10, 11, 12)] == [True, True, True]
    assert [g.already_fetched(tp, o) for o in (11, 12, 13)] == [True, True, False]
    g.seeked(tp, 11)
    assert not g.already_fetched(tp, 11)
    assert not g.already_fetched(TP(CHANGELOG, 0), 0)  # compacted topics: never judged


def test_a_rewind_under_way_is_not_asked_for_again_until_it_is_overdue() -> None:
    clock = Clock()
    g = guard(clock)
    g.seeked(TP(EVENTS, 0), 10)
    assert g.admit(recs(14))[1] == {TP(EVENTS, 0): 10}
    assert g.admit(recs(15)) == ([], {})  # stale records still queued: dropped quietly
    clock.now += REWIND_RETRY_SECONDS
    assert g.admit(recs(16))[1] == {TP(EVENTS, 0): 10}
    admitted, rewind = g.admit(recs(10, 11))
    assert [r.offset for r in admitted] == [10, 11] and rewind == {}


def test_records_removed_from_the_log_are_given_up_after_repeated_rewinds() -> None:
    clock = Clock()
    g = guard(clock)
    g.seeked(TP(EVENTS, 0), 10)
    for _ in range(MAX_REWINDS):
        assert g.admit(recs(20))[1] == {TP(EVENTS, 0): 10}
        clock.now += REWIND_RETRY_SECONDS
    admitted, rewind = g.admit(recs(20, 21))
    assert [r.offset for r in admitted] == [20, 21] and rewind == {}


def test_fetch_order_is_checked_from_the_last_seek() -> None:
    g = guard()
    tp = TP(EVENTS, 0)
    g.seeked(tp, 238)
    assert g.fetched_in_order(tp, 238)
    assert not g.fetched_in_order(tp, 257)  # prefetched before the seek
    assert g.fetched_in_order(tp, 239)


def test_other_topics_are_never_held_back() -> None:
    g = guard()
    tp = TP(CHANGELOG, 0)
    g.seeked(tp, 5)
    assert g.fetched_in_order(tp, 50)  # compacted topics have gaps
    admitted, rewind = g.admit(recs(50, 90, topic=CHANGELOG))
    assert len(admitted) == 2 and rewind == {}


def test_before_any_seek_the_first_record_sets_the_baseline() -> None:
    g = guard()
    admitted, rewind = g.admit(recs(7, 8))
    assert [r.offset for r in admitted] == [7, 8] and rewind == {}
    assert g.admit(recs(10))[1] == {TP(EVENTS, 0): 9}
