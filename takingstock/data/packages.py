"""The output tables as a Frictionless Data Package: ``output/tables/datapackage.json``.

Method
------
Every table a notebook saves (``tables.save_table``) is recorded in the notebook's summary with
its caption and source line (``summaries.record_output``). The publish step gathers those
records (:func:`table_records`) and writes one data package describing the tables of the run
(:func:`write_tables_package`), so a reader can load the whole set with ``frictionless`` or
pandas, check it with ``frictionless validate``, or deposit it in a repository such as Zenodo.

Each resource (one per CSV) carries

* ``path`` (``<name>.csv``), ``title`` (the caption), ``description`` (caption and source
  line), ``hash`` (``sha256:``), ``bytes``, ``rows``;
* a Table Schema with frictionless's own rule applied to *every* row: a column's type is the
  first of frictionless's candidate types (``yearmonth``, ..., ``integer``, ``number``,
  ``boolean``, ``year``, ``string``) that reads every non-empty cell, ``any`` when every cell is
  empty (what ``describe`` gives with the whole file as sample and ``field_confidence`` 1, so a
  column with one text cell among numbers is a string, and validation cannot fail on a row a
  sample missed). :func:`infer_fields` reads the CSV once as text (pandas) and tries the
  candidates on each column's *distinct* values, the common integer and decimal forms
  recognised at once, so a table of 10^6 rows costs about a second, not minutes of
  frictionless reading every cell. A table whose content hash is the one the package already
  in the folder gives (a table no step rewrote since) keeps that package's fields, provided
  they name exactly its header (:func:`known_fields`);
* ``licenses``: CC BY 4.0 (our tables); ``sources``: the source line and, for a table derived
  from SIPRI's register, SIPRI's database;
* the project's own properties: ``caption``, ``source`` (the line as stated),
  ``markdown`` (the ``.md`` twin), ``notebook`` (which briefing wrote it), ``sipri_derived``
  and, for those, ``credit``: ``sipri_terms.SIPRI_CREDIT`` (which says the calculations are ours,
  not SIPRI's) and what TIV is.

The package itself states the licence, SIPRI's terms and, under ``run``, the run's provenance:
build time, code version (git commit), SIPRI release, the SHA-256 of every raw file and the
parameters each notebook ran with.

Rules and caveats
-----------------
* A table is *SIPRI-derived* when its source line names SIPRI, or when it has no source line
  and its notebook ran with a SIPRI register (the claims ledger mixes catalogue and SIPRI
  figures). A table without a source line gets :data:`DEFAULT_SOURCE`.
* Only the tables recorded in this run's summaries are described; an older CSV left in
  ``output/tables/`` by a run with other parameters is not in the package (nor in the
  briefings' downloads).
* TIV columns are SIPRI's trend-indicator values (millions): a volume measure, not money.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from takingstock.core import atomic
from takingstock.data.provenance import CC_BY, count_rows, frictionless_problems
from takingstock.data.sipri_terms import SIPRI_CREDIT, SIPRI_URL
from takingstock.core.summaries import read_summary

PACKAGE_FILE = "datapackage.json"
PACKAGE_NAME = "taking-stock-tables"
DEFAULT_SOURCE = ("Source: the committed data in data/raw/ (each row names its sources; see "
                  "sources.csv); calculations by taking-stock")
TIV_NOTE = "TIV (trend-indicator value) is SIPRI's measure of the volume of arms transferred, not money."
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PackageError(ValueError):
    """A table cannot be described (bad name, missing CSV)."""


def _uses_sipri(parameters: Mapping[str, Any]) -> bool:
    """True when a notebook's parameters name a SIPRI register it used."""
    return any(str(parameters.get(key) or "").strip() for key in ("sipri_register", "register"))


def is_sipri_derived(source: str | None, notebook_used_sipri: bool) -> bool:
    """The rule of the module docstring: the source names SIPRI, or none and SIPRI was used."""
    if source:
        return "sipri" in source.lower()
    return notebook_used_sipri


def table_records(summaries_dir: str | os.PathLike, stems: Iterable[str]) -> list[dict[str, Any]]:
    """The tables recorded in the summaries of ``stems`` (in that order), one dict each.

    Each dict: ``name``, ``caption``, ``source`` (stated, or :data:`DEFAULT_SOURCE`),
    ``notebook`` (stem), ``sipri_derived``. A name met twice keeps the first notebook's record.

    Raises:
        PackageError: a recorded table name is not a plain file stem (names the summary).
    """
    out: dict[str, dict[str, Any]] = {}
    for stem in stems:
        summary = read_summary(summaries_dir, stem) or {}
        used_sipri = _uses_sipri(summary.get("parameters") or {})
        for rec in summary.get("tables") or []:
            name = str(rec.get("name") or "")
            if not _NAME_RE.match(name):
                raise PackageError(f"{Path(summaries_dir) / (stem + '.json')}: table name {name!r} "
                                   "is not a plain file stem")
            if name in out:
                continue
            source = (rec.get("source") or "").strip() or None
            out[name] = {"name": name, "caption": str(rec.get("caption") or name),
                         "source": source or DEFAULT_SOURCE, "notebook": stem,
                         "sipri_derived": is_sipri_derived(source, used_sipri)}
    return list(out.values())


def resource_name(table: str) -> str:
    """A Frictionless resource name for a table (lower case, ``[a-z0-9._-]``)."""
    return re.sub(r"[^a-z0-9._-]+", "-", table.lower()).strip("-")


#: frictionless's missing value (``Detector``'s default): an empty cell.
MISSING_VALUES = ("",)
_INTEGER = r"\s*[+-]?\d+\s*"
_DECIMAL = r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*"


def column_type(cells: "pd.Series") -> str:
    """The Table Schema type frictionless infers for a column of CSV cells (strings) read whole.

    The first candidate of ``frictionless.settings.DEFAULT_FIELD_CANDIDATES`` that reads every
    non-missing cell, tried on the distinct cells only; ``any`` when none is left. ``integer``
    and ``number`` are accepted at once when every distinct cell is a plain integer or decimal
    (a vectorised test whose every match frictionless reads too); otherwise each cell is read
    by frictionless's own field, stopping at the first cell it refuses.
    """
    from frictionless import settings  # lazy: frictionless takes ~0.3 s to import; only checks and inference use it

    distinct = pd.Series(pd.unique(cells.to_numpy(dtype=object)), dtype=object)
    distinct = distinct[~distinct.isin(MISSING_VALUES)].astype(str)
    if distinct.empty:
        return "any"
    for candidate in settings.DEFAULT_FIELD_CANDIDATES:
        kind = candidate["type"]
        if kind == "string":
            return kind  # every cell reads as a string
        if kind in ("integer", "number") and distinct.str.fullmatch(_INTEGER if kind == "integer" else _DECIMAL).all():
            return kind
        read = _reader(kind)
        if all(read(cell) is not None for cell in distinct):
            return kind
    return "any"


@functools.lru_cache(maxsize=None)
def _reader(kind: str):
    """frictionless's value reader of a candidate type (None for a cell it cannot read)."""
    from frictionless import Field  # lazy: frictionless takes ~0.3 s to import; only checks and inference use it

    return Field.from_descriptor({"name": "shared", "type": kind}).create_value_reader()


def infer_fields(csv_path: Path) -> list[dict[str, Any]]:
    """Table Schema fields of a CSV: each column's type as frictionless infers it from every row
    (:func:`column_type`); a header with an empty or repeated name is left to frictionless."""

    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8")
    labels = _header(csv_path)
    if len(labels) != len(frame.columns) or len(set(labels)) != len(labels) or not all(labels):
        return _frictionless_fields(csv_path)
    return [{"name": label, "type": column_type(frame.iloc[:, i])} for i, label in enumerate(labels)]


def _header(csv_path: Path) -> list[str]:
    with open(csv_path, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _frictionless_fields(csv_path: Path) -> list[dict[str, Any]]:
    """Table Schema fields inferred by frictionless reading every row (slow: a cell at a time)."""
    from frictionless import Detector, describe  # lazy: frictionless takes ~0.3 s to import; only checks and inference use it

    rows = count_rows(csv_path) or 0
    detector = Detector(sample_size=max(rows + 1, 100), field_confidence=1.0)
    schema = describe(str(csv_path), type="schema", detector=detector)
    return [field.to_descriptor() for field in schema.fields]


#: :func:`table_fields`' answers by file version (path, inode, size, modification time), as JSON
#: text (each caller gets its own copy): the pipeline infers a notebook's tables as soon as it is
#: done (``pipeline_steps.notebook_page``), so the publish step at the run's end finds them here.
_FIELDS: dict[tuple[str, int, int, int], str] = {}


def table_fields(csv_path: Path) -> list[dict[str, Any]]:
    """:func:`infer_fields`, remembered per file version for the rest of the process (a changed
    file is read again)."""
    st = Path(csv_path).stat()
    key = (str(Path(csv_path).resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _FIELDS:
        _FIELDS[key] = json.dumps(infer_fields(Path(csv_path)))
    return json.loads(_FIELDS[key])


def known_fields(tables_dir: str | os.PathLike) -> dict[str, list[dict[str, Any]]]:
    """The schema fields the package already in ``tables_dir`` gives each table, by the table's
    content hash (``sha256:...``), so an unchanged table is not inferred again ({} when there is
    no readable package). Data only: :func:`table_resource` takes them only for a file with that
    very hash and a header of the same names."""
    try:
        package = json.loads((Path(tables_dir) / PACKAGE_FILE).read_text(encoding="utf-8"))
        resources = package["resources"]
        return {r["hash"]: r["schema"]["fields"] for r in resources
                if isinstance(r, dict) and isinstance(r.get("hash"), str)
                and isinstance(r.get("schema", {}).get("fields"), list)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _reusable(fields: Any, csv_path: Path) -> bool:
    """``fields`` name exactly the CSV's header, each with a Table Schema type."""
    return (isinstance(fields, list) and all(isinstance(f, dict) and isinstance(f.get("type"), str) for f in fields)
            and [f.get("name") for f in fields] == _header(csv_path))


def table_resource(record: Mapping[str, Any], tables_dir: Path,
                   known: Mapping[str, list] | None = None) -> dict[str, Any]:
    """The package resource of one recorded table (see the module docstring); its schema is taken
    from ``known`` (:func:`known_fields`) when the file is unchanged, else inferred."""
    name = record["name"]
    csv_path = tables_dir / f"{name}.csv"
    if not csv_path.is_file():
        raise PackageError(f"{csv_path}: table {name!r} is recorded in {record['notebook']}'s "
                           "summary but its CSV is missing")
    sources = [{"title": record["source"]}]
    resource: dict[str, Any] = {
        "name": resource_name(name),
        "path": csv_path.name,
        "type": "table",
        "scheme": "file",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "title": record["caption"],
        "description": f"{record['caption'].rstrip('. ')}. {record['source']}",
        "hash": "sha256:" + atomic.sha256_file(csv_path),
        "bytes": csv_path.stat().st_size,
        "rows": count_rows(csv_path),
        "licenses": [CC_BY],
        "sources": sources,
        "caption": record["caption"],
        "source": record["source"],
        "notebook": record["notebook"],
        "sipri_derived": bool(record["sipri_derived"]),
    }
    if (tables_dir / f"{name}.md").is_file():
        resource["markdown"] = f"{name}.md"
    if record["sipri_derived"]:
        sources.append({"title": "SIPRI Arms Transfers Database", "path": SIPRI_URL})
        resource["credit"] = f"{SIPRI_CREDIT} {TIV_NOTE}"
    fields = (known or {}).get(resource["hash"])
    resource["schema"] = {"fields": fields if _reusable(fields, csv_path) else table_fields(csv_path)}
    return resource


def tables_package(
    records: list[Mapping[str, Any]],
    tables_dir: str | os.PathLike,
    *,
    run: Mapping[str, Any],
) -> dict[str, Any]:
    """The package descriptor of ``records`` in ``tables_dir``, with ``run`` as provenance."""
    tables_dir = Path(tables_dir)
    known = known_fields(tables_dir)
    resources = [table_resource(rec, tables_dir, known) for rec in records]
    names = [r["name"] for r in resources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PackageError(f"tables {dupes} map to the same resource name")
    return {
        "name": PACKAGE_NAME,
        "title": "taking-stock: the tables rebuilt from the data behind Amnesty International's "
                 "Taking Stock (2015)",
        "description": (
            "Every table of the taking-stock briefings, as computed (CSV, full precision), with "
            "its caption and source line. Shares are percentages (0-100). Tables marked "
            "sipri_derived are calculated from the SIPRI Arms Transfers Database: "
            f"{SIPRI_CREDIT} {TIV_NOTE} No commercial use of SIPRI data "
            "without SIPRI's agreement."),
        "licenses": [CC_BY],
        "contributors": [{"title": "taking-stock project", "role": "author"}],
        "sources": [
            {"title": "taking-stock committed raw data (data/raw/datapackage.json)"},
            {"title": "SIPRI Arms Transfers Database", "path": SIPRI_URL},
        ],
        "created": str(run.get("built_at") or ""),
        "run": dict(run),
        "resources": resources,
    }


def write_tables_package(
    records: list[Mapping[str, Any]],
    tables_dir: str | os.PathLike,
    *,
    run: Mapping[str, Any],
) -> Path:
    """Write ``<tables_dir>/datapackage.json`` atomically and return its path."""
    package = tables_package(records, tables_dir, run=run)
    text = json.dumps(package, indent=2, ensure_ascii=False) + "\n"
    return atomic.write_text(Path(tables_dir) / PACKAGE_FILE, text)


def validate(package_path: str | os.PathLike) -> list[str]:
    """``frictionless validate`` of a package file: one line per problem (file, row, column)."""
    return frictionless_problems(package_path)
