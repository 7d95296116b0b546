"""A stop asked for (SIGTERM: a session's end, ``kill``; SIGINT: Ctrl-C) taken at the next step's
end, so that the training can write its state there and resume from that very step: without it a
stop loses everything since the last validation (2,000 iterations, 11 minutes of a search's member
on 2 CPU cores)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequests:
    """Which signal asked to stop (None: none yet). A second signal is not deferred: it acts at once,
    as it would have without this (a user who insists)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.previous: dict[int, Any] = {}

    def _record(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            self._act(signum, frame)
        self.signum = signum

    def _act(self, signum: int, frame: FrameType | None) -> None:
        """What the signal would have done: the handler that was there, or the default action."""
        handler = self.previous.get(signum, signal.SIG_DFL)
        if callable(handler):
            handler(signum, frame)
        elif handler != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def stop(self) -> None:
        """Act on the recorded signal now (after the caller has saved its state)."""
        if self.signum is not None:
            self._act(self.signum, None)


@contextmanager
def deferred_stops(enabled: bool = True) -> Iterator[StopRequests]:
    """SIGTERM and SIGINT recorded instead of acted on while the block runs (only in the main
    thread, where Python delivers signals, and only where ``enabled``); the handlers restored after."""
    requests = StopRequests()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield requests
        return
    for s in SIGNALS:
        requests.previous[s] = signal.signal(s, requests._record)
    try:
        yield requests
    finally:
        for s, handler in requests.previous.items():
            signal.signal(s, handler)
