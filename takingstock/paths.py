"""Every folder of the project, derived from one root.

Nothing else in the package or the notebooks builds a path from ``..`` or the working
directory: notebooks receive absolute paths as parameters, and their defaults come from here,
so a notebook opened by hand in Jupyter and one run by ``pipeline.py`` read and write the same
places.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
DATA = ROOT / "data"
RAW = DATA / "raw"
SIPRI_RAW = RAW / "sipri"
PROCESSED = DATA / "processed"
OUTPUT = ROOT / "output"
# Where a notebook run by hand (Jupyter, or papermill with its defaults) writes: git-ignored.
# Only pipeline.py writes OUTPUT (it passes output_dir to every notebook).
SCRATCH = NOTEBOOKS / ".scratch"
OUTPUT_NOTEBOOKS = OUTPUT / "notebooks"
FIGURES = OUTPUT / "figures"
TABLES = OUTPUT / "tables"
SUMMARIES = OUTPUT / "summaries"
BRIEFINGS = OUTPUT / "briefings"
SCREENSHOTS = OUTPUT / "screenshots"
CACHE = OUTPUT / ".cache"
# Real SIPRI exports shared beside the project (tests and benchmarks only, never committed).
SHARED_SIPRI = ROOT.parent / "shared" / "data" / "sipri"
