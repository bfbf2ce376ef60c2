"""Kernels forked from the run's pre-imported server (takingstock.runner.forkserver).

What a fresh kernel does, a forked one must do too: run code in the directory and with the
environment the runner gives it, be interrupted, die with its stand-in or its server, and give
papermill the same executed notebook. Each test starts a real server and real kernels.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from takingstock.runner import Config, Step, StepFailed, Task, execute, forkserver

pytestmark = pytest.mark.skipif(not forkserver.available(), reason="no fork() here")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def server():
    srv = forkserver.ForkServer(ROOT, ["takingstock.report.findings"])
    yield srv
    srv.stop()


async def _start(srv, cwd: Path, env: dict | None = None):
    km = srv.kernel_manager_class()(kernel_name="python3")
    await km.start_kernel(cwd=str(cwd), env={**os.environ, **(env or {})},
                          extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    kc = km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    return km, kc


async def _run(kc, code: str, timeout: float = 30) -> list[dict]:
    """Execute ``code``; return the IOPub messages it produced (stream, error, result)."""
    seen: list[dict] = []
    await kc.execute_interactive(code, timeout=timeout, output_hook=seen.append)
    return [m for m in seen if m["msg_type"] in ("stream", "error", "execute_result")]


def _text(messages: list[dict]) -> str:
    return "".join(m["content"].get("text", "") for m in messages if m["msg_type"] == "stream")


def test_a_forked_kernel_has_the_imports_the_directory_and_the_environment(server, tmp_path):
    async def main():
        km, kc = await _start(server, tmp_path, {"TS_FORK_TEST": "value-42"})
        try:
            out = _text(await _run(kc, (
                "import os, sys, json\n"
                "print(json.dumps({'pid': os.getpid(), 'cwd': os.getcwd(), 'env': os.environ.get('TS_FORK_TEST'),"
                " 'preloaded': 'pandas' in sys.modules and 'takingstock.report.findings' in sys.modules}))")))
        finally:
            await km.shutdown_kernel()
        return json.loads(out), km

    got, km = asyncio.run(main())
    assert got["cwd"] == str(tmp_path)
    assert got["env"] == "value-42"
    assert got["preloaded"] is True  # imported by the server before the fork
    assert got["pid"] != km.provisioner.pid  # the kernel is not the process jupyter_client started


def test_two_kernels_are_separate_processes_with_separate_state(server, tmp_path):
    async def main():
        (km1, kc1), (km2, kc2) = await asyncio.gather(_start(server, tmp_path), _start(server, tmp_path))
        try:
            await _run(kc1, "x = 1")
            a = _text(await _run(kc1, "import os; print(os.getpid(), x)")).split()
            b = await _run(kc2, "import os; print(os.getpid()); print(x)")
        finally:
            await asyncio.gather(km1.shutdown_kernel(), km2.shutdown_kernel())
        return a, b

    a, b = asyncio.run(main())
    assert a[1] == "1"
    assert _text(b).split()[0] != a[0]
    assert [m["content"]["ename"] for m in b if m["msg_type"] == "error"] == ["NameError"]


def test_interrupt_reaches_a_forked_kernel(server, tmp_path):
    async def main():
        km, kc = await _start(server, tmp_path)
        try:
            run = asyncio.ensure_future(_run(kc, "import time\ntime.sleep(60)", timeout=90))
            await asyncio.sleep(1.0)
            await km.interrupt_kernel()
            messages = await run
            alive = _text(await _run(kc, "print('still here')"))
        finally:
            await km.shutdown_kernel()
        return messages, alive

    messages, alive = asyncio.run(main())
    # the sleep ended by KeyboardInterrupt (not by running out), and the kernel lives on
    assert [m["content"]["ename"] for m in messages if m["msg_type"] == "error"] == ["KeyboardInterrupt"]
    assert alive == "still here\n"


def test_a_killed_stand_in_takes_its_kernel_and_a_stopped_server_takes_all(server, tmp_path):
    async def start_two():
        return await asyncio.gather(_start(server, tmp_path), _start(server, tmp_path))

    async def pid_of(kc):
        return int(_text(await _run(kc, "import os; print(os.getpid())")))

    async def main():
        (km1, kc1), (km2, kc2) = await start_two()
        pids = [await pid_of(kc1), await pid_of(kc2)]
        proxy = km1.provisioner.process.pid
        os.kill(proxy, signal.SIGKILL)  # what jupyter_client does to a kernel that will not stop
        return pids, (km1, kc1), (km2, kc2)

    pids, (km1, kc1), (km2, kc2) = asyncio.run(main())
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pids[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(pids[0])
    assert psutil.pid_exists(pids[1])
    server.stop()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pids[1]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(pids[1])


def _fixture_notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("n = 3", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(body),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _outputs(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.get("outputs", [])]
            for c in nb.cells if c.cell_type == "code"]


def test_papermill_gives_the_same_notebook_from_a_forked_and_a_fresh_kernel(server, tmp_path):
    (tmp_path / "notebooks").mkdir()
    _fixture_notebook(tmp_path / "notebooks" / "sq.ipynb",
                      "import pandas as pd\nframe = pd.DataFrame({'k': range(n)})\nprint(frame['k'].sum())\nframe")
    made = {}
    for how, kernels in (("fresh", None), ("forked", server)):
        step = Step("sq", "notebooks/sq.ipynb")
        task = Task(step, "", {"n": 5}, None, {}, tmp_path / how / "sq.ipynb")
        execute.run_notebook(task, tmp_path, Config(root=tmp_path, progress=False), kernels)
        made[how] = _outputs(task.executed)
    assert made["forked"] == made["fresh"]
    assert made["forked"][2][0]["text"] == "10\n"  # 0+1+2+3+4, the injected n = 5


def test_a_failing_cell_in_a_forked_kernel_is_reported_like_a_fresh_one(server, tmp_path):
    (tmp_path / "notebooks").mkdir()
    _fixture_notebook(tmp_path / "notebooks" / "bad.ipynb", "x = n\n1 / 0")
    task = Task(Step("bad", "notebooks/bad.ipynb"), "", {}, None, {}, tmp_path / "out" / "bad.ipynb")
    with pytest.raises(StepFailed) as failure:
        execute.run_notebook(task, tmp_path, Config(root=tmp_path, progress=False), server)
    message = str(failure.value)
    assert "cell 2 of notebooks/bad.ipynb" in message
    assert "ZeroDivisionError: division by zero" in message
    assert (tmp_path / "out" / "failed" / "bad.ipynb").exists()


def test_fresh_kernels_on_the_command_line():
    from takingstock.runner import parse_run_args

    steps = [Step("x", "notebooks/x.ipynb")]
    assert parse_run_args([], steps).fork_kernels is True
    assert parse_run_args(["--fresh-kernels"], steps).fork_kernels is False


# ------------------------------------------------------------ kernels under load (issue 22)

#: A cell doing what a stale heartbeat socket did to a kernel whose control port it reached:
#: a REQ frame (no ``<IDS|MSG>`` delimiter) on the control channel. The kernel logs
#: "Uncaught exception in ZMQStream callback ... ValueError: DELIM not in msg_list".
_MALFORMED_CONTROL = (
    "import time, zmq\n"
    "from ipykernel.kernelapp import IPKernelApp\n"
    "app = IPKernelApp.instance()\n"
    "req = zmq.Context.instance().socket(zmq.REQ)\n"
    "req.connect(app.control_socket.getsockopt_string(zmq.LAST_ENDPOINT))\n"
    "req.send(b'ping')\n"
    "time.sleep(1.0)\n"
    "print('cell done')")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["fresh", "forked"])
def test_an_error_the_kernel_logs_fails_the_step_naming_it(server, tmp_path, how):
    (tmp_path / "notebooks").mkdir()
    _fixture_notebook(tmp_path / "notebooks" / "ctl.ipynb", _MALFORMED_CONTROL)
    task = Task(Step("ctl", "notebooks/ctl.ipynb"), "", {}, None, {}, tmp_path / "out" / "ctl.ipynb")
    with pytest.raises(StepFailed) as failure:
        execute.run_notebook(task, tmp_path, Config(root=tmp_path, progress=False),
                             server if how == "forked" else None)
    message = str(failure.value)
    assert message.startswith("step 'ctl': the kernel wrote")
    assert "DELIM not in msg_list" in message or "Uncaught exception in ZMQStream callback" in message
    assert not (tmp_path / "out" / "ctl.ipynb").exists()  # nothing published
    assert (tmp_path / "out" / "failed" / "ctl.ipynb").exists()


def test_kernel_error_lines_and_the_one_list_of_harmless_messages(monkeypatch):
    text = ("plain output\nERROR:tornado.general:Uncaught exception in ZMQStream callback\n"
            "Traceback (most recent call last):\n  File x\nValueError: DELIM not in msg_list\n"
            "[E 2026-12-07 10:00:00 Kernel] bad\nINFO:ok\n")
    # a traceback comes with its last frame and the exception it ends with
    assert execute.error_lines(text) == [
        "ERROR:tornado.general:Uncaught exception in ZMQStream callback",
        "Traceback (most recent call last):", "File x", "ValueError: DELIM not in msg_list",
        "[E 2026-12-07 10:00:00 Kernel] bad"]
    monkeypatch.setattr(execute, "HARMLESS", (r"^\[E .* Kernel\] bad$",))
    assert len(execute.error_lines(text)) == 4


def test_the_run_kernels_use_private_unix_sockets_and_send_no_heartbeat(server, tmp_path):
    """A heartbeat socket left connected to a TCP port that another kernel (of any process on
    the machine) later binds as its control channel sends that kernel frames it cannot read:
    the cause of the DELIM errors. The run's kernels listen on no TCP port and their clients
    start no heartbeat."""
    async def main():
        km, kc = await _start(server, tmp_path)
        try:
            info = km.get_connection_info()
            channels = {n: Path(f"{info['ip']}-{info[n + '_port']}").is_socket()
                        for n in ("shell", "iopub", "stdin", "control", "hb")}
            hb = kc._hb_channel
        finally:
            await km.shutdown_kernel()
        return info, channels, hb

    info, channels, hb = asyncio.run(main())
    assert info["transport"] == "ipc"
    assert channels == dict.fromkeys(channels, True)  # Unix sockets, no TCP port to collide on
    assert Path(info["ip"]).parent == Path(server.folder())
    assert oct(Path(server.folder()).stat().st_mode & 0o777) == "0o700"
    assert hb is None  # never made, so never started


def _threads(pid: int) -> int:
    return int(next(line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("Threads:")))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_the_fork_server_is_one_thread_when_it_forks(server, tmp_path):
    async def main():
        km, kc = await _start(server, tmp_path)  # served: the preloads are done
        await km.shutdown_kernel()

    asyncio.run(main())
    assert _threads(server._process.pid) == 1  # pyarrow's jemalloc thread is off


def test_a_multithreaded_server_starts_fresh_kernels_with_one_notice(tmp_path, monkeypatch, capfd):
    (tmp_path / "starts_a_thread.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), str(ROOT)]))
    srv = forkserver.ForkServer(ROOT, ["starts_a_thread"])

    async def main():
        out = []
        for _ in range(2):
            km, kc = await _start(srv, tmp_path)
            try:
                out.append((km.provisioner.pid, int(_text(await _run(kc, "import os; print(os.getpid())")))))
            finally:
                await km.shutdown_kernel()
        return out

    try:
        started = asyncio.run(main())
    finally:
        srv.stop()
    assert all(proxy == kernel for proxy, kernel in started)  # the stand-in became the kernel
    notices = [line for line in capfd.readouterr().err.splitlines() if line.startswith("notice: the kernels' fork")]
    assert len(notices) == 1 and "has 2 threads" in notices[0]


def test_a_kernel_whose_address_is_taken_is_started_again(server, tmp_path, monkeypatch):
    import errno

    import papermill
    import zmq

    (tmp_path / "notebooks").mkdir()
    _fixture_notebook(tmp_path / "notebooks" / "sq.ipynb", "print(n * n)")
    real, calls = papermill.execute_notebook, []

    def collide_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            Path(args[1]).write_text("{}")  # papermill saves the notebook before the kernel starts
            raise zmq.ZMQError(errno.EADDRINUSE)
        return real(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", collide_once)
    task = Task(Step("sq", "notebooks/sq.ipynb"), "", {}, None, {}, tmp_path / "out" / "sq.ipynb")
    execute.run_notebook(task, tmp_path, Config(root=tmp_path, progress=False), server)
    assert len(calls) == 2
    assert _outputs(task.executed)[1][0]["text"] == "9\n"
