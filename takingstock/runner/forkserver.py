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

Sockets
    Every kernel of a run, forked or fresh (:class:`Kernels`), talks to its client over Unix
    sockets (ZeroMQ's ``ipc`` transport) in a private folder (mode 0700) under a name no other
    kernel ever has, not over loopback TCP ports. Why: a TCP port is chosen free, released, then
    bound by the kernel, so two processes on one machine can collide on it (``Address already
    in use``); and a client's heartbeat socket (ZeroMQ REQ) reconnects on its own to its dead
    kernel's port, and when another kernel (of this run, or of any other process on the
    machine) has bound that port as its control channel, the heartbeat's ``ping`` reaches it as
    a control message without the ``<IDS|MSG>`` delimiter: the kernel logs ``Uncaught exception
    in ZMQStream callback ... ValueError: DELIM not in msg_list``, which ipykernel's capture put
    into the cell's output and onto the published page. A busy machine widens both windows.
    The run's clients also start no heartbeat (nbclient watches the kernel's process instead).
    A kernel's own output (what it writes outside a cell) goes to a log file in the folder,
    which the runner reads for errors (:func:`takingstock.runner.execute.kernel_errors`).

Threads
    ``fork()`` copies only the thread that calls it; a lock another thread held stays locked in
    the child for ever (Python 3.12+ warns: ``This process is multi-threaded, use of fork()
    may lead to deadlocks in the child``). The server starts no thread and turns off the one a
    preload started (pyarrow's jemalloc background thread); before each fork it counts its
    threads as the system does (:func:`thread_count`) and, if there is more than one, forks no
    more: it prints one notice and every later kernel of the run starts as a fresh process (the
    stand-in becomes ``python -m ipykernel_launcher``). Measured on this machine (2 cores,
    bench/README.md): a forked kernel answers in ~0.15 s, a fresh one in ~0.5 s before its
    first cell imports pandas and the package for another 0.3-1 s.

Caveats
    Linux and macOS only (``fork``, Unix sockets); elsewhere, or with ``--fresh-kernels``, a
    kernel is a fresh process as before. A preloaded module is imported once, when the server
    starts, from the files of that moment: editing the package *during* a run is seen by the
    next run, not by later kernels of this one. A preload that fails is skipped (the kernel then
    imports the module itself and fails in the cell that imports it, as a fresh kernel would).
    Module-level state read from the environment at import (``PLOTLY_RENDERER``) is the
    runner's, which every kernel shares anyway; a module imported for one notebook is imported
    in every kernel (``takingstock.report.style`` sets plotly's default template when imported: the
    cleaning notebook, which draws nothing, has it too).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import itertools
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterable
import time
from queue import Empty
import traceback

#: Imported by the server before any kernel forks (besides the run's own ``takingstock`` modules).
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger", "IPython",
           "pandas", "pyarrow", "pyarrow.parquet", "plotly.graph_objects", "plotly.io")

#: Called (``module:function``) by the server when it has no request to answer, after the
#: preloads: work every kernel would otherwise repeat on first use (plotly checks every property
#: of a new figure against validators it builds, and caches, the first time it meets them).
#: Kernels forked later inherit what they cached; one that fails is skipped.
WARM_UPS = ("takingstock.report.style:warm_up",)

#: pyarrow's jemalloc settings with its background thread off (read when pyarrow loads).
JEMALLOC_CONF = "oversize_threshold:0,dirty_decay_ms:1000,muzzy_decay_ms:1000,background_thread:false"

PROXY = Path(__file__).with_name("kernel_proxy.py")
#: How the server is started (``-c``, not ``-m``: the runner package imports this module).
SERVER_MAIN = "import sys; from takingstock.runner.forkserver import main; main(sys.argv[1:])"


def available() -> bool:
    """Whether kernels can be forked here (a POSIX system with ``fork`` and Unix sockets)."""
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and sys.platform != "win32"


# --------------------------------------------------------------------------- runner side


class Closed(RuntimeError):
    """A kernel was asked for after :meth:`Kernels.close`."""


class Kernels:
    """The run's kernels started as fresh processes (``--fresh-kernels``, or no ``fork`` here).

    Every kernel of the run, fresh or forked, talks to its client over Unix sockets (ZeroMQ's
    ``ipc`` transport) in a private folder of this object (mode 0700), named once per kernel and
    never reused, and writes its own output (what it prints outside a cell: its log) to a file
    there, which the runner reads when the notebook has run. See the module docstring, *Sockets*.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folder: str | None = None
        self._count = itertools.count(1)
        self.closed = False

    def close(self) -> None:
        """Start no kernel from now on (the run is stopping): a start raises :class:`Closed`."""
        self.closed = True

    def check_open(self) -> None:
        if self.closed:
            raise Closed("the run is stopping: no new kernel is started")

    def folder(self) -> str:
        """The private folder of the run's kernel sockets and logs (made on first use)."""
        with self._lock:
            if self._folder is None:
                self._folder = tempfile.mkdtemp(prefix="takingstock-kernels-")
            return self._folder

    def new_name(self, stem: str = "k") -> str:
        """A path prefix in :meth:`folder` no kernel of this run has had (``.../k3``)."""
        return os.path.join(self.folder(), f"{stem}{next(self._count)}")

    def kernel_manager_class(self, log: str | os.PathLike | None = None):
        """nbclient's ``kernel_manager_class`` for this run's kernels; each writes its own output
        to ``log`` (appended), or to a new file in :meth:`folder`."""
        return _manager_class(self, None if log is None else str(log))

    def launch_command(self, cmd: list[str]) -> list[str]:
        """The command that starts a kernel (here: jupyter_client's own)."""
        return cmd

    def stop(self) -> None:
        """Remove the folder of sockets and logs."""
        with self._lock:
            folder, self._folder = self._folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


class ForkServer(Kernels):
    """The run's fork server: started on the first kernel asked for, stopped at the run's end.

    Args:
        root: the kernels' project root (the server's working directory).
        modules: ``takingstock`` modules to import before forking (the run's notebooks' imports).
    """

    def __init__(self, root: Path, modules: Iterable[str] = ()):
        super().__init__()
        self.root = Path(root)
        self.modules = sorted(set(modules))
        self._process: subprocess.Popen | None = None
        self.socket_path = ""

    def ensure_started(self) -> str:
        """Start the server if it is not running; return its socket's path."""
        self.check_open()
        folder = self.folder()
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self.socket_path
            self.socket_path = os.path.join(folder, f"fork{next(self._count)}.sock")
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

    def launch_command(self, cmd: list[str]) -> list[str]:
        """The proxy of a forked kernel in place of ``python -m ipykernel_launcher``."""
        if cmd[1:3] != ["-m", "ipykernel_launcher"]:  # not the python3 kernel: as it is
            return cmd
        return [sys.executable, "-I", "-S", str(PROXY), self.ensure_started(), *cmd[3:]]

    def stop(self) -> None:
        """Stop the server and every kernel it forked that is still alive; remove the folder."""
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
        super().stop()


def _manager_class(kernels: Kernels, log: str | None):
    # lazy: jupyter_client costs ~0.5 s to import and only a run that starts kernels needs it
    from jupyter_client import AsyncKernelManager
    import traitlets  # lazy: as jupyter_client (its config system); ~10 ms of a run with nothing to do

    forked = isinstance(kernels, ForkServer)

    class RunKernelManager(AsyncKernelManager):
        """An ``AsyncKernelManager`` on private Unix sockets, its kernel's output in a log file
        (and, from a :class:`ForkServer`, its kernel forked)."""

        transport = traitlets.CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @traitlets.default("ip")
        def _private_prefix(self):
            return kernels.new_name()

        @traitlets.default("client_factory")
        def _run_client(self):
            return _client_class(forked)

        async def _async_finish_shutdown(self, waittime=None, pollinterval=0.01, restart=False):
            # a kernel exits within milliseconds of its shutdown request: look every 10 ms
            await super()._async_finish_shutdown(waittime, pollinterval, restart)

        def format_kernel_cmd(self, extra_arguments=None):
            return kernels.launch_command(super().format_kernel_cmd(extra_arguments))

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kernels.check_open()
            self.log_path = log or f"{self.ip}.log"
            with open(self.log_path, "ab") as out:
                kw.setdefault("stdout", out)
                kw.setdefault("stderr", out)
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return RunKernelManager


@functools.lru_cache(maxsize=2)
def _client_class(forked: bool):
    """The run's kernel client: no heartbeat (see *Sockets* in the module docstring); for a
    forked kernel, the quicker wait for it to be ready (:func:`_ready_client_class`)."""
    # lazy: as jupyter_client above (only a run that starts kernels needs it)
    from jupyter_client.asynchronous import AsyncKernelClient

    base = _ready_client_class() if forked else AsyncKernelClient

    class RunClient(base):
        def start_channels(self, shell=True, iopub=True, stdin=True, hb=False, control=True):
            super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=False, control=control)

    return RunClient


@functools.lru_cache(maxsize=1)
def _ready_client_class():

    # lazy: as jupyter_client above (only a run that starts kernels needs it)
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


def _become_kernel(request: dict, parent: int, fds: list[int]) -> None:
    """In the forked child: run an ipykernel as the request says, its output on the proxy's
    (``fds``: the proxy's stdout and stderr); never return."""
    code = 1
    try:
        for target, fd in zip((1, 2), fds):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
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
        # lazy: imported in the forked child, after sys.argv is the kernel's (it reads it)
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        app.initialize([*request["argv"], f"--IPKernelApp.parent_handle={parent}"])
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - a kernel that fails to start says why on stderr

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


def thread_count() -> int:
    """The threads of this process, as the operating system counts them (Python 3.12's fork
    warning counts the same way); Python's own count where the system does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return threading.active_count()


#: The one line the server prints when it stops forking (see :func:`serve`).
FALLBACK_NOTICE = ("notice: the kernels' fork server has {n} threads; forking it could deadlock a "
                   "kernel, so the run's next kernels start as fresh processes (slower)")


def serve(listener: socket.socket, modules: Iterable[str]) -> None:
    """Import ``modules``, then fork a kernel for every request on ``listener`` until stdin
    closes; between requests, run :data:`WARM_UPS` (the first kernels asked for are not kept
    waiting for them)."""
    # no thread to be lost in the fork: no BLAS thread pool, no jemalloc background thread
    # (pyarrow loads jemalloc, though its default pool is mimalloc); no debugger warning on the
    # run's terminal
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("JE_ARROW_MALLOC_CONF", JEMALLOC_CONF)
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
    passed: dict[socket.socket, list[int]] = {}  # the proxy's stdout and stderr
    fresh: list[int] = []  # the thread count once forking was given up

    def fork(conn: socket.socket, request: dict) -> None:
        fds = passed.pop(conn, [])
        threads = thread_count()
        if fresh or threads > 1:
            if not fresh:
                fresh.append(threads)
                print(FALLBACK_NOTICE.format(n=threads), file=sys.stderr, flush=True)
            _send(conn, {"fresh": threads})  # the proxy starts the kernel itself
            for fd in fds:
                os.close(fd)
            return
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
            _become_kernel(request, os.getppid(), fds)
        for fd in fds:
            os.close(fd)
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
        for fd in passed.pop(conn, []):
            os.close(fd)
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
                chunk, fds, _, _ = socket.recv_fds(conn, 1 << 20, 2)
                passed.setdefault(conn, []).extend(fds)
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


