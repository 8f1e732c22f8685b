"""Lending an idle process's cores to another's forward pass, through a ledger shared by the processes.

`moderation serve` gives each of its processes `cores / processes` torch threads: under load,
one-thread passes side by side use the cores best, but a lone comment then runs on one core
while the others idle (on a 2-core build machine, in process, its pass took 1.4 to 1.7 times
as long as on both). The ledger lets a pass borrow the cores of processes that are not scoring:

- one slot per process's share of the cores, each a byte of a file that `moderation serve`
  creates before forking, held with a POSIX (`fcntl`) byte-range lock for the length of a
  pass; the kernel releases the locks of a process that dies, so a killed worker lends nothing
  it cannot give back;
- a pass first takes one slot (any free one; when none is, it waits for one, at most the
  rest of a pass that borrowed it), then every other free slot, but only when no other process
  has wanted or finished a pass for `idle` seconds: a neighbour busy in a rhythm of passes
  (a few ms to tens of ms apart under load) keeps its core, and one that wants a pass while its
  core is lent is seen wanting it, so the lender's next pass does not borrow again;
- each process writes the time it last wanted a pass (a request on its way to the scorer, or
  a pass starting) or finished one in an activity table of the same file: an entry it claims
  once, under a lock, that no living process holds (two processes never share one, whatever
  their ids; a process that finds no entry free never borrows).

A `threading` lock cannot do this (processes), and a POSIX semaphore would not give back what a
killed process held; the standard library's `fcntl` locks do the holding, and what is written
here is only the policy of when to borrow. Off by default (MODERATION_SCORING_LEND_IDLE_MS=0):
over HTTP on the build machine the gain for lone comments was not consistent (README, Serving).
The pass sets `torch.set_num_threads` in the thread that runs it (scoring.detoxify_backend).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

_ACTIVITY_OFFSET = 4096  # lock bytes before it (one per slot, then the claim byte), activity entries from here
_CLAIM = _ACTIVITY_OFFSET - 1  # locked while a process looks for an activity entry to claim
_ENTRIES = 64
_ENTRY = struct.Struct("<qd")  # process id, time.monotonic() (CLOCK_MONOTONIC: one clock for the machine)
MAX_SLOTS = _CLAIM


class CoreLedger:
    """The machine's cores in `slots` shares of `threads_per_slot` torch threads, shared by the
    processes that open the same file (made by `create`, before they fork)."""

    def __init__(self, path: str | os.PathLike[str], slots: int, threads_per_slot: int, idle: float) -> None:
        if not 1 <= slots <= MAX_SLOTS:
            raise ValueError(f"slots: expected 1 to {MAX_SLOTS}, got {slots}")
        if threads_per_slot < 1:
            raise ValueError(f"threads_per_slot: expected a positive integer, got {threads_per_slot}")
        self.path = str(path)
        self.slots = slots
        self.threads_per_slot = threads_per_slot
        self.idle = idle
        self.lent = 0  # passes of this process that borrowed at least one other slot
        self._fd: int | None = None
        self._pid: int | None = None
        self._entry: int | None = None  # this process's activity entry, once claimed
        self._claiming = threading.Lock()  # POSIX locks do not keep a process's own threads apart
        self._warned = False
        self._crowded = False

    @classmethod
    def create(cls, path: str | os.PathLike[str], slots: int, threads_per_slot: int, idle: float) -> CoreLedger:
        """Make (or empty) the ledger file; every process that opens it afterwards shares it."""
        ledger = cls(path, slots, threads_per_slot, idle)
        with open(ledger.path, "wb") as file:
            file.truncate(_ACTIVITY_OFFSET + _ENTRIES * _ENTRY.size)
        return ledger

    def _file(self) -> int:
        # Opened in the process that uses it: after a fork the child opens its own (POSIX locks
        # belong to a process, and closing any descriptor of the file would drop them all).
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR)
            self._pid = os.getpid()
            self._entry = None
        return self._fd

    @contextlib.contextmanager
    def pass_threads(self) -> Iterator[int]:
        """Hold cores for one forward pass; yields how many torch threads it may run on."""
        held: list[int] = []
        try:
            fd = self._file()
            self._mark(fd)
            held = self._take(fd)
        except OSError as exc:  # the file gone or unreadable: score on this process's share, unshared
            if not self._warned:
                self._warned = True
                logger.warning("core ledger %s unusable (%s): scoring on %d thread(s), lending nothing",
                               self.path, exc, self.threads_per_slot)
        if not held:
            yield self.threads_per_slot
            return
        try:
            yield len(held) * self.threads_per_slot
        finally:
            # Seen finishing before its slots are free: a pass can outlast `idle`, and a process
            # starting one the moment these are free must still see this one as active.
            self._mark(fd)
            for slot in held:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, slot)

    def want(self) -> None:
        """Say that this process is about to score (a request is on its way to a pass), so that
        no other pass borrows its cores meanwhile."""
        self._mark(self._file())

    def _take(self, fd: int) -> list[int]:
        pid = os.getpid()
        order = [(pid + i) % self.slots for i in range(self.slots)]
        held = next(([slot] for slot in order if _try_lock(fd, slot)), None)
        if held is None:
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, order[0])  # every slot in a pass: wait for this one
            held = [order[0]]
        if self.slots > 1 and self.idle > 0 and not self._others_active(fd, pid):
            held += [slot for slot in order if slot not in held and _try_lock(fd, slot)]
            if len(held) > 1:
                self.lent += 1
        return held

    def _mark(self, fd: int) -> None:
        entry = self._claim(fd)
        if entry is not None:
            os.pwrite(fd, _ENTRY.pack(os.getpid(), time.monotonic()), _ACTIVITY_OFFSET + entry * _ENTRY.size)

    def _claim(self, fd: int) -> int | None:
        """This process's entry in the activity table: its own from before, else an empty one or
        one of a process that has ended, taken under the claim lock so that no two processes take
        the same. None when every entry belongs to a living process."""
        if self._entry is not None:
            return self._entry
        with self._claiming:
            if self._entry is None:
                self._entry = self._claim_one(fd)
            return self._entry

    def _claim_one(self, fd: int) -> int | None:
        pid = os.getpid()
        fcntl.lockf(fd, fcntl.LOCK_EX, 1, _CLAIM)
        try:
            table = os.pread(fd, _ENTRIES * _ENTRY.size, _ACTIVITY_OFFSET)
            owners = [owner for owner, _ in _ENTRY.iter_unpack(table)]
            probe = [(_home(pid) + i) % _ENTRIES for i in range(_ENTRIES)]
            entry = next((i for i in probe if owners[i] == pid), None)
            if entry is None:
                entry = next((i for i in probe if owners[i] == 0 or not _alive(owners[i])), None)
            if entry is not None:
                os.pwrite(fd, _ENTRY.pack(pid, time.monotonic()), _ACTIVITY_OFFSET + entry * _ENTRY.size)
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, _CLAIM)
        if entry is None and not self._crowded:
            self._crowded = True
            logger.warning("core ledger %s: every one of its %d activity entries belongs to a running process; "
                           "this one (%d) scores on its own share and borrows nothing", self.path, _ENTRIES, pid)
        return entry

    def _others_active(self, fd: int, pid: int) -> bool:
        if self._entry is None:  # unseen by the others: borrowing could take a core they count on
            return True
        table = os.pread(fd, _ENTRIES * _ENTRY.size, _ACTIVITY_OFFSET)
        since = time.monotonic() - self.idle
        return any(other not in (0, pid) and at > since for other, at in _ENTRY.iter_unpack(table))


def _home(pid: int) -> int:
    """Where a process starts looking for a free activity entry."""
    return pid % _ENTRIES


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _try_lock(fd: int, slot: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


def ledger_path(directory: str | os.PathLike[str]) -> Path:
    return Path(directory) / "cores.ledger"
