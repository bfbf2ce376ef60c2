"""The scheduler: run the plan's tasks in dependency order, at most ``jobs`` at a time.

Each round looks at the pending tasks in step order and, for each, decides in this order:

1. **ready?** every task of every step it needs (among the selected steps) has finished;
2. **blocked?** a task of a step it needs failed or was blocked: it is ``blocked``;
3. **skip?** not forced (``--force``, or its step named by ``--only``), no step it needs
   reran in this run, and its cache key shows it fresh (:mod:`takingstock.runner.cache`):
   ``skipped``;
4. **submit** it to the thread pool, unless ``jobs`` tasks are already running.

Then it waits for one running task to finish and records it: ``ran`` (its cache entry
written), or ``failed`` (entry dropped, so it is tried again next time). After a failure no
new task starts unless ``--keep-going``; the tasks left are ``not run``. Threads, not
processes: separate processes hit kernel port races; the default of 2 matches the machine.

Early work. When a task has run, every selected function step that needs its step and
declares ``early`` (:class:`~takingstock.runner.steps.Step`) gets an early call for it, queued
on that step's background thread, outside the ``jobs`` limit: the figures step draws a
notebook's static images and the publish step renders its page body as soon as that notebook
is done, while the next notebooks run; an early call for a task waits for the early calls for
the same task of the steps its step needs (the page after the images). A step's ``prepare``
call is queued on the same thread when the first task of a step it needs has run (the browsers
start while the next notebooks run, not beside the first); what it returns is called when the
run ends. The function
step's own task, when its turn comes, first waits for its early calls (its seconds include that
wait: what the run waited for). An early call that fails prints a warning; the task then does
what was left.

Kernels. Unless ``Config.fork_kernels`` is off (``--fresh-kernels``), the run's kernels are
forked from one pre-imported server (:mod:`takingstock.runner.forkserver`), started when the
first notebook task is submitted and stopped when the run ends.

A run holds the lock of its output and processed-data folders from before it reads its cache
to its end (:mod:`takingstock.runner.lock`), and removes the temporaries a killed run left.

Checks. A task that ran is checked by its step's ``check`` (:class:`~takingstock.runner.steps.Step`)
before it is recorded; a refusal fails it, unless ``--accept STEP``.

The end. After the step table, one ``note:`` line per thing the user must know, from each
step's ``notice`` (:class:`~takingstock.runner.steps.Step`) for the tasks that ran or were up to
date: what the steps recorded (no SIPRI export at hand, catalogue rows rejected, a release
comparison skipped), read from their files, never computed again. Nothing to say, no line.

Ctrl-C (and SIGTERM, which :func:`takingstock.runner.cli.main` turns into the same) closes the
run's kernels to new starts and terminates the kernels (and any browser) the run started, again
every second until the worker threads have ended; started tasks are ``interrupted``, the others
``not run``, their cache entries dropped, and ``main`` exits 130 (143 for SIGTERM). Nothing
half-done is published: a notebook is moved into place only when it finishes.
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

from takingstock.runner import execute, forkserver
from takingstock.runner.cache import StepCache, expand, notebook_imports
from takingstock.runner.lock import RunLock, sweep
from takingstock.runner.plan import Plan
from takingstock.runner.steps import Config, Result, Step, StepContext, StepFailed, Task


def summary_table(results: Sequence[Result]) -> str:
    """A plain-text table: task, state, seconds."""
    width = max([10] + [len(r.step) + 2 for r in results])
    lines = ["", f"{'step':<{width}}{'state':<10}{'seconds':>8}", "-" * (width + 18)]
    lines += [f"{r.step:<{width}}{r.state:<10}{r.seconds:>8.1f}" for r in results]
    return "\n".join(lines)


class Pipeline:
    """Run a list of steps under a :class:`Config`; whole after ``__init__``.

    ``__init__`` builds the :class:`Plan` (reading notebooks, checking every parameter and
    grid value: :class:`ParameterError` before anything runs) and opens the cache, so
    :meth:`cache_key` and :meth:`is_fresh` work before any run.
    """

    def __init__(self, steps: Sequence[Step], config: Config, out=None):
        self.config = config
        self.plan = Plan(steps, config)
        self.cache = StepCache(self.plan.root, self.plan.output_dir)
        self.out = out or sys.stdout
        self.jobs = max(1, int(config.jobs))
        self._print_lock = threading.Lock()
        self._selected = {s.name for s in self.plan.steps}
        # the state of the run (filled by run())
        self.results: dict[str, Result] = {}
        self.pending: list[Task] = list(self.plan.tasks)
        self.running: dict[cf.Future, tuple[Task, str]] = {}
        self.started: set[str] = set()
        self.reran_steps: set[str] = set()
        self.bad_steps: set[str] = set()
        self.stopped = False
        # early and prepare calls (Step.early, Step.prepare): a background thread per step,
        # their futures per step and per (step, finished task), the cleanups prepare returned
        self._early_pools: dict[str, cf.ThreadPoolExecutor] = {}
        self.early: dict[str, list[cf.Future]] = {}
        self._early_of: dict[tuple[str, str], cf.Future] = {}
        self._prepared: set[str] = set()
        self._cleanups: list[cf.Future] = []
        # (function step, task that ran): prepare and early calls lined up, held while a step
        # upstream of the function step still runs: one its needs need, at any depth, other
        # than its needs themselves (release_head_starts)
        self._held_back: list[tuple[Step, Task]] = []
        self._upstream = {s.name: self.plan.needed(s.needs) - set(s.needs)
                          for s in self.plan.steps if s.prepare or s.early}
        # the run's kernels: made when the first notebook task is submitted (a run with nothing
        # to do never computes the fork server's preload list); fresh ones with --fresh-kernels
        self._fork = config.fork_kernels and forkserver.available()
        self.kernels: forkserver.Kernels | None = None

    def _fork_server(self) -> forkserver.ForkServer:
        """The fork server, preloading every package module the run's notebooks can import
        (their imports, and the imports of those, inside functions too: the cache's closure)."""
        names: set[str] = set()
        for nb in self.plan.notebooks.values():
            names |= notebook_imports(nb) or set()
        modules = []
        for path in self.cache.modules.closure(names):
            parts = path.relative_to(self.cache.modules.root).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        return forkserver.ForkServer(self.plan.root, modules)

    # ------------------------------------------------------------ queries

    def say(self, text: str) -> None:
        with self._print_lock:
            print(text, file=self.out, flush=True)

    def cache_key(self, task: Task) -> str:
        """The task's cache key."""
        return self.cache.key(task, self.plan.notebooks.get(task.step.name))

    def is_fresh(self, task: Task, key: str | None = None) -> bool:
        """Whether the task's last successful run is still good (the cache alone decides)."""
        return self.cache.is_fresh(task, self.cache_key(task) if key is None else key)

    def is_ready(self, task: Task) -> bool:
        """Every task of every selected step it needs has finished."""
        return all(t.name in self.results for n in task.step.needs if n in self._selected
                   for t in self.plan.by_step[n])

    def large_holdings(self, task: Task) -> set[Path]:
        """The files of ``task.step.holds`` when together they weigh more than
        ``config.large_file_mb`` (else none): what the task must not share with another."""
        files = expand(task.step.holds, task.fmt)
        size = sum(f.stat().st_size for f in files if f.is_file())
        return set(files) if files and size > self.config.large_file_mb * 1e6 else set()

    def waits_for_memory(self, task: Task) -> bool:
        """A running task holds one of the large files ``task`` would hold (see ``Step.holds``)."""
        mine = self.large_holdings(task)
        return bool(mine) and any(mine & self.large_holdings(other) for other, _ in self.running.values())

    def is_blocked(self, task: Task) -> bool:
        return any(n in self.bad_steps for n in task.step.needs)

    def may_skip(self, task: Task, key: str) -> bool:
        """Not forced, nothing it needs reran, and fresh. When only its outputs stand in the way
        (changed or removed outside the runner), the run says which."""
        forced = self.config.force or task.step.name in self.config.only
        upstream = any(n in self.reran_steps for n in task.step.needs)
        if forced or upstream:
            return False
        if self.cache.is_fresh(task, key):
            return True
        if (self.cache.state.get(task.name) or {}).get("key") == key:
            changed = self.cache.changed_outputs(task)
            if changed:
                shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
                self.say(f"[stale] {task.name}: its outputs were changed or removed since it ran ({shown}); "
                         "it runs again")
        return False

    # ------------------------------------------------------------ recording

    def finish(self, task: Task, result: Result) -> None:
        self.results[task.name] = result
        if result.state in ("failed", "blocked"):
            self.bad_steps.add(task.step.name)
        extra = f"  {result.message}" if result.message and result.state != "failed" else ""
        self.say(f"[{len(self.results):>2}/{len(self.plan.tasks)}] {task.name:<8} {result.state:<11} "
                 f"{result.seconds:6.1f}s{extra}")

    # ------------------------------------------------------------ one round

    def start_ready(self, pool: cf.Executor) -> None:
        """Settle or submit every pending task whose needs have finished, up to ``jobs`` running."""
        for task in list(self.pending):
            if self.stopped or len(self.running) >= self.jobs:
                return
            if not self.is_ready(task):
                continue
            if self.is_blocked(task):
                self.pending.remove(task)
                self.finish(task, Result(task.name, "blocked", message="needs a failed step"))
                continue
            key = self.cache_key(task)
            if self.may_skip(task, key):
                self.pending.remove(task)
                self.finish(task, Result(task.name, "skipped", message="up to date"))
                continue
            if self.waits_for_memory(task):
                continue  # pending until the task holding the same large file is done
            self.pending.remove(task)
            self.submit(pool, task, key)

    def submit(self, pool: cf.Executor, task: Task, key: str) -> None:
        self.cache.forget(task)
        self.say(f"[ run ] {task.name:<8} {task.step.notebook or 'function step'}")
        self.started.add(task.name)
        if task.step.notebook is not None:
            if self.kernels is None:
                self.kernels = self._fork_server() if self._fork else forkserver.Kernels()
            if self._fork:
                self.kernels.ensure_started()  # its imports overlap papermill's in the worker
        self.running[pool.submit(self.execute, task)] = (task, key)

    def execute(self, task: Task) -> float:
        """Run one task (in a worker thread); return its seconds."""
        if task.step.notebook is not None:
            return execute.timed(execute.run_notebook, task, self.plan.root, self.config, self.kernels)
        started = time.perf_counter()
        self.wait_early(task.step.name)
        return (time.perf_counter() - started
                + execute.timed(execute.run_function, task, self.plan.output_dir, self.plan.executed_notebooks()))

    # ------------------------------------------------------------ early calls

    def _early_pool(self, step: Step) -> cf.ThreadPoolExecutor:
        if step.name not in self._early_pools:
            self._early_pools[step.name] = cf.ThreadPoolExecutor(max_workers=1,
                                                                 thread_name_prefix=f"early-{step.name}")
        return self._early_pools[step.name]

    def hold_head_starts(self, finished: Task) -> None:
        """Line up the prepare and early calls that ``finished`` allows (every function step with
        either that needs its step), in plan order; :meth:`release_head_starts` queues them."""
        self._held_back += [(step, finished) for step in self.plan.steps
                            if (step.prepare or step.early) and finished.step.name in step.needs]

    def release_head_starts(self) -> None:
        """Queue the lined-up prepare and early calls, except where a step upstream still runs.

        A head start (the figures' browser, a page rendered early) is work done beside the
        notebooks. It waits while a step that the function step's needs need (and the step
        does not need itself) still runs: step 01, when a large catalogue makes it finish after
        the releases notebook, so the browser never takes memory and CPU from the task every
        other notebook waits for. A call also waits while the call for the same task of a step
        its step needs is held (a page after that notebook's images).
        """
        running = {task.step.name for task, _ in self.running.values()}
        held: set[tuple[str, str]] = set()
        still = []
        for step, task in self._held_back:
            if self._upstream[step.name] & running or any((n, task.name) in held for n in step.needs):
                held.add((step.name, task.name))
                still.append((step, task))
                continue
            self.queue_prepare(step)
            self.queue_early(step, task)
        self._held_back = still

    def queue_prepare(self, step: Step) -> None:
        """Queue ``step``'s prepare call, once (after the first task it needs has run, the step
        will run too)."""
        if step.prepare is None or step.name in self._prepared:
            return
        self._prepared.add(step.name)
        own = self.plan.by_step[step.name][0]
        future = self._early_pool(step).submit(execute.run_prepare, step, own, self.plan.output_dir)
        self.early.setdefault(step.name, []).append(future)
        self._cleanups.append(future)

    def queue_early(self, step: Step, finished: Task) -> None:
        """Queue ``step``'s early call for ``finished``, after the early calls for the same task of
        the steps it needs."""
        if step.early is None:
            return
        before = [self._early_of[(n, finished.name)] for n in step.needs if (n, finished.name) in self._early_of]
        future = self._early_pool(step).submit(self._early_call, step, finished, before)
        self.early.setdefault(step.name, []).append(future)
        self._early_of[(step.name, finished.name)] = future

    def _early_call(self, step: Step, finished: Task, before: list[cf.Future]) -> None:
        """One early call, after the early calls for the same task of the steps it needs."""
        cf.wait(before)
        execute.run_early(step, finished, self.plan.output_dir)

    def wait_early(self, step_name: str) -> None:
        """Wait for the step's early calls; report each that failed (the step does what is left)."""
        for future in self.early.pop(step_name, []):
            try:
                future.result()
            except StepFailed as exc:
                self.say(f"[warn ] {exc}")

    def collect(self, done) -> None:
        """Record the tasks that finished."""
        for future in done:
            task, key = self.running.pop(future)
            try:
                seconds = future.result()
            except StepFailed as exc:
                self.say(f"\nFAILED: {exc}\n")
                self.finish(task, Result(task.name, "failed", message=str(exc)))
                self.stopped = self.stopped or not self.config.keep_going
                continue
            problem = self.check(task)
            if problem:
                self.say(f"\nFAILED: {problem}\n")
                self.finish(task, Result(task.name, "failed", message=problem))
                self.stopped = self.stopped or not self.config.keep_going
                continue
            self.reran_steps.add(task.step.name)
            outputs = expand(task.step.outputs, task.fmt)
            if task.step.outputs and not outputs:
                self.say(f"[warn ] {task.name}: produced none of its declared outputs {list(task.step.outputs)}")
            self.cache.record(task, key, seconds, outputs, time.strftime("%Y-%m-%dT%H:%M:%S"))
            self.finish(task, Result(task.name, "ran", seconds))
            self.hold_head_starts(task)
        self.release_head_starts()

    def check(self, task: Task) -> str | None:
        """The problem the step's check finds in what the task made (None: none, or accepted)."""
        if task.step.check is None:
            return None
        try:
            problem = task.step.check(self.step_context(task))
        except Exception as exc:  # noqa: BLE001 - a check that cannot decide fails the task
            problem = f"step {task.name!r}: its check failed: {type(exc).__name__}: {exc}"
        if problem and task.step.name in self.config.accept:
            self.say(f"[warn ] {problem} (accepted: --accept {task.step.name})")
            return None
        return problem

    def step_context(self, task: Task) -> StepContext:
        """What a step's ``check`` and ``notice`` receive for ``task``."""
        return StepContext(task.step, dict(task.params), self.plan.output_dir,
                           [task.executed] if task.executed is not None else [], task.context,
                           root=self.plan.root, command=self.config.command)

    def notices(self) -> list[str]:
        """What the user must know when the run ends: the line of each step's ``notice``
        (:class:`~takingstock.runner.steps.Step`) for every task that ran or was up to date,
        each line once, in task order. A notice that cannot be computed says so in its line."""
        lines: list[str] = []
        for task in self.plan.tasks:
            result = self.results.get(task.name)
            if task.step.notice is None or result is None or result.state not in ("ran", "skipped"):
                continue
            try:
                line = task.step.notice(self.step_context(task))
            except Exception as exc:  # noqa: BLE001 - a notice never fails a finished run
                line = f"{task.name}: what it recorded could not be read ({type(exc).__name__}: {exc})"
            if line and f"note: {line}" not in lines:
                lines.append(f"note: {line}")
        return lines

    def stop_pending(self, state: str, message: str) -> None:
        for task in self.pending:
            self.cache.forget(task)
            self.finish(task, Result(task.name, state, message=message))
        self.pending = []

    # ------------------------------------------------------------ the run

    def folders(self) -> list[Path]:
        """The folders this run writes run state into: the output folder and each task's
        processed-data folder (locked for the run: :mod:`takingstock.runner.lock`)."""
        found = {Path(self.plan.output_dir)}
        found |= {Path(t.context.processed_dir) for t in self.plan.tasks if t.context is not None}
        return sorted(found)

    def run(self) -> list[Result]:
        """Run the plan under the folders' lock; return one :class:`Result` per task, in plan order.

        Raises :class:`~takingstock.runner.lock.LockHeld` when another run holds a folder."""
        run_lock = RunLock(self.folders(), self.config.lock_wait)
        run_lock.acquire()
        try:
            # the cache is read again under the lock: another run may have just written it
            self.cache = StepCache(self.plan.root, self.plan.output_dir)
            removed = [p for folder in self.folders() for p in sweep(folder)]
            if removed:
                self.say(f"[note ] removed {len(removed)} temporary file(s) or folder(s) an interrupted "
                         f"run left: {', '.join(str(p) for p in removed[:3])}" + (" ..." if len(removed) > 3 else ""))
            return self._run()
        finally:
            run_lock.release()

    def _run(self) -> list[Result]:
        execute.prepare_environment(self.plan.root)
        pool = cf.ThreadPoolExecutor(max_workers=self.jobs)
        try:
            while self.pending or self.running:
                self.start_ready(pool)
                if self.running:
                    done, _ = cf.wait(list(self.running), return_when=cf.FIRST_COMPLETED)
                    self.collect(done)
                elif self.stopped:
                    self.stop_pending("not run", "stopped after a failure")
                elif self.pending and not any(self.is_ready(t) for t in self.pending):  # pragma: no cover
                    raise RuntimeError(f"cannot schedule: {[t.name for t in self.pending]}")
        except KeyboardInterrupt as exc:
            how = "Ctrl-C" if type(exc) is KeyboardInterrupt else str(exc) or type(exc).__name__
            self.say(f"\nInterrupted: stopping the kernels this run started ({how}) ...")
            self._abandon(pool)
            for task, _ in list(self.running.values()):
                self.cache.forget(task)
                self.finish(task, Result(task.name, "interrupted", message=how))
            self.running.clear()
            self.stop_pending("not run", how)
            self.cache.save_memos()
            self.say(summary_table(self.ordered()))
            raise
        except BaseException:
            self._abandon(pool)
            raise
        pool.shutdown(wait=True)
        self._stop_kernels()
        self._stop_early()
        self.cache.save_memos()
        self.say(summary_table(self.ordered()))
        notes = self.notices()
        if notes:
            self.say("\n" + "\n".join(notes))
        return self.ordered()

    def _abandon(self, pool: cf.ThreadPoolExecutor) -> None:
        """Stop what runs (kernels, browsers, threads) when the run ends early; the tasks' own
        cleanups (temporary files and folders) run as their threads end.

        No kernel starts from now on (:meth:`~takingstock.runner.forkserver.Kernels.close`): a
        worker still starting one when the others were stopped would otherwise run its notebook
        to the end (on a busy machine, Ctrl-C often comes while a kernel starts). The child
        processes are stopped again every second until every worker has ended."""
        if self.kernels is not None:
            self.kernels.close()
        execute.stop_child_processes()
        pool.shutdown(wait=False, cancel_futures=True)
        while any(not f.done() for f in self.running):
            cf.wait(list(self.running), timeout=1.0)
            execute.stop_child_processes()
        self._stop_kernels()
        self._stop_early()

    def _stop_kernels(self) -> None:
        if self.kernels is not None:
            self.kernels.stop()

    def _stop_early(self) -> None:
        """Drop early calls whose step never ran (stopped, blocked or deselected), end the
        threads, and call the cleanups the prepare calls returned."""
        for pool in self._early_pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        self._early_pools.clear()
        for future in self._cleanups:
            cleanup = None if future.cancelled() or future.exception() is not None else future.result()
            if callable(cleanup):
                try:
                    cleanup()
                except Exception as exc:  # noqa: BLE001 - a cleanup must not fail a finished run
                    self.say(f"[warn ] cleanup after a prepare call: {type(exc).__name__}: {exc}")
        self._cleanups.clear()
        self._early_of.clear()
        self.early.clear()

    def ordered(self) -> list[Result]:
        return [self.results[t.name] for t in self.plan.tasks if t.name in self.results]
