"""Lending idle processes' cores to a forward pass (moderation/scoring/cores.py), across real processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest

from moderation.scoring.cores import CoreLedger

# The children only take locks (no torch): forking from a test process is safe for them.
fork = multiprocessing.get_context("fork")


def _hold_a_pass(path: str, slots: int, idle: float, holding, release, threads) -> None:
    ledger = CoreLedger(path, slots, 2, idle)
    with ledger.pass_threads() as got:
        threads.value = got
        holding.set()
        release.wait(30)


class Neighbour:
    """Another process of the same ledger, in a pass until released."""

    def __init__(self, path: str, slots: int, idle: float) -> None:
        self.holding, self.release = fork.Event(), fork.Event()
        self.threads = fork.Value("i", 0)
        self.process = fork.Process(target=_hold_a_pass,
                                    args=(path, slots, idle, self.holding, self.release, self.threads))
        self.process.start()
        assert self.holding.wait(30), "the neighbour never got a slot"

    def done(self) -> None:
        self.release.set()
        self.process.join(30)


@pytest.fixture
def ledger_file(tmp_path):
    return str(tmp_path / "cores.ledger")


def test_a_lone_pass_runs_on_every_slot(ledger_file):
    ledger = CoreLedger.create(ledger_file, 3, 2, idle=0.1)
    with ledger.pass_threads() as threads:
        assert threads == 6
    assert ledger.lent == 1
    with ledger.pass_threads() as threads:  # its own last pass does not count as a neighbour's
        assert threads == 6
    assert ledger.lent == 2


def test_a_slot_in_use_is_not_borrowed(ledger_file):
    CoreLedger.create(ledger_file, 3, 2, idle=0.001)
    neighbour = Neighbour(ledger_file, 3, 0)  # idle 0: it never borrows, so it holds one slot
    try:
        assert neighbour.threads.value == 2
        time.sleep(0.01)  # longer than idle: the neighbour counts as idle, but its slot is held
        assert _one_pass(CoreLedger(ledger_file, 3, 2, idle=0.001)) == 4  # the two free slots
    finally:
        neighbour.done()


def test_a_pass_waits_while_every_slot_is_held(ledger_file):
    CoreLedger.create(ledger_file, 3, 2, idle=0.001)
    neighbour = Neighbour(ledger_file, 3, 0.001)
    try:
        assert neighbour.threads.value == 6  # it was alone: all three
        ledger = CoreLedger(ledger_file, 3, 2, idle=0.001)
        got = []
        thread = threading.Thread(target=lambda: got.append(_one_pass(ledger)))
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and got == [], "a pass ran while every slot was held"
        neighbour.done()
        thread.join(30)
        assert got and got[0] >= 2  # its share at least, once the neighbour's pass ended
    finally:
        neighbour.done()


def test_a_busy_neighbour_keeps_its_core(ledger_file):
    CoreLedger.create(ledger_file, 2, 1, idle=30)
    neighbour = Neighbour(ledger_file, 2, 0)  # in a pass on its own slot
    try:
        ledger = CoreLedger(ledger_file, 2, 1, idle=30)
        assert _one_pass(ledger) == 1  # the other slot is free, but the neighbour is scoring
    finally:
        neighbour.done()
    # The neighbour finished its pass just now: within `idle`, it is still about to score again.
    ledger = CoreLedger(ledger_file, 2, 1, idle=30)
    assert _one_pass(ledger) == 1
    assert ledger.lent == 0


def test_a_neighbour_idle_for_longer_than_idle_lends_its_core(ledger_file):
    CoreLedger.create(ledger_file, 2, 1, idle=0.05)
    Neighbour(ledger_file, 2, 0.05).done()
    time.sleep(0.1)
    ledger = CoreLedger(ledger_file, 2, 1, idle=0.05)
    assert _one_pass(ledger) == 2


def test_a_neighbour_waiting_for_its_core_is_not_made_to_wait_again(ledger_file):
    lender = CoreLedger.create(ledger_file, 2, 1, idle=5)
    results = []
    with lender.pass_threads() as threads:
        assert threads == 2  # alone: both slots
        waiting = fork.Event()
        got = fork.Value("i", 0)
        child = fork.Process(target=_want_a_pass, args=(ledger_file, waiting, got))
        child.start()
        assert waiting.wait(30)
        time.sleep(0.2)
        assert got.value == 0  # still waiting: both slots are lent to this pass
    # The lender's next pass, while the neighbour scores or has just scored: its own share only.
    results.append(_one_pass(lender))
    child.join(30)
    assert got.value == 1
    assert results == [1]


def _want_a_pass(path: str, waiting, got) -> None:
    ledger = CoreLedger(path, 2, 1, idle=5)
    waiting.set()
    with ledger.pass_threads() as threads:
        got.value = threads
        time.sleep(0.3)


def _want(path: str) -> None:
    CoreLedger(path, 2, 1, idle=30).want()


def test_a_neighbour_with_a_request_on_its_way_keeps_its_core(ledger_file):
    ledger = CoreLedger.create(ledger_file, 2, 1, idle=30)
    assert _one_pass(ledger) == 2
    child = fork.Process(target=_want, args=(ledger_file,))  # a webhook verified, its comment being stored
    child.start()
    child.join(30)
    assert _one_pass(ledger) == 1


def test_processes_looking_for_an_entry_in_the_same_place_keep_apart(ledger_file, monkeypatch):
    """Two processes whose ids point at the same activity entry (1 in 64 by chance, which made the
    test above fail in CI once) each claim their own: the neighbour's want is not overwritten."""
    from moderation.scoring import cores

    monkeypatch.setattr(cores, "_home", lambda pid: 0)  # inherited by the forked children
    ledger = CoreLedger.create(ledger_file, 2, 1, idle=30)
    assert _one_pass(ledger) == 2
    child = fork.Process(target=_want, args=(ledger_file,))
    child.start()
    child.join(30)
    assert _one_pass(ledger) == 1
    assert _one_pass(ledger) == 1  # and again: its own mark does not take the neighbour's place


def _lone_pass_in_a_child(path: str, got, ready, leave) -> None:
    got.value = _one_pass(CoreLedger(path, 2, 1, idle=0.001))
    ready.set()
    leave.wait(30)


def test_with_no_entry_free_a_process_borrows_nothing_until_one_is(ledger_file, monkeypatch, caplog):
    from moderation.scoring import cores

    monkeypatch.setattr(cores, "_ENTRIES", 1)
    CoreLedger.create(ledger_file, 2, 1, idle=0.001)
    got, ready, leave = fork.Value("i", 0), fork.Event(), fork.Event()
    holder = fork.Process(target=_lone_pass_in_a_child, args=(ledger_file, got, ready, leave))
    holder.start()
    try:
        assert ready.wait(30) and got.value == 2  # alone, it claimed the only entry and borrowed
        time.sleep(0.01)
        crowded = CoreLedger(ledger_file, 2, 1, idle=0.001)
        assert _one_pass(crowded) == 1  # alone too, but unseen by the others: its own share only
        assert _one_pass(crowded) == 1
        warnings = [r.getMessage() for r in caplog.records if "activity entries" in r.getMessage()]
        assert len(warnings) == 1 and "borrows nothing" in warnings[0]
    finally:
        leave.set()
        holder.join(30)
    time.sleep(0.01)
    assert _one_pass(crowded) == 2  # the holder has ended: its entry is claimed, and lent to


def test_a_killed_process_gives_its_slots_back(ledger_file):
    CoreLedger.create(ledger_file, 2, 1, idle=0.001)
    neighbour = Neighbour(ledger_file, 2, 0.001)
    assert neighbour.threads.value == 4  # both slots, 2 threads each
    os.kill(neighbour.process.pid, signal.SIGKILL)
    neighbour.process.join(30)
    time.sleep(0.01)
    ledger = CoreLedger(ledger_file, 2, 1, idle=0.001)
    assert _one_pass(ledger) == 2  # the kernel released its locks


def test_a_missing_ledger_file_scores_on_the_own_share(ledger_file, caplog):
    ledger = CoreLedger(ledger_file, 2, 3, idle=0.1)  # never created (or deleted since)
    assert _one_pass(ledger) == 3
    assert _one_pass(ledger) == 3
    warnings = [r.getMessage() for r in caplog.records if "core ledger" in r.getMessage()]
    assert len(warnings) == 1 and "lending nothing" in warnings[0]  # said once, not per pass


def test_lending_off_or_one_slot_never_borrows(ledger_file):
    assert _one_pass(CoreLedger.create(ledger_file, 2, 3, idle=0)) == 3
    assert _one_pass(CoreLedger.create(ledger_file, 1, 2, idle=1)) == 2
    with pytest.raises(ValueError):
        CoreLedger(ledger_file, 0, 1, idle=1)


def test_a_pass_runs_on_the_threads_the_ledger_lends(tiny_settings, ledger_file):
    """Under `moderation serve` each pass runs on its share of the cores, or on the idle
    processes' shares as well, set in the thread that runs the pass (scoring.detoxify_backend)."""
    import torch

    from moderation.scoring import LazyScorer

    before = torch.get_num_threads()
    lent = []
    scorer = LazyScorer(tiny_settings(), on_lent=lambda: lent.append(1))  # batched: a scoring thread
    ledger = CoreLedger.create(ledger_file, 2, 1, idle=0.1)
    scorer.lend_cores(ledger)  # before the model loads: handed to the backend when it does
    backend = scorer._loaded_backend()
    seen = []
    score = backend._score

    def recording(*args):
        seen.append(torch.get_num_threads())
        return score(*args)

    try:
        backend._score = recording
        scorer.score(["alone, on both slots"])
        neighbour = Neighbour(ledger_file, 2, 0)  # another process scoring on one slot
        try:
            scorer.score(["one slot taken"])
        finally:
            neighbour.done()
        assert seen == [2, 1]
        assert lent == [1]
    finally:
        torch.set_num_threads(before)


def _one_pass(ledger: CoreLedger) -> int:
    with ledger.pass_threads() as threads:
        return threads
