#!/usr/bin/env python3
"""Benchmark pipeline.py: cold vs the naive way, warm no-change, and catalogue scale.

Everything runs in throw-away copies of the project (code, notebooks, data/raw; no outputs),
so the working tree's outputs are never touched:

1. cold: ``python pipeline.py`` on an empty output folder, against the naive way (each
   notebook in order through ``jupyter nbconvert --execute --to html``) in a second copy;
2. warm: ``python pipeline.py`` again with nothing changed;
3. scale: a synthetic catalogue (bench/make_catalogue.py) of 10^4, 10^5, 10^6 rows, the clean
   step pointed at it through a ``--params`` file, processed and output folders in a temp dir.

Time is wall-clock; peak memory is the largest sum of PSS (proportional set size: shared pages
split between the processes that share them; RSS where PSS is not available) over the process
tree (the pipeline, every kernel and every Chromium that kaleido starts), sampled every 0.1 s
with psutil. A SIPRI export in data/raw/sipri/ is used; when there is none, the newest real
export from ../shared/data/sipri/ is copied into the throw-away copy (never into the project). Results go to bench/results/
(git-ignored) as JSON, and a table is printed.

    python bench/run_bench.py [--sizes 10000 100000 1000000] [--skip-naive] [--jobs 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from make_catalogue import make_catalogue  # noqa: E402

from takingstock import atomic  # noqa: E402
from takingstock.paths import SHARED_SIPRI  # noqa: E402


def copy_project(dest: Path) -> Path:
    """Copy code, notebooks and raw data (incl. a SIPRI export placed in data/raw/sipri)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.py", "requirements.txt"):
        shutil.copy(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for folder in ("takingstock", "notebooks", "data/raw"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    (dest / "data" / "processed").mkdir(parents=True, exist_ok=True)
    sipri = dest / "data" / "raw" / "sipri"
    if not any(sipri.glob("*.csv")) and SHARED_SIPRI.is_dir():
        # the real register CI uses (copied into the throw-away copy only, never committed)
        newest = sorted(SHARED_SIPRI.glob("sipri_trade_register_all_*.csv"))[-1:]
        for path in newest:
            shutil.copy(path, sipri / path.name)
    return dest


def measure(cmd: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run ``cmd``; return seconds, peak tree RSS (MiB), exit code and the output's tail."""
    started = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [proc] + proc.children(recursive=True)
            rss = 0
            for p in tree:
                try:
                    rss += _memory(p)
                except psutil.Error:
                    pass
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.1)
    out = proc.stdout.read().decode(errors="replace")
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_mib": round(peak / 2**20),
        "returncode": proc.returncode,
        "tail": out[-1500:],
    }


def _memory(proc: psutil.Process) -> int:
    """PSS where the system gives it (shared pages split between processes), else RSS."""
    try:
        return proc.memory_full_info().pss
    except (AttributeError, psutil.AccessDenied):
        return proc.memory_info().rss


def env_for(root: Path) -> dict:
    env = dict(os.environ)
    env["CI"] = "1"
    env["PYTHONPATH"] = str(root)
    return env


def naive(root: Path) -> dict:
    """Each notebook in order through ``jupyter nbconvert --execute --to html``."""
    jupyter = Path(sys.executable).parent / "jupyter"
    total = {"seconds": 0.0, "peak_mib": 0, "returncode": 0, "tail": ""}
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        result = measure([str(jupyter), "nbconvert", "--execute", "--to", "html", str(nb),
                          "--output-dir", str(root / "output" / "naive")], root / "notebooks", env_for(root))
        total["seconds"] = round(total["seconds"] + result["seconds"], 2)
        total["peak_mib"] = max(total["peak_mib"], result["peak_mib"])
        if result["returncode"]:
            total["returncode"] = result["returncode"]
            total["tail"] += f"\n{nb.name}: {result['tail']}"
    return total


def machine() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit.stdout.strip(),
        "sipri_register": ([p.name for p in sorted((ROOT / "data" / "raw" / "sipri").glob("*.csv"))]
                           or [p.name for p in sorted(SHARED_SIPRI.glob("sipri_trade_register_all_*.csv"))[-1:]]
                           or ["none"])[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark pipeline.py (see bench/README.md).")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    results: dict = {"machine": machine(), "runs": []}
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="ts-bench-") as tmp_name:
        tmp = Path(tmp_name)
        project = copy_project(tmp / "pipeline")
        run = [sys.executable, "pipeline.py", "--jobs", str(args.jobs)]

        cold = measure(run, project, env_for(project))
        results["runs"].append({"name": "cold pipeline.py", **cold})
        rows.append(("cold: pipeline.py", f"{cold['seconds']:.1f}", f"{cold['peak_mib']}", str(cold["returncode"])))
        if not args.skip_naive:
            slow = naive(copy_project(tmp / "naive"))
            results["runs"].append({"name": "cold naive nbconvert", **slow})
            rows.append(("cold: naive nbconvert", f"{slow['seconds']:.1f}", f"{slow['peak_mib']}", str(slow["returncode"])))
            ratio = slow["seconds"] / cold["seconds"] if cold["seconds"] else float("nan")
            results["cold_speedup"] = round(ratio, 2)
            rows.append(("cold: naive / pipeline", f"x{ratio:.2f}", "", ""))
        serial = measure(run[:-1] + ["1", "--force"], project, env_for(project))
        results["runs"].append({"name": "cold pipeline.py -j 1 (--force)", **serial})
        rows.append(("cold: pipeline.py -j 1", f"{serial['seconds']:.1f}", f"{serial['peak_mib']}",
                     str(serial["returncode"])))
        warm = measure(run, project, env_for(project))
        results["runs"].append({"name": "warm no-change pipeline.py", **warm})
        rows.append(("warm: no change", f"{warm['seconds']:.2f}", f"{warm['peak_mib']}", str(warm["returncode"])))

        for size in args.sizes:
            work = tmp / f"scale-{size}"
            csv_path = work / "raw" / "catalogue_synthetic.csv"
            started = time.perf_counter()
            frame = make_catalogue(size)
            with atomic.atomic_path(csv_path) as out:
                frame.to_csv(out, index=False)
            made = time.perf_counter() - started
            params = work / "run.yaml"
            params.write_text(
                "catalogues: raw/catalogue_synthetic.csv\n"
                "processed_dir: processed\n"
                "output_dir: output\n"
                "catalogue: synthetic\n",
                encoding="utf-8",
            )
            result = measure(run + ["--params", str(params), "--keep-going"], project, env_for(project))
            result["rows"] = size
            result["generate_seconds"] = round(made, 2)
            result["csv_mib"] = round(csv_path.stat().st_size / 2**20, 1)
            report = work / "processed" / "cleaning_report.csv"
            if report.exists():  # proof the rows went through the clean step
                import pandas as pd

                counts = pd.read_csv(report)
                result["clean_rows"] = int(counts["clean_rows"].sum())
                result["rejected_rows"] = int(counts["rejected_rows"].sum())
            results["runs"].append({"name": f"scale {size:,} rows", **result})
            rows.append((f"scale: {size:,} rows", f"{result['seconds']:.1f}", f"{result['peak_mib']}",
                         str(result["returncode"])))
            if "clean_rows" in result:
                rows.append((f"  clean/rejected rows", f"{result['clean_rows']:,}", f"{result['rejected_rows']:,}", ""))

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    atomic.write_text(HERE / "results" / f"bench-{stamp}.json", json.dumps(results, indent=1))
    m = results["machine"]
    print(f"\nmachine: {m['nproc']} cores, {m['memory_gib']} GiB, Python {m['python']}, {m['date']}, "
          f"commit {m['commit']}, SIPRI register: {m['sipri_register']}")
    print(f"{'run':<26}{'seconds':>9}{'peak MiB':>10}{'exit':>6}")
    for name, secs, mib, code in rows:
        print(f"{name:<26}{secs:>9}{mib:>10}{code:>6}")
    failed = [r for r in results["runs"] if r.get("returncode")]
    for r in failed:
        print(f"\n--- {r['name']} exited {r['returncode']}:\n{r['tail']}")
    print(f"\nresults: {HERE / 'results' / f'bench-{stamp}.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
