#!/usr/bin/env python3
"""Benchmark pipeline.py against the naive way, side by side in one run, each figure beside its target.

Everything runs in throw-away copies of the project (code, notebooks, data/raw; no outputs), so
the working tree's outputs are never touched. A SIPRI export in data/raw/sipri/ is used; when
there is none, the real whole-register releases of ../shared/data/sipri/ are copied into each
copy (never into the project), as .ci/run does: the ledger then has a column per release and
notebook 06 compares them. In one run it measures:

1. **cold**: ``python pipeline.py`` (``-j 2``) on empty output folders; the **naive** way, each
   notebook in order through ``jupyter nbconvert --execute --to html`` (each notebook draws its
   own static images, in its own browser); and ``pipeline.py -j 1``, cold too, each in its own
   copy; the ratios naive / pipeline;
2. **per step**: the seconds of every step of the cold run (the runner's summary table), and
   the cost of one static image (each figure spec of the cold run drawn alone, one browser);
3. **warm**: ``pipeline.py`` again with nothing changed; then **one notebook edited**
   (a Markdown cell added to notebook 03): only it and its dependants rerun;
4. **grid**: ``--grid supply.recipients=...`` over 1, 5 and 10 recipients (distinct names, so
   no run is cached), whole runs (supply per recipient, then figures and publish), each
   starting from the plain run's pages alone (the notebooks and summaries of the grid runs
   before it removed, so T(10) does not print their pages too); the cost of each extra
   recipient is ``(T(10) - T(1)) / 9``;
5. **scale**: a synthetic catalogue (bench/make_catalogue.py) of 10^4, 10^5, 10^6 rows, the
   whole pipeline on it through a ``--params`` file (own processed and output folders).

Time is wall-clock. Peak memory is the largest sum of PSS (proportional set size: shared pages
split between the processes sharing them; RSS where PSS is not available) over the process
tree (the pipeline, every kernel, every Chromium), sampled every 0.2 s from
``/proc/<pid>/smaps_rollup``. Results go to bench/results/ (git-ignored) as JSON, and a table is
printed: every figure with its target, whether it is met and its ratio to the naive loop.

    python bench/run_bench.py [--sizes 10000 100000 1000000] [--skip-naive] [--skip-grid] [--jobs 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
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

from takingstock.core import atomic  # noqa: E402
from takingstock.core.paths import SHARED_SIPRI  # noqa: E402
from takingstock.data.runcontext import GRID_STEM_SEP  # noqa: E402

#: Recipients of the grid runs: 1, then 5, then 10 others (disjoint, so no task is cached).
GRID_RECIPIENTS = {
    1: ["Iraq"],
    5: ["Iran", "Syria", "Egypt", "Saudi Arabia", "Israel"],
    10: ["Jordan", "Libya", "Yemen", "Kuwait", "Lebanon", "United Arab Emirates", "Qatar", "Oman",
         "Bahrain", "Algeria"],
}
TARGETS = {
    "speedup": 3.0,         # cold pipeline at least x3 faster than the naive loop, median and every pair
    "warm": 0.2,            # seconds, nothing changed
    "figures_wait": 1.0,    # seconds the run waits in the figures step (images off the critical path)
    "extra_recipient": 1.0,  # seconds per extra grid recipient
    "scale_seconds": 20.0,  # 10^5 rows end to end
    "scale_mib": 1536,      # 10^6 rows: 1.5 GB peak PSS of the whole process tree (time reported)
}
EDITED_NOTEBOOK = "notebooks/03_eras.ipynb"
WARM_RUNS = 7  # timed no-change runs; the median is the figure


# ------------------------------------------------------------------ copies and commands


def copy_project(dest: Path) -> Path:
    """Copy code, notebooks and raw data; put the real releases in data/raw/sipri if it has none."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline.py", "requirements.txt"):
        shutil.copy(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
    for folder in ("takingstock", "notebooks", "data/raw"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    (dest / "data" / "processed").mkdir(parents=True, exist_ok=True)
    sipri = dest / "data" / "raw" / "sipri"
    if not any(sipri.glob("*.csv")) and SHARED_SIPRI.is_dir():
        # the real registers CI uses (copied into the throw-away copy only, never committed)
        for path in sorted(SHARED_SIPRI.glob("sipri_trade_register_all_*.csv"))[-2:]:
            shutil.copy(path, sipri / path.name)
    return dest


def _pss(proc: psutil.Process) -> int:
    """PSS in bytes from smaps_rollup (cheap), else psutil's PSS, else RSS."""
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return proc.memory_full_info().pss
    except (AttributeError, psutil.Error):
        return proc.memory_info().rss


def measure(cmd: list[str], cwd: Path, env: dict | None = None, memory: bool = True) -> dict:
    """Run ``cmd``; return seconds, CPU seconds (user + system of the waited-for process tree),
    peak tree PSS (MiB; None without ``memory``), exit code and its output.

    Reading every process's PSS makes the kernel walk its page tables: for a run of ~15
    processes (Chromium's among them) every 0.2 s, that took ~1 s of a 10 s run from the two
    cores the run itself needs. So the timed comparisons run with ``memory=False``, and the
    peaks come from runs of their own.
    """
    import resource

    import threading

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = psutil.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peaks = [0]
    out_chunks: list[bytes] = []
    done = threading.Event()

    def sample() -> None:  # the tree's PSS every 0.2 s, on a thread: the wait below is exact
        while not done.is_set():
            total = 0
            try:
                for p in [proc] + proc.children(recursive=True):
                    try:
                        total += _pss(p)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            peaks[0] = max(peaks[0], total)
            done.wait(0.2)

    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
    sampler = threading.Thread(target=sample, daemon=True)
    reader.start()
    if memory:
        sampler.start()
    proc.wait()
    seconds = time.perf_counter() - started
    done.set()
    if memory:
        sampler.join()
    peak = peaks[0] if memory else None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    reader.join()
    out = b"".join(out_chunks).decode(errors="replace")
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 1),
            "peak_mib": None if peak is None else round(peak / 2**20),
            "returncode": proc.returncode, "output": out, "steps": step_table(out)}


def _median(items: list, key=None):
    """The middle item by ``key`` (the upper middle of an even number): a run that happened."""
    return sorted(items, key=key)[len(items) // 2]


def step_table(output: str) -> dict[str, tuple[str, float]]:
    """The runner's closing summary table: task -> (state, seconds)."""
    found: dict[str, tuple[str, float]] = {}
    for line in output.splitlines():
        m = re.match(r"^(\S+)\s+(ran|skipped|failed|blocked|not run|interrupted)\s+([\d.]+)$", line.strip())
        if m:
            found[m.group(1)] = (m.group(2), float(m.group(3)))
    return found


def env_for(root: Path) -> dict:
    """The environment of every timed command (naive and pipeline alike): this one, with the
    copy on ``PYTHONPATH`` and bytecode caching on, as Python has it by default (a shell that
    sets ``PYTHONDONTWRITEBYTECODE`` would otherwise compile every module on every start)."""
    env = dict(os.environ)
    env["CI"] = "1"
    env["PYTHONPATH"] = str(root)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def forget_grid_runs(root: Path) -> None:
    """Remove the executed notebooks and summaries of earlier grid runs, so that each grid run
    starts from the plain run's pages alone: the publish step keeps (renders and prints) every
    other run's page it finds, which would charge T(10) for the pages of the runs before it."""
    for folder, suffix in (("notebooks", ".ipynb"), ("summaries", ".json")):
        for path in (root / "output" / folder).glob(f"*{GRID_STEM_SEP}*{suffix}"):
            path.unlink()


def naive(root: Path, memory: bool = True) -> dict:
    """Each notebook in order through ``jupyter nbconvert --execute --to html``."""
    jupyter = Path(sys.executable).parent / "jupyter"
    total = {"seconds": 0.0, "cpu_seconds": 0.0, "peak_mib": 0, "returncode": 0, "output": "", "steps": {}}
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        result = measure([str(jupyter), "nbconvert", "--execute", "--to", "html", str(nb),
                          "--output-dir", str(root / "output" / "naive")], root / "notebooks", env_for(root), memory)
        total["seconds"] = round(total["seconds"] + result["seconds"], 2)
        total["cpu_seconds"] = round(total["cpu_seconds"] + result["cpu_seconds"], 1)
        total["peak_mib"] = max(total["peak_mib"], result["peak_mib"] or 0) if memory else None
        total["steps"][nb.stem] = ("ran" if not result["returncode"] else "failed", result["seconds"])
        if result["returncode"]:
            total["returncode"] = result["returncode"]
            total["output"] += f"\n{nb.name}: {result['output'][-1500:]}"
    return total


FIGURE_COSTS = r"""
import json, sys, time
from pathlib import Path
import plotly.io as pio
from takingstock.report import images
specs = sorted(Path(sys.argv[1]).glob("*.json"))
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
t = time.perf_counter()
images.export_static([pio.from_json(specs[0].read_text())], [out / "warmup.png"])
start = time.perf_counter() - t
costs = []
for spec in specs:
    fig = pio.from_json(spec.read_text(encoding="utf-8"))
    for fmt in images.STATIC_FORMATS:
        t = time.perf_counter()
        images.export_static([fig], [out / f"{spec.stem}.{fmt}"])
        costs.append([f"{spec.stem}.{fmt}", round(time.perf_counter() - t, 4)])
# every image in one batch: ours, then stock kaleido's through plotly's public batch call
dicts = [json.loads(spec.read_text(encoding="utf-8")) for spec in specs for _ in images.STATIC_FORMATS]
paths = [out / f"batch-{spec.stem}.{fmt}" for spec in specs for fmt in images.STATIC_FORMATS]
t = time.perf_counter()
images.export_static(dicts, paths)
ours = time.perf_counter() - t
kpaths = [p.with_name("kaleido-" + p.name) for p in paths]
t = time.perf_counter()
pio.write_images(dicts, kpaths, width=900, height=560)
stock = time.perf_counter() - t
same = sum(a.read_bytes() == b.read_bytes() for a, b in zip(paths, kpaths) if a.suffix == ".png")
print(json.dumps({"browser_start": round(start, 3), "images": costs, "batch": round(ours, 3),
                  "kaleido_batch": round(stock, 3), "png_same_as_kaleido": [same, len(specs)]}))
"""


def figure_costs(project: Path, figures_dir: Path, scratch: Path) -> dict:
    """Each static image of the cold run drawn alone in one browser: its seconds."""
    done = subprocess.run([sys.executable, "-c", FIGURE_COSTS, str(figures_dir), str(scratch)], cwd=project,
                          env=env_for(project), capture_output=True, text=True)
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": done.stderr[-1500:]}


def edit_notebook(project: Path) -> None:
    """Add a Markdown cell at the end of the edited notebook (its cache key changes)."""
    path = project / EDITED_NOTEBOOK
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["(edited by the benchmark)"]})
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def machine() -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    load = os.getloadavg()
    sipri = sorted((ROOT / "data" / "raw" / "sipri").glob("*.csv")) or \
        sorted(SHARED_SIPRI.glob("sipri_trade_register_all_*.csv"))[-2:]
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit.stdout.strip(),
        "load_before": [round(x, 2) for x in load],
        "sipri_registers": [p.name for p in sipri] or ["none"],
    }


# ------------------------------------------------------------------ the report


class Report:
    """Rows of the printed table: what, seconds, peak MiB, target, met, ratio to naive."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str, str]] = []
        self.naive: float | None = None

    def add(self, what: str, seconds: float | None, mib: int | None = None, target: str = "",
            met: bool | None = None, vs_naive: bool = False, fmt: str = "{:.2f}") -> None:
        ratio = f"x{self.naive / seconds:.2f}" if vs_naive and self.naive and seconds else ""
        self.rows.append((what, "" if seconds is None else fmt.format(seconds), "" if mib is None else str(mib),
                          target, "" if met is None else ("yes" if met else "NO"), ratio))

    def text(self) -> str:
        head = ("measure", "seconds", "peak MiB", "target", "met", "naive/this")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(6)]
        line = lambda r: "| " + " | ".join(c.ljust(w) if i in (0, 3) else c.rjust(w)  # noqa: E731
                                           for i, (c, w) in enumerate(zip(r, widths))) + " |"
        sep = "|" + "|".join("-" * (w + 2) if i in (0, 3) else "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"
        return "\n".join([line(head), sep] + [line(r) for r in self.rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark pipeline.py (see bench/README.md).")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-grid", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3,
                        help="cold naive / pipeline runs, in turn, each in a fresh copy (medians reported)")
    args = parser.parse_args(argv)

    results: dict = {"machine": machine(), "runs": {}}
    rep = Report()
    runs = results["runs"]

    def keep(name: str, result: dict) -> dict:
        runs[name] = {k: v for k, v in result.items() if k != "output"} | {"tail": result.get("output", "")[-1500:]}
        return result

    with tempfile.TemporaryDirectory(prefix="ts-bench-") as tmp_name:
        tmp = Path(tmp_name)
        project = copy_project(tmp / "pipeline")
        run = [sys.executable, "pipeline.py", "--jobs", str(args.jobs)]

        # cold runs in pairs, naive and pipeline in turn, each in a fresh copy: on a shared machine
        # a single pair says more about the neighbours' load than about the code
        colds, slows = [], []
        for i in range(max(1, args.pairs)):
            where = project if i == 0 else copy_project(tmp / f"pipeline-{i}")
            colds.append(keep(f"cold {i + 1}", measure(run, where, env_for(where), memory=False)))
            if not args.skip_naive:
                slows.append(keep(f"naive {i + 1}", naive(copy_project(tmp / f"naive-{i}"), memory=False)))
        cold = dict(_median(colds, key=lambda r: r["seconds"]))
        slow = dict(_median(slows, key=lambda r: r["seconds"])) if slows else None
        # the peaks: one more cold run of each, its memory sampled (its time is not used)
        cold["peak_mib"] = keep("cold, memory", measure(run, copy_project(tmp / "pipeline-memory"),
                                                        env_for(tmp / "pipeline-memory")))["peak_mib"]
        if slow is not None:
            rep.naive = slow["seconds"] if not any(r["returncode"] for r in slows) else None
            slow["peak_mib"] = keep("naive, memory", naive(copy_project(tmp / "naive-memory")))["peak_mib"]
        serial = keep("cold -j 1", measure([sys.executable, "pipeline.py", "--jobs", "1"], copy_project(tmp / "serial"),
                                           env_for(tmp / "serial"), memory=False))
        if rep.naive:
            rep.add(f"cold: naive nbconvert loop, {len(list((ROOT / 'notebooks').glob('*.ipynb')))} notebooks (median of {len(slows)})", rep.naive, slow["peak_mib"],
                    "(reference)")
        speedup = rep.naive / cold["seconds"] if rep.naive else None
        pair_ratios = sorted(n["seconds"] / c["seconds"] for n, c in zip(slows, colds)) if rep.naive else []
        results["pair_ratios"] = [round(r, 2) for r in pair_ratios]
        results["cold_seconds"] = [c["seconds"] for c in colds]
        results["naive_seconds"] = [n["seconds"] for n in slows]
        rep.add(f"cold: pipeline.py -j {args.jobs} (median of {len(colds)})", cold["seconds"], cold["peak_mib"],
                f">= x{TARGETS['speedup']:.0f} faster than naive, every pair",
                None if speedup is None else speedup >= TARGETS["speedup"] and pair_ratios[0] >= TARGETS["speedup"],
                vs_naive=True)
        if len(pair_ratios) > 1:
            rep.add(f"  naive/pipeline pair by pair: x{pair_ratios[0]:.2f} to x{pair_ratios[-1]:.2f}, "
                    f"median x{_median(pair_ratios):.2f}", None)
        rep.add("cold: pipeline.py -j 1", serial["seconds"], serial["peak_mib"], "(reported)", vs_naive=True)
        for label, r in (("naive", slow if rep.naive else None), (f"pipeline -j {args.jobs}", cold), ("pipeline -j 1", serial)):
            if r is not None:
                rep.add(f"  CPU seconds (user + system), {label}", r["cpu_seconds"], fmt="{:.1f}")
        results["speedup"] = None if speedup is None else round(speedup, 2)
        results["speedup_j1"] = round(rep.naive / serial["seconds"], 2) if rep.naive else None
        for task, (state, secs) in cold["steps"].items():
            rep.add(f"  cold step {task} ({state})", secs, fmt="{:.1f}",
                    target=f"wait < {TARGETS['figures_wait']:.0f} s" if task == "figures" else "",
                    met=(secs < TARGETS["figures_wait"]) if task == "figures" else None)
        costs = figure_costs(project, project / "output" / "figures", tmp / "figure-costs")
        results["figure_costs"] = costs
        if "images" in costs and costs["images"]:
            secs = sorted(c for _, c in costs["images"])
            rep.add("  browser start for static images", costs["browser_start"])
            rep.add(f"  one static image, median of {len(secs)} (max {secs[-1]:.3f})", secs[len(secs) // 2], fmt="{:.3f}")
            rep.add(f"  all {len(secs)} images one by one", sum(secs), fmt="{:.1f}")
            rep.add(f"  all {len(secs)} images in one batch (plotly.js's Plotly.toImage, playwright)", costs["batch"])
            same, n = costs["png_same_as_kaleido"]
            rep.add(f"  the same with stock kaleido (plotly.io.write_images; {same} of {n} PNGs byte for byte ours)",
                    costs["kaleido_batch"])

        # like the cold runs, the timed warm runs are not sampled (reading /proc of a 0.2 s run
        # costs a large share of it); one more run gives the peak
        sampled = measure(run, project, env_for(project))
        warm_runs = [measure(run, project, env_for(project), memory=False) for _ in range(WARM_RUNS)]
        warm = keep("warm", {**_median(warm_runs, key=lambda r: r["seconds"]), "peak_mib": sampled["peak_mib"],
                             "runs": [r["seconds"] for r in warm_runs], "sampled_seconds": sampled["seconds"]})
        rep.add(f"warm: nothing changed (median of {WARM_RUNS}; {min(warm['runs']):.2f}-{max(warm['runs']):.2f} s; "
                f"{sampled['seconds']:.2f} s with memory sampled)", warm["seconds"], warm["peak_mib"],
                f"< {TARGETS['warm']} s", warm["seconds"] < TARGETS["warm"], vs_naive=True)
        edit_notebook(project)
        edited = keep("edited", measure(run, project, env_for(project)))
        reran = sorted(t for t, (state, _) in edited["steps"].items() if state == "ran")
        results["edited_reran"] = reran
        rep.add(f"one notebook edited ({Path(EDITED_NOTEBOOK).stem}): reran {', '.join(reran)}", edited["seconds"],
                edited["peak_mib"], "only it and its dependants",
                reran == sorted(["eras", "figures", "publish"]), vs_naive=True)

        if not args.skip_grid:
            grid = {}
            for k, names in GRID_RECIPIENTS.items():
                forget_grid_runs(project)
                option = "supply.recipients=[" + ", ".join(names) + "]"
                grid[k] = keep(f"grid {k}", measure(run + ["--grid", option], project, env_for(project)))
                rep.add(f"grid over {k} recipient(s): whole run", grid[k]["seconds"], grid[k]["peak_mib"])
            extra = (grid[10]["seconds"] - grid[1]["seconds"]) / 9
            results["extra_recipient_seconds"] = round(extra, 2)
            rep.add("  each extra recipient, (T(10) - T(1)) / 9", extra, target=f"< {TARGETS['extra_recipient']:.0f} s",
                    met=extra < TARGETS["extra_recipient"])
            rep.add("  each extra recipient, (T(5) - T(1)) / 4", (grid[5]["seconds"] - grid[1]["seconds"]) / 4)

        for size in args.sizes:
            work = tmp / f"scale-{size}"
            csv_path = work / "raw" / "catalogue_synthetic.csv"
            frame = make_catalogue(size)
            with atomic.atomic_path(csv_path) as out:
                frame.to_csv(out, index=False)
            params = work / "run.yaml"
            params.write_text("catalogues: raw/catalogue_synthetic.csv\nprocessed_dir: processed\n"
                              "output_dir: output\ncatalogue: synthetic\n", encoding="utf-8")
            result = keep(f"scale {size}", measure(run + ["--params", str(params), "--keep-going"], project,
                                                    env_for(project)))
            report = work / "processed" / "cleaning_report.csv"
            rows = ""
            if report.exists():  # proof the rows went through the clean step
                import pandas as pd

                counts = pd.read_csv(report)
                result["clean_rows"] = int(counts["clean_rows"].sum())
                runs[f"scale {size}"]["clean_rows"] = result["clean_rows"]
                rows = f" ({result['clean_rows']:,} clean)"
            target, met = "(reported)", None
            if size == 100_000:
                target, met = f"< {TARGETS['scale_seconds']:.0f} s", result["seconds"] < TARGETS["scale_seconds"]
            elif size >= 1_000_000:
                target = f"< {TARGETS['scale_mib']} MiB (time reported)"
                met = result["peak_mib"] is not None and result["peak_mib"] < TARGETS["scale_mib"]
            rep.add(f"scale: {size:,} rows end to end{rows}", result["seconds"], result["peak_mib"], target,
                    met if not result.get("returncode") else False)

    results["table"] = rep.text()
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    atomic.write_text(HERE / "results" / f"bench-{stamp}.json", json.dumps(results, indent=1))
    m = results["machine"]
    print(f"\nmachine: {m['nproc']} cores, {m['memory_gib']} GiB, Python {m['python']}, {m['date']}, "
          f"commit {m['commit']}, load before {m['load_before']}, SIPRI: {', '.join(m['sipri_registers'])}\n")
    print(rep.text())
    failed = [(name, r) for name, r in runs.items() if r.get("returncode")]
    for name, r in failed:
        print(f"\n--- {name} exited {r['returncode']}:\n{r['tail']}")
    print(f"\nresults: {HERE / 'results' / f'bench-{stamp}.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
