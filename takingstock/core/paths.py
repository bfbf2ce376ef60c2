"""Every folder of the project, derived from one root: the project folder.

Nothing else in the package or the notebooks builds a path from ``..`` or the working
directory: notebooks receive absolute paths as parameters, and their defaults come from here,
so a notebook opened by hand in Jupyter and one run by ``pipeline.py`` read and write the same
places.

The project folder (its ``notebooks/``, ``data/raw/``, ``output/``) is found once, at import
(:func:`find_root`): the folder named by the ``TAKINGSTOCK_PROJECT`` environment variable (the
``taking-stock`` command's ``--project-dir`` sets it, and every kernel it starts inherits it);
else the working folder or the nearest folder above it that is a project; else, in a checkout,
the package's parent folder. Never the package's own folder when it is installed: that is
``site-packages``, which holds code, not data.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable naming the project folder (set by ``taking-stock --project-dir``).
PROJECT_ENV = "TAKINGSTOCK_PROJECT"
#: The folder of the ``takingstock`` package itself (this module sits in its ``core/``).
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def is_project(folder: Path) -> bool:
    """True when ``folder`` holds a project: its ``notebooks/`` and ``data/raw/`` folders."""
    return (folder / "notebooks").is_dir() and (folder / "data" / "raw").is_dir()


def find_root(environ: os._Environ | dict[str, str] = os.environ, cwd: Path | None = None) -> Path:
    """The project folder: ``$TAKINGSTOCK_PROJECT``; else the working folder or the nearest
    project above it; else a checkout's root (the package's parent, when it is a project); else
    the working folder (whose missing notebooks the runner then reports)."""
    given = environ.get(PROJECT_ENV)
    if given:
        return Path(given).expanduser().resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_project(folder):
            return folder
    return PACKAGE_DIR.parent if is_project(PACKAGE_DIR.parent) else here


ROOT = find_root()
NOTEBOOKS = ROOT / "notebooks"
RAW = ROOT / "data" / "raw"
SIPRI_RAW = RAW / "sipri"
PROCESSED = ROOT / "data" / "processed"
OUTPUT = ROOT / "output"
# Where a notebook run by hand (Jupyter, or papermill with its defaults) writes: git-ignored.
# Only pipeline.py writes OUTPUT (it passes output_dir to every notebook).
SCRATCH = NOTEBOOKS / ".scratch"

#: The layout of an output folder, written here and nowhere else: the run context, the runner
#: and the step declarations build every output path from it (kind -> folder name).
OUTPUT_LAYOUT = {
    "notebooks": "notebooks",      # the executed notebooks
    "figures": "figures",          # each figure's JSON, SVG and PNG
    "tables": "tables",            # each table's CSV and Markdown, and their data package
    "summaries": "summaries",      # what each notebook recorded for its page (JSON)
    "briefings": "briefings",      # the site and the PDF edition
    "screenshots": "screenshots",  # pictures of the pages, when asked for
    "cache": ".cache",             # the runner's memos and the parsed registers (data only)
}
#: The files a run writes in its processed-data folder (kind -> file name).
PROCESSED_LAYOUT = {
    "catalogue": "catalogue.parquet",            # every clean catalogue row
    "rejected": "rejected.csv",                  # every rejected row with its reasons
    "cleaning_report": "cleaning_report.csv",    # rows read, kept and rejected per file
    "problems": "problems.csv",                  # one line per problem found
    "ledger": "claims_ledger.csv",               # the claims ledger
}


def output_folder(output_dir: str | os.PathLike, kind: str) -> Path:
    """The folder of one kind of output (a key of :data:`OUTPUT_LAYOUT`) in an output folder."""
    return Path(output_dir) / OUTPUT_LAYOUT[kind]


def output_pattern(kind: str, pattern: str, root: str = "{output_dir}") -> str:
    """A step's input or output template for one kind of output: ``{output_dir}/figures/*.svg``."""
    return f"{root}/{OUTPUT_LAYOUT[kind]}/{pattern}"


def processed_pattern(kind: str, root: str = "{processed_dir}") -> str:
    """A step's input or output template for one processed file: ``{processed_dir}/rejected.csv``."""
    return f"{root}/{PROCESSED_LAYOUT[kind]}"


def processed_file(processed_dir: str | os.PathLike, kind: str) -> Path:
    """One of the run's processed files (a key of :data:`PROCESSED_LAYOUT`)."""
    return Path(processed_dir) / PROCESSED_LAYOUT[kind]


OUTPUT_NOTEBOOKS = output_folder(OUTPUT, "notebooks")
SCREENSHOTS = output_folder(OUTPUT, "screenshots")

def sources_beside(catalogue: str | os.PathLike) -> Path:
    """The ``sources.csv`` beside a catalogue file: a user's own sources, read with the
    committed ``data/raw/sources.csv`` when the catalogue's source ids are checked (it may not
    exist; the committed file stays untouched)."""
    return Path(catalogue).with_name("sources.csv")


# Real SIPRI exports shared beside the project (tests and benchmarks only, never committed).
SHARED_SIPRI = ROOT.parent / "shared" / "data" / "sipri"
