"""One boundary for every srkit command: a user's mistake is one line and exit status 2; anything
else is a bug, shown with its traceback and where to report it.

User errors are the ones srkit raises about its inputs (files, checkpoints, configurations, run
folders, devices) and the operating system's about paths and disks.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
import traceback
from collections.abc import Callable

from ..data.folders import DatasetError
from ..data.io import ImageReadError
from ..devices import device_problem
from ..export import ExportError
from ..inference import NonFiniteOutput, TilingError
from ..models.detect import CheckpointError
from ..models.errors import ModelArgsError
from ..models.hub import WeightsError
from ..ops.dispatch import BackendUnavailable
from ..train.config import ConfigError
from ..train.runfolder import RunFolderError
from ..video import VideoError


class UsageError(ValueError):
    """A command-line value the command cannot take; the message names the option and what it allows."""


USER_ERRORS: tuple[type[BaseException], ...] = (
    UsageError,
    NonFiniteOutput,
    TilingError,
    ModelArgsError,
    WeightsError,
    VideoError,
    ImageReadError,
    DatasetError,
    CheckpointError,
    ConfigError,
    RunFolderError,
    BackendUnavailable,
    ExportError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
    FileExistsError,
)
REPORT = "this is a bug in srkit, not in your input: please report it with the command and the traceback above"


def user_message(e: BaseException) -> str | None:
    """The one line for an expected error, or None for a bug."""
    if isinstance(e, USER_ERRORS):
        return str(e)
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
        return f"{e.filename or 'output'}: {e.strerror} (nothing partial was kept: srkit writes files atomically)"
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM (a session's end, ``kill``) as an exception, so that what a run does on the way out
    (its ``finally`` blocks: the cost of the piece it was in) is done as on Ctrl-C."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def _on_sigterm_raise() -> None:
    """Turn SIGTERM into :class:`Terminated` where Python would otherwise die at once (the default
    action), and only there: a handler someone else installed stays."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_terminated)


def run_cli(prog: str, fn: Callable[[], int]) -> int:
    """Run a command's body under the boundary."""
    _on_sigterm_raise()
    try:
        return fn()
    except Terminated:
        print(f"{prog}: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the one place every error is sorted into the user's or a bug
        msg = user_message(e)
        if msg is not None:
            print(f"{prog}: {msg}", file=sys.stderr)
            return 2
        traceback.print_exc()
        print(f"{prog}: {REPORT}", file=sys.stderr)
        return 1


def device(text: str) -> str:
    """An argparse type for ``--device``: a device this machine has, refused in one line otherwise."""
    problem = device_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text
