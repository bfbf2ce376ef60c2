"""One run at a time per folder: the run lock, who holds it, and the temporaries a killed run left.

Why
    Two runs writing one output folder interleave: each rewrites ``steps.json`` whole, so one
    run's folded ``02_*_manufacture.csv`` could sit beside the other's page, and the next run
    would call both up to date. So a run takes, before it reads its cache, a lock on every
    folder it writes that holds run state: the output folder and the processed-data folder
    (``<folder>/.run.lock``, an OS file lock through the ``filelock`` library, released by the
    operating system even when the process is killed). The holder's process id, host, start
    time and command line are written beside it (``.run.lock.json``) so that a second run can
    say who holds it. A second run stops at once with exit 2 naming the holder, or, with
    ``--wait SECONDS``, waits that long first. Everything the run writes into those folders,
    ``steps.json`` among it, is written while it holds the lock.

Temporaries
    A run killed outright (``SIGKILL``, a power cut) leaves its temporaries: ``.briefings.tmp-*``
    folders of the pages being built, ``.<name>.*.tmp`` files of :mod:`takingstock.core.atomic`,
    ``notebooks/.*.running.ipynb`` of a notebook being executed, figures' ``.<name>.tmp<pid>.*``.
    Holding the lock, no other run can be writing them, so :func:`sweep` removes them when a
    run starts (``SIGTERM`` and Ctrl-C are handled: such a run removes its own).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Iterable

from takingstock.core.atomic import write_text
from filelock import FileLock, Timeout

LOCK_NAME = ".run.lock"
HOLDER_NAME = ".run.lock.json"
#: The names of a run's temporaries (:func:`sweep`): folder and file patterns, matched on names.
TEMP_DIRS = re.compile(r"^\..+\.tmp-[A-Za-z0-9_]+$")
TEMP_FILES = re.compile(r"^\..+\.tmp$|^\..+\.running\.ipynb$|^\..+\.tmp\d+\.[A-Za-z0-9]+$")


class LockHeld(RuntimeError):
    """Another run holds a folder's lock; ``str()`` names it and the holder."""


def holder_text(folder: Path) -> str:
    """Who holds ``folder``'s lock, as the holder wrote it (or that it did not say)."""
    try:
        info = json.loads((folder / HOLDER_NAME).read_text(encoding="utf-8"))
        return (f"pid {info['pid']} on {info['host']}, started {info['started']}: "
                f"{info['command'][:200]}")
    except (OSError, ValueError, KeyError, TypeError):
        return "a run that has not said who it is"


class RunLock:
    """The locks of the folders a run writes, taken in a fixed order (no two runs deadlock).

    Args:
        folders: the folders (duplicates and nesting are fine: each distinct one is locked).
        wait: seconds to wait for a lock held by another run (0: stop at once).
    """

    def __init__(self, folders: Iterable[Path], wait: float = 0.0):
        self.folders = sorted({Path(f).resolve() for f in folders})
        self.wait = max(0.0, float(wait))
        self._held: list = []

    def acquire(self) -> None:
        """Take every lock, or raise :class:`LockHeld` (``OSError`` when a folder cannot be written)."""

        for folder in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(folder / LOCK_NAME), timeout=self.wait, thread_local=False)
            try:
                lock.acquire()
            except Timeout:
                self.release()
                waited = f" (waited {self.wait:g} s)" if self.wait else ""
                raise LockHeld(f"another run is using {folder}{waited}: {holder_text(folder)}. "
                               "Wait for it to end, or pass --wait SECONDS") from None
            self._held.append((folder, lock))
            write_text(folder / HOLDER_NAME, json.dumps({
                "pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "command": " ".join(sys.argv)}))

    def release(self) -> None:
        """Release every lock taken (the holder notes go with them)."""
        while self._held:
            folder, lock = self._held.pop()
            with contextlib.suppress(OSError):
                (folder / HOLDER_NAME).unlink()
            lock.release()

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def sweep(folder: Path) -> list[Path]:
    """Remove the temporaries a killed run left under ``folder`` (see the module docstring);
    return what was removed. Call it only while holding ``folder``'s lock."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for path, dirs, files in os.walk(folder):
        here = Path(path)
        for name in list(dirs):
            if TEMP_DIRS.match(name):
                shutil.rmtree(here / name, ignore_errors=True)
                removed.append(here / name)
                dirs.remove(name)
        for name in files:
            if TEMP_FILES.match(name):
                with contextlib.suppress(OSError):
                    (here / name).unlink()
                    removed.append(here / name)
    return removed
