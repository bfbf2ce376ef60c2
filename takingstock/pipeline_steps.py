"""The steps of taking-stock's pipeline: what each reads and writes, and the function steps.

``pipeline.py`` (in a checkout) and the ``taking-stock`` command (:mod:`takingstock.command`,
installed with the package) both run :data:`STEPS`; running them (parameter checks, cache, grid,
threads, failure reports) is the :mod:`takingstock.runner` package's job. See docs/pipeline.md.

Notebook paths are relative to the project folder (:data:`takingstock.core.paths.ROOT`), so an
installed package runs the notebooks of the project it is pointed at. The function steps import
what they use inside their bodies: the runner's cache reads those imports to know which library
modules a step depends on (:func:`takingstock.runner.cache.function_imports`).
"""

from __future__ import annotations

import csv
import shlex
from pathlib import Path

from takingstock.core import paths
from takingstock.core.summaries import read_summary
from takingstock.data.sipri_terms import NO_REGISTER
from takingstock.runner import Step, StepContext

# The processed catalogue. The steps that hold all of it in memory say so (`holds`): with a
# large one (over `Config.large_file_mb` on disk) they run one at a time, not side by side.
CATALOGUE = paths.processed_pattern("catalogue")
SUMMARY = paths.output_pattern("summaries", "{stem}.json")  # what each notebook writes for its page
# The notebooks whose pages the end-of-run notices name (a notice may serve another step too).
CLEAN_NOTEBOOK = "notebooks/01_clean_catalogue.ipynb"
RELEASES_NOTEBOOK = "notebooks/06_release_changes.ipynb"
# What the SIPRI reader itself reads: the releases we know and the weapon-category mapping.
SIPRI_REFERENCE = ("{root}/data/raw/sipri_releases.csv", "{root}/data/raw/sipri_weapon_categories.csv")

# The page templates travel with the package (package data), wherever it is installed; a
# template of the step's inputs, so its braces are escaped.
TEMPLATES = (str(Path(__file__).resolve().parent / "publish" / "templates").replace("{", "{{").replace("}", "}}")
             + "/**")


def publish(ctx: StepContext) -> None:
    """Render the briefings, the tables' data package, the downloads folder and the PDF edition."""
    from takingstock.publish.briefings import build_briefings  # lazy: ~0.7 s (pandas, nbconvert); no-op runs skip it

    run = ctx.context
    build_briefings(
        ctx.executed_notebooks,
        summaries_dir=run.summaries_dir,
        briefings_dir=run.briefings_dir,
        raw_dir=run.raw_dir,
        sipri_release=run.release_date(),
        tables_dir=run.tables_dir,
        figures_dir=run.figures_dir,
        pdf=True,
        body_cache=run.body_cache_dir,
    )


def notebook_page(ctx: StepContext) -> None:
    """Render the page body of the notebook that just ran, and infer its tables' schemas for the
    data package (early: publish reuses both if still true, instead of doing them at the end)."""
    # lazy: ~0.7 s (pandas, nbconvert, frictionless on first use); no-op runs skip them
    from takingstock.data.packages import PackageError, table_fields, table_records
    from takingstock.publish.rendered import prerender_body  # lazy: as above

    run = ctx.context
    for notebook in ctx.executed_notebooks:
        prerender_body(notebook, run.summaries_dir, tables_dir=run.tables_dir, figures_dir=run.figures_dir,
                       cache_dir=run.body_cache_dir)
        try:
            records = table_records(run.summaries_dir, [notebook.stem])
        except PackageError:
            continue  # a bad table name: the publish step reports it, naming the summary
        for table in (run.tables_dir / f"{record['name']}.csv" for record in records):
            if table.is_file():
                table_fields(table)


def start_figure_browser(ctx: StepContext) -> None:
    """Start the browser that draws the static images (and prints the PDF edition) while the
    first notebooks run."""
    from takingstock.report.images import start_browser  # lazy: ~0.65 s (pandas, plotly); no-op runs skip it

    start_browser()


def static_figures(ctx: StepContext) -> None:
    """Draw the SVG and PNG of every figure still pending (normally none: see below)."""
    from takingstock.report.images import export_pending  # lazy: ~0.65 s (pandas, plotly); no-op runs skip it

    export_pending(ctx.context.figures_dir)


def notebook_figures(ctx: StepContext) -> None:
    """Draw the SVG and PNG of the figures one notebook just saved (early, while the run goes on).

    The figures are those its summary lists; without a summary, every pending figure.
    """
    from takingstock.report.images import export_pending  # lazy: ~0.65 s (pandas, plotly); no-op runs skip it

    run = ctx.context
    summary = read_summary(run.summaries_dir, run.stem(Path(ctx.step.notebook).stem))
    names = None if summary is None else [f["name"] for f in summary.get("figures", [])]
    export_pending(run.figures_dir, names)


def cleaning_counts(processed_dir: Path) -> dict[str, int]:
    """Step 01's row counts over every catalogue file (``raw_rows``, ``clean_rows``,
    ``rejected_rows``), from the cleaning report it wrote in ``processed_dir``."""
    with open(paths.processed_file(processed_dir, "cleaning_report"), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {column: sum(int(r[column] or 0) for r in rows) for column in ("raw_rows", "clean_rows", "rejected_rows")}


def some_rows_clean(ctx: StepContext) -> str | None:
    """The cleaning step's check: a catalogue whose every row was rejected stops the run here
    (else every page would read "Counts and shares ... for ;"). From its cleaning report."""
    run = ctx.context
    counts = cleaning_counts(run.processed_dir)
    if counts["clean_rows"]:
        return None
    return (f"step {ctx.step.name!r}: none of the {counts['raw_rows']:,} catalogue rows is clean (all rejected); "
            f"the reason for each is in {paths.processed_file(run.processed_dir, 'rejected')} (per file: "
            f"{paths.processed_file(run.processed_dir, 'cleaning_report')}). Fix the catalogue, or pass --accept {ctx.step.name} "
            "to publish pages without items")


# ---- end-of-run notices (Step.notice): one line each, from what the steps recorded


def _page(ctx: StepContext, notebook: str) -> str:
    """`` and on the page PATH`` for a notebook's briefing page, when it has been published."""
    run = ctx.context
    page = run.briefings_dir / f"{run.stem(Path(notebook).stem)}.html"
    return f" and on the page {ctx.shown(page)}" if page.is_file() else ""


def rows_rejected(ctx: StepContext) -> str | None:
    """Step 01's notice: how many catalogue rows it rejected, and where each one's reason is."""
    run = ctx.context
    counts = cleaning_counts(run.processed_dir)
    if not counts["rejected_rows"]:
        return None
    return (f"{counts['rejected_rows']:,} of {counts['raw_rows']:,} catalogue rows rejected: the reason for each "
            f"is in {ctx.shown(paths.processed_file(run.processed_dir, 'rejected'))}{_page(ctx, CLEAN_NOTEBOOK)}")


def claims_without_register(ledger: Path) -> tuple[int, int]:
    """(claims not checkable for want of a SIPRI export, claims) in the ledger step 05 wrote;
    (0, 0) when there is no ledger."""
    if not ledger.is_file():
        return 0, 0
    with open(ledger, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lacking = sum(r["verdict"] == "not checkable" and r["reason"].startswith(NO_REGISTER) for r in rows)
    return lacking, len(rows)


def no_sipri_export(ctx: StepContext) -> str | None:
    """The SIPRI steps' notice: no export at hand, what that leaves unchecked, how to get one."""
    run = ctx.context
    if run.register_files():
        return None
    folder = ctx.shown(run.sipri_dir)
    lacking, total = claims_without_register(run.ledger_file)
    unchecked = f"{lacking} of {total} claims are not checkable and " if lacking else ""
    default = Path(ctx.root).resolve() / paths.SIPRI_RAW.relative_to(paths.ROOT)  # where fetch-sipri writes
    dest = "" if run.sipri_dir == default else f" --dest {shlex.quote(str(run.sipri_dir))}"
    fetch = f"{ctx.command} fetch-sipri{dest}"
    readme = next((p for p in (run.sipri_dir / "README.md", default / "README.md") if p.is_file()), None)
    return (f"no SIPRI export in {folder}/: {unchecked}the supply-chain pages leave out SIPRI's deals; get one "
            f"with `{fetch}`, or put a trade register downloaded from SIPRI in {folder}/"
            + (f" (see {ctx.shown(readme)})" if readme else ""))


def comparison_skipped(ctx: StepContext) -> str | None:
    """Step 06's notice: the release comparison was skipped, and why (its summary says)."""
    run = ctx.context
    summary = read_summary(run.summaries_dir, run.stem(Path(RELEASES_NOTEBOOK).stem))
    headlines = {h.get("label"): h.get("value") for h in (summary or {}).get("headlines", [])}
    if headlines.get("SIPRI releases at hand") != "fewer than two":
        return None
    why = summary["summary"]
    return f"release comparison skipped (step {ctx.step.name}): {why[:1].lower()}{why[1:]}"


# Templates are filled from each run's context (takingstock.runner.plan.template_values):
# {crosswalk}, {periods}, {sources}, {claims_path}, {catalogues} are the files given by the
# parameters of the same names, else the committed ones; {own_sources} each sources.csv beside
# a catalogue (a user's own sources); {sipri} is each SIPRI export at hand;
# {stem} is the run's briefing stem (04_supply_chains, or 04_supply_chains__yemen in a grid).
STEPS = [
    Step(
        "clean", CLEAN_NOTEBOOK,
        inputs=("{catalogues}", "{crosswalk}", "{periods}", "{sources}", "{own_sources}", "{weapon_types}"),
        outputs=(CATALOGUE, paths.processed_pattern("rejected"), paths.processed_pattern("cleaning_report")),
        description="validate every raw catalogue row; clean rows to parquet, the rest to rejected.csv",
        check=some_rows_clean, notice=rows_rejected,
    ),
    Step(
        "origin", "notebooks/02_country_of_origin.ipynb", needs=("clean",),
        inputs=(CATALOGUE, "{crosswalk}"),
        outputs=(SUMMARY,),
        description="items by country of manufacture and design, blocs, successor states",
        holds=(CATALOGUE,),
    ),
    Step(
        "eras", "notebooks/03_eras.ipynb", needs=("clean",),
        inputs=(CATALOGUE, "{periods}", "{windows}", "{weapon_types}", "{sipri}", *SIPRI_REFERENCE),
        outputs=(SUMMARY,),
        description="items by decade and period of manufacture and of design, against arms flows into the recipient",
        holds=(CATALOGUE,),
    ),
    Step(
        "supply", "notebooks/04_supply_chains.ipynb", needs=("clean",),
        inputs=(CATALOGUE, "{sipri}", "{aliases}", "{crosswalk}", "{windows}", "{periods}", *SIPRI_REFERENCE),
        outputs=(SUMMARY,),
        description="SIPRI transfers to the recipient(s) by supplier and era; item-to-transfer links",
        holds=(CATALOGUE,),
        notice=no_sipri_export,
    ),
    Step(
        # the ledger computes every claim itself from the processed catalogue and the exports
        # (with the functions notebooks 02-04 use): it needs step 01, not their outputs
        "claims", "notebooks/05_claims.ipynb", needs=("clean",),
        inputs=("{processed_dir}/*", "{claims_path}", "{raw_dir}/claims_accepted.csv",
                "{sipri}", *SIPRI_REFERENCE, "{windows}", "{country_groups}", "{weapon_types}",
                "{periods}", "{crosswalk}", "{sources}"),
        outputs=(SUMMARY, paths.processed_pattern("ledger")),
        description="check each claim of the report against the rebuilt evidence",
        holds=(CATALOGUE,),
        notice=no_sipri_export,
    ),
    Step(
        "releases", RELEASES_NOTEBOOK,
        # the exports given, else those at hand (the run context's; the two newest releases are used)
        inputs=("{old_release_file}", "{new_release_file}", "{sipri}", "{claims_path}", "{periods}",
                "{windows}", "{country_groups}", "{crosswalk}", "{sources}", *SIPRI_REFERENCE),
        outputs=(SUMMARY,),
        description="what changed between two SIPRI releases: deals matched, added, dropped, revised; claims that moved",
        notice=comparison_skipped,
    ),
    Step(
        "followup", "notebooks/07_after_the_report.ipynb", needs=("clean",),
        inputs=(CATALOGUE, "{sipri}", "{crosswalk}", "{windows}", "{country_groups}", "{raw_dir}/att_status.csv",
                *SIPRI_REFERENCE),
        outputs=(SUMMARY,),
        description="after the report: the recipient's imports since 2016 against 2003-2015, new and stopped "
                    "suppliers, and the ATT status of suppliers and of the arsenal's states of origin",
        holds=(CATALOGUE,),
    ),
    Step(
        "figures", None, needs=("origin", "eras", "supply", "releases", "followup"),
        inputs=(paths.output_pattern("figures", "*.json"),),
        outputs=(paths.output_pattern("figures", "*.svg"), paths.output_pattern("figures", "*.png")),
        func=static_figures, early=notebook_figures, prepare=start_figure_browser,
        description="static SVG and PNG of every figure, each notebook's drawn as soon as it is done (plotly.js in Chromium)",
    ),
    Step(
        "publish", None, needs=("clean", "origin", "eras", "supply", "claims", "releases", "followup", "figures"),
        inputs=(paths.output_pattern("notebooks", "*.ipynb"), paths.output_pattern("summaries", "*.json"),
                paths.output_pattern("tables", "*.csv"), paths.output_pattern("tables", "*.md"),
                paths.output_pattern("figures", "*.svg"), paths.output_pattern("figures", "*.png"), TEMPLATES),
        outputs=(paths.output_pattern("briefings", "*.html"), paths.output_pattern("tables", "datapackage.json")),
        func=publish, early=notebook_page,
        description="HTML briefings and index, downloads folder, tables data package, PDF edition "
                    "(each notebook's page body rendered as soon as it is done)",
    ),
]
