#!/usr/bin/env python3
"""taking-stock's front door: `python pipeline.py` rebuilds what changed; `--help` for more.

The steps are declared here; running them (parameter checks, cache, threads, failure
reports) is `takingstock.runner`'s job. See docs/pipeline.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from takingstock import DEFER_STATIC_ENV
from takingstock.runner import Step, StepContext, main

CATALOGUE = "{processed_dir}/catalogue.parquet"
CROSSWALK = "{raw_dir}/country_crosswalk.csv"


def publish(ctx: StepContext) -> None:
    """Render the briefings, the tables' data package, the downloads folder and the PDF edition."""
    from takingstock.publish import build_briefings

    build_briefings(
        ctx.executed_notebooks,
        summaries_dir=ctx.output_dir / "summaries",
        briefings_dir=ctx.output_dir / "briefings",
        raw_dir=ctx.params["raw_dir"],
        sipri_release=_sipri_release(ctx.params.get("sipri_register") or "", ctx.params["raw_dir"]),
        tables_dir=ctx.output_dir / "tables",
        figures_dir=ctx.output_dir / "figures",
        pdf=True,
    )


def static_figures(ctx: StepContext) -> None:
    """Draw the SVG and PNG of every figure the notebooks saved, in one browser session."""
    from takingstock.figures import export_pending

    export_pending(ctx.output_dir / "figures")


def _sipri_release(register: str, raw_dir: str):
    """Release date of the SIPRI register in use, or None.

    The register given, else the newest export in ``<raw_dir>/sipri/`` (the run's raw_dir);
    only the file's preamble is read, never its deals.
    """
    from takingstock import sipri

    if register:
        path = Path(register)
        if not path.is_file():
            raise FileNotFoundError(f"sipri_register: no file at {path}")
    else:
        path = sipri.find_register(Path(raw_dir) / "sipri")
        if path is None:
            return None
    return sipri.read_release_date(path)


# What the SIPRI reader itself reads: the releases we know and the weapon-category mapping.
SIPRI_REFERENCE = ("{root}/data/raw/sipri_releases.csv", "{root}/data/raw/sipri_weapon_categories.csv")

STEPS = [
    Step(
        "clean", "notebooks/01_clean_catalogue.ipynb",
        # the files named by the path parameters, else the committed ones in raw_dir
        inputs=("{catalogues}", "{crosswalk}", "{periods}", "{sources}", "{raw_dir}/weapon_types.csv"),
        template_defaults=(("catalogues", "{raw_dir}/catalogue_*.csv"), ("crosswalk", CROSSWALK),
                           ("periods", "{raw_dir}/periods.csv"), ("sources", "{raw_dir}/sources.csv")),
        outputs=(CATALOGUE, "{processed_dir}/rejected.csv", "{processed_dir}/cleaning_report.csv"),
        description="validate every raw catalogue row; clean rows to parquet, the rest to rejected.csv",
    ),
    Step(
        "origin", "notebooks/02_country_of_origin.ipynb", needs=("clean",),
        inputs=(CATALOGUE, CROSSWALK),
        outputs=("{output_dir}/summaries/02_country_of_origin.json",),
        description="items by country of manufacture and design, blocs, successor states",
    ),
    Step(
        "eras", "notebooks/03_eras.ipynb", needs=("clean",),
        inputs=(CATALOGUE, "{raw_dir}/periods.csv", "{raw_dir}/weapon_types.csv", "{sipri}", *SIPRI_REFERENCE),
        outputs=("{output_dir}/summaries/03_eras.json",),
        description="items by decade and period of manufacture and of design, against arms flows into Iraq",
    ),
    Step(
        "supply", "notebooks/04_supply_chains.ipynb", needs=("clean",),
        inputs=(CATALOGUE, "{sipri}", "{raw_dir}/sipri_aliases.csv", CROSSWALK, *SIPRI_REFERENCE),
        outputs=("{output_dir}/summaries/04_supply_chains.json",),
        description="SIPRI transfers to Iraq and Syria by supplier and era; item-to-transfer links",
    ),
    Step(
        "claims", "notebooks/05_claims.ipynb", needs=("origin", "eras", "supply"),
        inputs=("{processed_dir}/*", "{claims_path}", "{raw_dir}/claims_accepted.csv",
                "{sipri}", "{output_dir}/summaries/0[1-4]*.json", *SIPRI_REFERENCE,
                "{raw_dir}/windows.csv", "{raw_dir}/country_groups.csv"),
        template_defaults=(("claims_path", "{raw_dir}/claims.yml"),),
        outputs=("{output_dir}/summaries/05_claims.json", "{processed_dir}/claims_ledger.csv"),
        description="check each claim of the report against the rebuilt evidence",
    ),
    Step(
        "releases", "notebooks/06_release_changes.ipynb",
        # both exports given, else every export in raw_dir/sipri (the two newest releases are used)
        inputs=("{old_release_file}", "{new_release_file}", "{raw_dir}/sipri/*.csv", "{claims_path}",
                "{raw_dir}/periods.csv", "{raw_dir}/windows.csv", "{raw_dir}/country_groups.csv",
                CROSSWALK, *SIPRI_REFERENCE),
        template_defaults=(("old_release_file", "{raw_dir}/sipri/*.csv"),
                           ("new_release_file", "{raw_dir}/sipri/*.csv"),
                           ("claims_path", "{raw_dir}/claims.yml")),
        outputs=("{output_dir}/summaries/06_release_changes.json",),
        description="what changed between two SIPRI releases: deals matched, added, dropped, revised; claims that moved",
    ),
    Step(
        "figures", None, needs=("origin", "eras", "supply", "releases"),
        inputs=("{output_dir}/figures/*.json",),
        outputs=("{output_dir}/figures/*.svg", "{output_dir}/figures/*.png"),
        func=static_figures,
        description="static SVG and PNG of every figure, drawn in one browser session (kaleido)",
    ),
    Step(
        "publish", None, needs=("clean", "origin", "eras", "supply", "claims", "releases", "figures"),
        inputs=("{output_dir}/notebooks/*.ipynb", "{output_dir}/summaries/*.json",
                "{output_dir}/tables/*.csv", "{output_dir}/tables/*.md",
                "{output_dir}/figures/*.svg", "{output_dir}/figures/*.png"),
        outputs=("{output_dir}/briefings/*.html", "{output_dir}/tables/datapackage.json"),
        func=publish,
        description="HTML briefings and index, downloads folder, tables data package, PDF edition",
    ),
]

if __name__ == "__main__":
    # Notebooks leave their static images to the `figures` step (one Chromium for the whole
    # run instead of one per notebook); a notebook run by hand draws its own.
    os.environ.setdefault(DEFER_STATIC_ENV, "1")
    sys.exit(main(sys.argv[1:], STEPS))
