"""The headless browser: the one Chromium that draws static figures and prints the PDF.

The project installs Debian's ``chromium`` (``scripts/ensure-chromium.sh``); ``BROWSER_PATH``
names another. :func:`find_browser` says whether there is one; nothing here ever downloads a
browser: without one, the static images (:mod:`takingstock.report.images`) and the PDF edition
(:mod:`takingstock.publish.pdf_edition`) say so once and skip.

:func:`session` is the process's one browser, driven through playwright's public sync API
(``chromium.launch(executable_path=...)``). playwright's sync objects belong to the thread
that made them, so the browser lives in a daemon thread of its own, started on first use and
closed at exit; :meth:`Session.submit` runs a function there (``fn(browser, *args)``, the
playwright ``Browser``) and returns a ``concurrent.futures.Future`` of its result. Calls run
one at a time, in the order submitted. Every page a caller opens should refuse requests other
than ``file:`` and ``data:`` (:func:`local_only`): nothing a page holds reaches the network.
"""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import threading
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["find_browser", "local_only", "session", "Session"]


def find_browser() -> str | None:
    """The path of an executable Chrome/Chromium (``BROWSER_PATH`` first), or None."""
    candidates = [os.environ.get("BROWSER_PATH", ""), "/usr/bin/chromium"]
    candidates += [shutil.which(n) or "" for n in ("chromium", "chromium-browser", "google-chrome")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def local_only(route) -> None:
    """A playwright route handler: ``file:`` and ``data:`` requests go through, others are refused."""
    if route.request.url.startswith(("file:", "data:")):
        route.continue_()
    else:
        route.abort("blockedbyclient")


class Session:
    """One Chromium (playwright) in a thread of its own; :meth:`submit` runs work there."""

    def __init__(self, path: str):
        self._jobs: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._serve, args=(path,), name="browser-session", daemon=True)
        self._thread.start()

    def _serve(self, path: str) -> None:
        # lazy: playwright.sync_api costs 0.10-0.17 s (python -X importtime, 2 cores under
        # load), and every notebook kernel imports this module (findings -> figures -> images)
        # while under the pipeline none of them draws.
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=path, args=["--disable-gpu"])
                try:
                    while (job := self._jobs.get()) is not None:
                        fn, args, future = job
                        if future.set_running_or_notify_cancel():
                            try:
                                future.set_result(fn(browser, *args))
                            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                                future.set_exception(exc)
                finally:
                    browser.close()
            return
        except BaseException as exc:  # noqa: BLE001 - every waiting and later call gets it
            failure = exc
        while True:  # the browser is gone: fail what is queued, and what comes later
            job = self._jobs.get()
            if job is None:
                return
            if job[2].set_running_or_notify_cancel():
                job[2].set_exception(failure)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn(browser, *args)`` in the session's thread; a ``Future`` of its result."""
        future: Future = Future()
        self._jobs.put((fn, args, future))
        return future

    def close(self) -> None:
        """Close the browser once the work already submitted is done (waits up to 10 s)."""
        self._jobs.put(None)
        self._thread.join(10)


_session: Session | None = None
_session_lock = threading.Lock()


def session() -> Session | None:
    """The process's browser session (started on first call), or None without a browser."""
    global _session
    with _session_lock:
        if _session is None:
            path = find_browser()
            if path is None:
                return None
            _session = Session(path)
            atexit.register(_session.close)
        return _session
