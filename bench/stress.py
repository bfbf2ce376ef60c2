#!/usr/bin/env python3
"""Cold builds back to back on a loaded machine: do they fail, hang, publish kernel errors or leave processes?

Usage::

    .venv/bin/python bench/stress.py                  # 20 cold builds, 2 busy processes
    .venv/bin/python bench/stress.py --builds 5 --busy 4 --ctrl-c 3 --json /tmp/stress.json

What it does
    Starts ``--busy`` processes that spin on a CPU each (by default two: both cores of the
    machine the project is built on), then runs ``pipeline.py`` ``--builds`` times one after
    the other, each a cold build (its own new output and processed-data folders, so nothing is
    cached), each with ``--timeout`` seconds before it is called hung and killed. After each
    build it looks for

    * a **failure**: an exit code other than 0;
    * a **hang**: no exit within ``--timeout``;
    * **kernel error lines** in what the build published: every stderr output of every
      executed notebook (``output/notebooks/*.ipynb``), read with the runner's own rule
      (:func:`takingstock.runner.execute.error_lines`), and every page
      (``output/briefings/**/*.html``) searched for the texts a kernel error leaves
      ("Traceback (most recent call last)", "Uncaught exception", "DELIM not in msg_list",
      ``ERROR:``);
    * **processes left behind**: every process still alive two seconds after the build ended
      that carries the build's own mark in its environment (``TAKINGSTOCK_STRESS_BUILD``,
      inherited by the runner's kernels, fork server, stand-ins and browsers), so other
      people's processes on a shared machine are never counted.

    Then, with ``--ctrl-c N``, it runs the runner's Ctrl-C and SIGTERM tests N times under the
    same load (``-W error::DeprecationWarning``). It prints one line per build, the totals and
    the load average seen, and writes them as JSON with ``--json``.

Caveats
    The load average counts every process on the machine, other people's too; the report
    gives it as seen. The busy processes are plain Python loops: they take CPU, not memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from takingstock.runner.execute import error_lines  # noqa: E402

MARK = "TAKINGSTOCK_STRESS_BUILD"
#: What a kernel error leaves on a page (the pages show no input, so a cell's stderr is text).
PAGE_ERRORS = re.compile(r"Traceback \(most recent call last\)|Uncaught exception|DELIM not in msg_list|\bERROR:")


def start_busy(n: int) -> list[subprocess.Popen]:
    """``n`` processes spinning on a CPU each."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def notebook_errors(folder: Path) -> list[str]:
    """Error lines in the stderr outputs of the executed notebooks under ``folder``."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for number, cell in enumerate(nb.get("cells", []), start=1):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    text = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
                    found += [f"{path.name}, cell {number}: {line}" for line in error_lines(text)]
    return found


def page_errors(folder: Path) -> list[str]:
    """Kernel error texts in the pages under ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.html")):
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [f"{path.name}: {m.group(0)}" for m in PAGE_ERRORS.finditer(text)]
    return found


def marked_processes(mark: str) -> list[str]:
    """The live processes whose environment carries ``MARK=mark``."""
    import psutil

    left = []
    for proc in psutil.process_iter(["pid", "name", "cmdline"]):
        try:
            if proc.environ().get(MARK) == mark and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [proc.info['name']])[:120]}")
        except (psutil.Error, OSError):
            continue
    return left


def one_build(number: int, work: Path, timeout: float) -> dict:
    """One cold build into its own folders; what went wrong with it."""
    mark = f"{os.getpid()}-{number}"
    out, processed = work / f"build-{number}" / "output", work / f"build-{number}" / "processed"
    env = {**os.environ, MARK: mark, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(ROOT / "pipeline.py"), "--no-progress",
           "-p", "output_dir", str(out), "-p", "processed_dir", str(processed)]
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    hung = False
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
    seconds = time.monotonic() - started
    time.sleep(2)
    left = marked_processes(mark)
    for line in left:  # leave nothing of ours behind for the next build
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except OSError:
            pass
    result = {
        "build": number, "seconds": round(seconds, 1), "exit": proc.returncode, "hung": hung,
        "failed": hung or proc.returncode != 0,
        "notebook_errors": notebook_errors(out / "notebooks"), "page_errors": page_errors(out / "briefings"),
        "left_behind": left, "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
    }
    if result["failed"]:
        result["log_tail"] = log[-3000:]
    shutil.rmtree(work / f"build-{number}", ignore_errors=True)
    return result


def run_ctrl_c_tests(times: int) -> list[dict]:
    """The runner's Ctrl-C and SIGTERM tests, ``times`` times, under the current load."""
    results = []
    for i in range(times):
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::DeprecationWarning",
             "tests/test_runner.py", "-k", "ctrl_c or sigterm"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
        results.append({"run": i + 1, "exit": proc.returncode, "seconds": round(time.monotonic() - started, 1),
                        "summary": (proc.stdout.strip().splitlines() or [""])[-1]})
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--builds", type=int, default=20)
    parser.add_argument("--busy", type=int, default=2, help="CPU-spinning processes beside the builds")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a build is called hung")
    parser.add_argument("--ctrl-c", type=int, default=0, metavar="N", help="then run the Ctrl-C/SIGTERM tests N times")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="takingstock-stress-"))
    busy = start_busy(args.busy)
    builds, tests = [], []
    try:
        for number in range(1, args.builds + 1):
            result = one_build(number, work, args.timeout)
            builds.append(result)
            print(f"build {number:>2}: exit {result['exit']}, {result['seconds']:6.1f} s, load "
                  f"{result['load_before']:.1f}->{result['load_after']:.1f}, kernel errors "
                  f"{len(result['notebook_errors']) + len(result['page_errors'])}, left {len(result['left_behind'])}"
                  + ("  HUNG" if result["hung"] else "") + ("  FAILED" if result["failed"] else ""), flush=True)
            if result["failed"]:
                print(result.get("log_tail", ""), flush=True)
        tests = run_ctrl_c_tests(args.ctrl_c)
        for t in tests:
            print(f"ctrl-c/sigterm tests run {t['run']}: exit {t['exit']}, {t['seconds']} s: {t['summary']}", flush=True)
    finally:
        for p in busy:
            p.kill()
            p.wait()
        shutil.rmtree(work, ignore_errors=True)
    seconds = [b["seconds"] for b in builds]
    loads = [b["load_before"] for b in builds] + [b["load_after"] for b in builds]
    summary = {
        "builds": len(builds), "busy_processes": args.busy, "cpus": os.cpu_count(),
        "failures": sum(b["failed"] and not b["hung"] for b in builds), "hangs": sum(b["hung"] for b in builds),
        "kernel_error_lines": sum(len(b["notebook_errors"]) + len(b["page_errors"]) for b in builds),
        "processes_left": sum(len(b["left_behind"]) for b in builds),
        "seconds_median": round(statistics.median(seconds), 1) if seconds else None,
        "seconds_max": max(seconds, default=None),
        "load_min": min(loads, default=None), "load_max": max(loads, default=None),
        "ctrl_c_test_failures": sum(t["exit"] != 0 for t in tests), "ctrl_c_test_runs": len(tests),
    }
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "builds": builds, "tests": tests}, indent=1))
    bad = summary["failures"] + summary["hangs"] + summary["kernel_error_lines"] + summary["processes_left"]
    return 1 if bad or summary["ctrl_c_test_failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
