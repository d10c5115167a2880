"""The schedule window on the client's side: a sliding window, shared per server and user."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prefect_nextcloud import NextcloudCredentials
from prefect_nextcloud.client.pacing import SchedulePacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_counts_only_what_was_let_through() -> None:
    clock = Clock()
    pacer = SchedulePacer(3, 10.0, clock=clock)
    for _ in range(3):
        assert pacer.reserve() == 0
        pacer.accepted()
    assert pacer.available() == 0
    # The oldest call leaves the window 10 s (and 0.1 % for the clocks' rates) after its answer.
    assert pacer.reserve() == pytest.approx(10.01)
    clock.now += 4
    assert pacer.reserve() == pytest.approx(6.01)  # nothing was taken by the refused tries
    clock.now += 6.02
    assert pacer.available() == 3
    assert pacer.reserve() == 0


def test_a_call_counts_from_its_answer_and_holds_its_slot_while_in_flight() -> None:
    clock = Clock()
    pacer = SchedulePacer(2, 10.0, clock=clock)
    assert pacer.reserve() == 0
    assert pacer.reserve() == 0
    clock.now += 30  # both still in flight: their slots stay taken however long they take
    assert pacer.available() == 0
    assert pacer.wait_seconds() == pytest.approx(10.01)
    pacer.accepted()
    pacer.unanswered()  # a lost answer: the server may have counted the call on arrival
    clock.now += 10.0
    assert pacer.available() == 0
    clock.now += 0.02
    assert pacer.available() == 2


def test_a_refused_call_gives_its_slot_back() -> None:
    clock = Clock()
    pacer = SchedulePacer(2, 10.0, clock=clock)
    assert pacer.reserve() == 0
    pacer.refused()  # the server did not count it
    clock.now += 5.0  # the hold after a first refusal: window / limit
    assert pacer.reserve() == 0
    assert pacer.reserve() == 0


def test_a_refusal_holds_back_with_growing_waits_up_to_a_window() -> None:
    clock = Clock()
    pacer = SchedulePacer(20, 120.0, clock=clock)
    assert pacer.refused() == pytest.approx(6.0)
    assert pacer.reserve() == pytest.approx(6.0)
    assert pacer.available() == 0
    clock.now += 6
    assert pacer.refused() == pytest.approx(12.0)
    for _ in range(10):
        hold = pacer.refused()
    assert hold == pytest.approx(120.0)
    pacer.accepted()
    clock.now += 120
    assert pacer.refused() == pytest.approx(6.0)


def test_clients_of_one_server_and_user_share_one_window() -> None:
    first = SchedulePacer.for_user("https://a.example", "alice", 20, 120.0)
    assert SchedulePacer.for_user("https://a.example", "alice", 20, 120.0) is first
    assert SchedulePacer.for_user("https://a.example", "bob", 20, 120.0) is not first
    assert SchedulePacer.for_user("https://b.example", "alice", 20, 120.0) is not first
    # The newest settings apply to the shared window.
    assert SchedulePacer.for_user("https://a.example", "alice", 5, 60.0).limit == 5


def test_shared_windows_are_bounded() -> None:
    for n in range(200):
        SchedulePacer.for_user(f"https://host{n}.example", "alice", 20, 120.0)
    assert len(SchedulePacer._shared) <= 64


@pytest.mark.parametrize(
    ("limit", "window"), [(0, 120.0), (-1, 120.0), (True, 120.0), (20, 0), (20, -5), (20, "x")]
)
def test_an_invalid_limit_or_window_is_refused(limit: object, window: object) -> None:
    with pytest.raises(ValueError, match="schedule_"):
        SchedulePacer(limit, window)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("schedule_limit", 0),
        ("schedule_window_seconds", 0),
        ("schedule_window_seconds", -1),
        ("schedule_window_seconds", float("inf")),
    ],
)
def test_the_block_refuses_an_invalid_schedule_limit(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        NextcloudCredentials(
            base_url="https://cloud.example.com",
            user_id="alice",
            app_password="secret-app-password",
            **{field: value},
        )


def test_waiting_for_several_slots_waits_for_the_oldest_calls_to_leave() -> None:
    clock = Clock()
    pacer = SchedulePacer(3, 10.0, clock=clock)
    for step in range(3):
        clock.now = 1000.0 + step
        pacer.reserve()
        pacer.accepted()
    clock.now = 1005.0
    assert pacer.wait_seconds(1) == pytest.approx(5.01)  # the first leaves at 1010.01
    assert pacer.wait_seconds(3) == pytest.approx(7.01)  # all three have left at 1012.01
    assert pacer.wait_seconds(50) == pytest.approx(7.01)  # never more than a whole window
