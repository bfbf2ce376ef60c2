#!/usr/bin/env python3
"""Compare the outputs of two runs of the pipeline: are they the same, apart from what must differ?

    python bench/compare_outputs.py OLD_PROJECT NEW_PROJECT [--show 20]

Each argument is a project folder that ran ``pipeline.py`` (its ``data/processed`` and
``output/{tables,summaries,figures}`` are compared file by file). Before comparing, each file's
bytes are normalised for what changes from one run to the next by design:

* the project folder's own path (absolute paths in summaries and tables' metadata);
* build times (ISO 8601 timestamps: the data package's ``created``, the run's ``built_at``);
* the random element ids plotly draws: ``uuid4`` div ids in figure HTML, and the six- and
  eight-hex-digit ids of SVG ``defs``, clip paths, gradients and colour bars;
* the order of an SVG element's attributes (plotly.js does not always set them in the same
  order): SVGs are compared in XML canonical form (C14N 2.0, attributes sorted).

PNG images and every CSV, Markdown, Parquet and JSON file are compared byte for byte after
that. Exit 0 when everything matches, 1 otherwise (listing what differs or exists on one side
only). Executed notebooks and the briefings are not compared (cell ids, execution times).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from xml.etree.ElementTree import canonicalize

FOLDERS = ("data/processed", "output/tables", "output/summaries", "output/figures")
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:\+00:00|Z)?")
_SVG_GRADIENT = re.compile(rb"\bg[0-9a-f]{6}-[0-9a-f]{8}(?![0-9a-f])")
_SVG_ID = re.compile(rb"(topdefs-|defs-|clip|legend|ycb|xcb|cb)(?:[0-9a-f]{6}|[0-9a-f]{8})(?![0-9a-f])")


def normalised(data: bytes, project: Path, suffix: str) -> bytes:
    """``data`` with the project path, timestamps and (in HTML/SVG) plotly's random ids replaced."""
    data = data.replace(str(project.resolve()).encode(), b"<project>")
    data = _STAMP.sub(b"<time>", data)
    if suffix == ".svg":  # plotly.js may set an element's attributes in another order
        data = canonicalize(xml_data=data.decode("utf-8")).encode("utf-8")
    if suffix in (".html", ".svg"):
        data = _UUID.sub(b"<uuid>", data)
        data = _SVG_GRADIENT.sub(b"g<id>", data)
        data = _SVG_ID.sub(rb"\1<id>", data)
    return data


def compare(old: Path, new: Path) -> tuple[int, list[str]]:
    """(files equal, descriptions of every difference)."""
    same, problems = 0, []
    for folder in FOLDERS:
        a, b = old / folder, new / folder
        names = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} if a.is_dir() else set()
        names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()} if b.is_dir() else set()
        for rel in sorted(names ^ names_b):
            problems.append(f"only in {'old' if rel in names else 'new'}: {folder}/{rel}")
        for rel in sorted(names & names_b):
            x = normalised((a / rel).read_bytes(), old, rel.suffix)
            y = normalised((b / rel).read_bytes(), new, rel.suffix)
            if x == y:
                same += 1
            else:
                problems.append(f"differs: {folder}/{rel}")
    return same, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--show", type=int, default=20, help="differences listed (default 20)")
    args = parser.parse_args(argv)
    same, problems = compare(args.old, args.new)
    print(f"{same} files the same, {len(problems)} different or on one side only")
    for line in problems[: args.show]:
        print(f"  {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
