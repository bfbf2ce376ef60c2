"""Kernels forked from one pre-imported process: the start of a kernel in milliseconds.

Why
    A fresh ipykernel is a new Python process: about 0.5 s before it answers, then about
    0.3-1 s more while the notebook's first cell imports pandas, plotly and the package. A run
    starts six or more kernels (one per notebook, one per grid value), so on two cores this
    start-up was a third of the CPU a cold run spent. Here one *fork server* imports all of it
    once, and every kernel of the run is a ``fork()`` of it: the imports are already done and
    their memory pages are shared between the kernels (copy-on-write).

How
    :class:`ForkServer` (in the runner) starts the server (:func:`main`) with
    the kernels' environment, and hands it a listening Unix socket. The server imports
    :data:`PRELOAD` plus every ``takingstock`` module the run's notebooks can import (the
    runner's cache knows them: their imports, and the imports of those, inside functions too),
    then serves.
    :meth:`ForkServer.kernel_manager_class` (given to papermill as nbclient's ``kernel_manager_class``)
    launches, instead of ``python -m ipykernel_launcher -f <connection file>``, the tiny
    stand-in ``kernel_proxy.py`` (standard library only, started with ``-I -S``: about 10 ms),
    which sends its arguments, working directory and environment to the server. The server
    forks; the child becomes the kernel (``IPKernelApp`` on that connection file, in that
    directory with that environment); the proxy waits for the server to report the kernel's
    exit and exits with its code. To jupyter_client the proxy *is* the kernel process:

    * interrupt (SIGINT) and terminate (SIGTERM) sent to the proxy are passed on to the kernel;
    * when the proxy dies (killed), the server kills its kernel;
    * when the server dies, its kernels see their parent change and exit (ipykernel's parent
      poller), and the server itself exits when the runner's end of its stdin closes.

Caveats
    Linux and macOS only (``fork``, Unix sockets); elsewhere, or with ``--fresh-kernels``, a
    kernel is a fresh process as before. A preloaded module is imported once, when the server
    starts, from the files of that moment: editing the package *during* a run is seen by the
    next run, not by later kernels of this one. A preload that fails is skipped (the kernel then
    imports the module itself and fails in the cell that imports it, as a fresh kernel would).
    Module-level state read from the environment at import (``PLOTLY_RENDERER``) is the
    runner's, which every kernel shares anyway; a module imported for one notebook is imported
    in every kernel (``takingstock.figures`` sets plotly's default template when imported: the
    cleaning notebook, which draws nothing, has it too). The server starts no thread and no event loop
    before forking, so the children are clean copies.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterable

#: Imported by the server before any kernel forks (besides the run's own ``takingstock`` modules).
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "IPython",
           "pandas", "pyarrow", "pyarrow.parquet", "plotly.graph_objects", "plotly.io")

#: Called (``module:function``) by the server when it has no request to answer, after the
#: preloads: work every kernel would otherwise repeat on first use (plotly checks every property
#: of a new figure against validators it builds, and caches, the first time it meets them).
#: Kernels forked later inherit what they cached; one that fails is skipped.
WARM_UPS = ("takingstock.figures:warm_up",)

PROXY = Path(__file__).with_name("kernel_proxy.py")
#: How the server is started (``-c``, not ``-m``: the runner package imports this module).
SERVER_MAIN = "import sys; from takingstock.runner.forkserver import main; main(sys.argv[1:])"


def available() -> bool:
    """Whether kernels can be forked here (a POSIX system with ``fork`` and Unix sockets)."""
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and sys.platform != "win32"


# --------------------------------------------------------------------------- runner side


class ForkServer:
    """The run's fork server: started on the first kernel asked for, stopped at the run's end.

    Args:
        root: the kernels' project root (the server's working directory).
        modules: ``takingstock`` modules to import before forking (the run's notebooks' imports).
    """

    def __init__(self, root: Path, modules: Iterable[str] = ()):
        self.root = Path(root)
        self.modules = sorted(set(modules))
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._dir: tempfile.TemporaryDirectory | None = None
        self.socket_path = ""

    def ensure_started(self) -> str:
        """Start the server if it is not running; return its socket's path."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self.socket_path
            self._dir = tempfile.TemporaryDirectory(prefix="takingstock-kernels-")
            self.socket_path = os.path.join(self._dir.name, "fork.sock")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.socket_path)
            listener.listen(64)
            try:
                # the listening socket exists before the server has imported anything: a kernel
                # asked for now waits in the backlog, it is never refused
                self._process = subprocess.Popen(
                    [sys.executable, "-c", SERVER_MAIN, str(listener.fileno()), *self.modules],
                    cwd=self.root, stdin=subprocess.PIPE, pass_fds=(listener.fileno(),),
                    start_new_session=True)
            finally:
                listener.close()
            return self.socket_path

    def stop(self) -> None:
        """Stop the server and every kernel it forked that is still alive."""
        with self._lock:
            proc, self._process = self._process, None
            if proc is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None


    def kernel_manager_class(self):
        """nbclient's ``kernel_manager_class`` whose kernels are forked from this server."""
        import traitlets
        from jupyter_client import AsyncKernelManager

        server = self

        class ForkingKernelManager(AsyncKernelManager):
            """An ``AsyncKernelManager`` whose kernel command is the proxy of a forked kernel."""

            @traitlets.default("client_factory")
            def _ready_client(self):
                return _ready_client_class()

            async def _async_finish_shutdown(self, waittime=None, pollinterval=0.01, restart=False):
                # a forked kernel exits within milliseconds of its shutdown request: look every
                # 10 ms, not every 100 ms
                await super()._async_finish_shutdown(waittime, pollinterval, restart)

            def format_kernel_cmd(self, extra_arguments=None):
                cmd = super().format_kernel_cmd(extra_arguments)
                if cmd[1:3] != ["-m", "ipykernel_launcher"]:  # not the python3 kernel: as it is
                    return cmd
                return [sys.executable, "-I", "-S", str(PROXY), server.ensure_started(), *cmd[3:]]

        return ForkingKernelManager


@functools.lru_cache(maxsize=1)
def _ready_client_class():
    import time
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        """A client that stops waiting as soon as the kernel is ready.

        jupyter_client's wait, once the kernel has answered, listens to IOPub until it has been
        quiet for 0.2 s; a forked kernel is ready in about 0.15 s, so that wait would be most of
        its start. Here, as there: ask ``kernel_info`` until it is answered and IOPub carries a
        message (so IOPub is connected and no output of the first cell is lost); then drop what
        IOPub still holds, waiting 10 ms for more. nbclient keeps only the outputs of its own
        requests, so nothing of the start-up reaches the notebook either way.
        """

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    reply = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    reply = None
                if reply is not None and reply["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass  # IOPub not connected yet: ask again
                    else:
                        self._handle_kernel_info_reply(reply)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
            while True:
                try:
                    await self.iopub_channel.get_msg(timeout=0.01)
                except Empty:
                    return

    return ReadyClient


# --------------------------------------------------------------------------- server side


def _send(conn: socket.socket, message: dict) -> None:
    with contextlib.suppress(OSError):
        conn.sendall((json.dumps(message) + "\n").encode())


def _become_kernel(request: dict, parent: int) -> None:
    """In the forked child: run an ipykernel as the request says; never return."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        # ipykernel_launcher takes the working directory off sys.path; the kernel puts it back
        if sys.path and sys.path[0] in ("", os.getcwd()):
            del sys.path[0]
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize([*request["argv"], f"--IPKernelApp.parent_handle={parent}"])
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - a kernel that fails to start says why on stderr
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _preload(modules: Iterable[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the kernel will import it and report the error itself
            pass


def _warm_up(target: str) -> None:
    module, _, name = target.partition(":")
    try:
        getattr(importlib.import_module(module), name)()
    except Exception:  # noqa: BLE001 - a warm-up only saves time; the kernel does the work itself
        pass


def serve(listener: socket.socket, modules: Iterable[str]) -> None:
    """Import ``modules``, then fork a kernel for every request on ``listener`` until stdin
    closes; between requests, run :data:`WARM_UPS` (the first kernels asked for are not kept
    waiting for them)."""
    # no BLAS thread pool to be lost in the fork; no debugger warning on the run's terminal
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    _preload([*PRELOAD, *modules])
    sel = selectors.DefaultSelector()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(wake_r, selectors.EVENT_READ, "child")
    sel.register(sys.stdin, selectors.EVENT_READ, "stdin")
    kernels: dict[int, socket.socket] = {}
    buffers: dict[socket.socket, bytes] = {}

    def fork(conn: socket.socket, request: dict) -> None:
        pid = os.fork()
        if pid == 0:
            sel.close()
            listener.close()
            for other in buffers:
                other.close()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_r)
            os.close(wake_w)
            _become_kernel(request, os.getppid())
        kernels[pid] = conn
        _send(conn, {"pid": pid})

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = kernels.pop(pid, None)
            if conn is not None:
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})

    def drop(conn: socket.socket) -> None:
        sel.unregister(conn)
        buffers.pop(conn, None)
        for pid, owner in list(kernels.items()):
            if owner is conn:  # the proxy is gone: so goes its kernel
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        conn.close()

    warm_ups = list(WARM_UPS)
    while True:
        events = sel.select(timeout=0 if warm_ups else None)
        if not events and warm_ups:
            _warm_up(warm_ups.pop(0))
            continue
        for key, _ in events:
            if key.data == "accept":
                conn, _ = listener.accept()
                buffers[conn] = b""
                sel.register(conn, selectors.EVENT_READ, "conn")
            elif key.data == "child":
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
                reap()
            elif key.data == "stdin":
                if not os.read(sys.stdin.fileno(), 4096):
                    for pid in list(kernels):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
                    return
            else:
                conn = key.fileobj
                chunk = conn.recv(65536)
                if not chunk:
                    drop(conn)
                    continue
                buffers[conn] += chunk
                if b"\n" in buffers[conn] and conn not in kernels.values():
                    line = buffers[conn].split(b"\n", 1)[0]
                    fork(conn, json.loads(line))


def main(argv: list[str]) -> None:
    """The server's entry point (:data:`SERVER_MAIN`): ``<listening fd> [module ...]``."""
    listener = socket.socket(fileno=int(argv[0]))
    serve(listener, argv[1:])
    # nothing to flush or save: skip tearing down every imported module (a few tenths of a second)
    os._exit(0)


