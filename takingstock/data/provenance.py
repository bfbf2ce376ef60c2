"""Provenance of the committed raw data: one Frictionless Data Package, ``data/raw/datapackage.json``.

Method
------
``data/raw/datapackage.json`` is the one source of truth for what each committed raw file is.
It is a `Frictionless Data Package <https://datapackage.org/>`_: one *resource* per file, with

* ``path``, ``title``, ``description``, ``format``, ``mediatype``, ``encoding``;
* ``hash`` (``sha256:<hex>``), ``bytes`` and, for a CSV, ``rows`` (data rows, header not
  counted): they pin the file's content;
* ``licenses`` and ``sources`` (the URLs where the facts were found), plus the project's own
  ``publishers``, ``compiled`` (date), ``compiled_by`` and ``licence_note`` properties;
* for a CSV, a Table Schema (``schema.fields``: ``name``, ``type``, ``description`` in the
  header's order); for a YAML file, ``keys``: the same data dictionary for its entries.

:func:`verify_all` (``python -m takingstock.data.provenance --check``) checks the package
(:func:`verify` keeps the problems of one file):

1. ``frictionless validate`` of the whole package (:func:`validate_package`): the hash, the
   byte count, the row count, the header against the schema and every cell against its field
   type; a problem is reported with the file, row and column frictionless names;
2. what frictionless cannot know: every data file of the folder is a resource and every
   resource's file exists, each resource has the properties listed in
   :data:`REQUIRED_PROPERTIES`, and no sidecar of the old ``<file>.meta.yml`` format is left.

The pandera rules of :mod:`takingstock.data.catalogue_checks` stay where they are: they check
row-level rules (vocabularies, year ranges, cross-file references) that a Table Schema cannot.

Adding or changing a raw file
    ``python -m takingstock.data.provenance --add data/raw/X`` adds file ``X`` as a resource, or
    refreshes it when it is already one: ``hash``, ``bytes`` and ``rows`` are measured, the
    schema's field names follow the header (a documented field keeps its type and
    description; a new column gets the type frictionless infers and an empty description to
    fill in). When ``X.meta.yml`` (the old sidecar format) exists, its title, description,
    publishers, URLs, dates, licence and data dictionary are imported and the sidecar is
    deleted. ``--check`` then names whatever is still missing (title, description, licence,
    sources). :func:`refresh_resource` does the same from code (the claims guard calls it after
    ``--accept``). ``--import-sidecars`` does it for every ``*.meta.yml`` left in the folder
    (after merging work that still wrote sidecars).

:func:`raw_data_versions` lists each raw file with the checksum and row count *measured now*,
the title from the package, and whether both match, for the briefings' provenance stamp.

Caveats
-------
* A "row" is a data row of a CSV file (the header is not counted; a quoted field that spans
  lines is one row; a blank line is not a row, as for pandas' ``read_csv``). Frictionless
  counts rows the same way.
* Only the top level of ``raw_dir`` is described. ``data/raw/sipri/`` holds downloaded SIPRI
  exports that are never committed; their provenance is recorded by the SIPRI reader instead.
  Hidden files, ``README*`` files and ``datapackage.json`` itself are not resources.
* A checksum proves the file is the one the package describes, not that its facts are right:
  see ``docs/data-sources.md`` for the sources and their confidence.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlparse

import yaml

from takingstock.core import atomic, paths
from takingstock.core.tabular import read_yaml_mapping

PACKAGE_FILE = "datapackage.json"
PACKAGE_NAME = "taking-stock-raw-data"
#: The suffix of the old per-file sidecars (imported by ``--add``, then deleted).
SIDECAR_SUFFIX = ".meta.yml"
#: Properties every resource must carry (checked by :func:`resource_problems`).
REQUIRED_PROPERTIES = ("name", "path", "title", "description", "hash", "bytes", "licenses",
                       "sources")
CC_BY = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
         "title": "Creative Commons Attribution 4.0 International"}
#: Data-dictionary types of the old sidecars -> Table Schema field types.
_TYPES = {"str": "string", "string": "string", "int": "integer", "integer": "integer",
          "float": "number", "number": "number", "date": "date", "bool": "boolean",
          "boolean": "boolean", "mapping": "object", "object": "object", "list": "array",
          "array": "array", "year": "year"}
_MEDIATYPES = {"csv": "text/csv", "yml": "application/yaml", "yaml": "application/yaml",
               "json": "application/json", "md": "text/markdown"}


class ProvenanceError(ValueError):
    """The package is missing or unreadable, or a file cannot be described."""


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def package_path(raw_dir: str | Path = paths.RAW) -> Path:
    """Return ``<raw_dir>/datapackage.json``."""
    return Path(raw_dir) / PACKAGE_FILE


def _is_data_file(path: Path) -> bool:
    name = path.name
    return (
        path.is_file()
        and not name.startswith(".")
        and not name.endswith(SIDECAR_SUFFIX)
        and not name.upper().startswith("README")
        and name != PACKAGE_FILE
    )


def raw_files(raw_dir: str | Path = paths.RAW) -> list[Path]:
    """List the data files at the top level of ``raw_dir`` (sorted by name)."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise ProvenanceError(f"raw data folder not found: {raw_dir}")
    return sorted(p for p in raw_dir.iterdir() if _is_data_file(p))


def legacy_sidecars(raw_dir: str | Path = paths.RAW) -> list[Path]:
    """Sidecars of the old ``<file>.meta.yml`` format still in ``raw_dir``."""
    return sorted(Path(raw_dir).glob("*" + SIDECAR_SUFFIX))


def _is_row(row: list[str]) -> bool:
    """False for what the csv module reads from a blank (or whitespace-only) line."""
    return bool(row) and not (len(row) == 1 and not row[0].strip())


def count_rows(path: str | Path) -> int | None:
    """Count the data rows of a raw file.

    CSV: non-empty rows after the header (read with the csv module, so quoted line breaks
    stay inside one row; blank lines are skipped; a UTF-8 byte-order mark is ignored). YAML:
    the length of a top-level list, else ``None``. Any other kind of file: ``None``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                n = sum(1 for row in csv.reader(handle) if _is_row(row))
        except UnicodeDecodeError as exc:
            raise ProvenanceError(f"{path}: not valid UTF-8 ({exc})") from exc
        return max(n - 1, 0)
    if suffix in (".yml", ".yaml"):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ProvenanceError(f"{path}: invalid YAML ({exc})") from exc
        return len(data) if isinstance(data, list) else None
    return None


def csv_header(path: str | Path) -> list[str] | None:
    """Return the header of a CSV file, or ``None`` for a file that is not CSV."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return None
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


# --------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------


def load_package(raw_dir: str | Path = paths.RAW) -> dict[str, Any]:
    """Read ``<raw_dir>/datapackage.json``.

    Raises:
        ProvenanceError: the file is missing, is not JSON (line and column named), or has no
            ``resources`` list.
    """
    path = package_path(raw_dir)
    if not path.is_file():
        raise ProvenanceError(f"{path}: not found (the raw data's provenance lives there)")
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProvenanceError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg})") from exc
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        raise ProvenanceError(f"{path}: expected a JSON object with a 'resources' list")
    return package


def write_package(package: dict[str, Any], raw_dir: str | Path = paths.RAW) -> Path:
    """Write the package (resources sorted by path, 2-space JSON), atomically."""
    package = dict(package)
    package["resources"] = sorted(package["resources"], key=lambda r: str(r.get("path", "")))
    text = json.dumps(package, indent=2, ensure_ascii=False) + "\n"
    return atomic.write_text(package_path(raw_dir), text)


def resources_by_path(package: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The package's resources keyed by ``path``."""
    return {str(r.get("path")): r for r in package["resources"] if isinstance(r, dict)}


def resource_name(filename: str) -> str:
    """A Frictionless resource name for a file: its stem, lower case, ``[a-z0-9._-]`` only."""
    stem = Path(filename).stem.lower()
    return re.sub(r"[^a-z0-9._-]+", "-", stem).strip("-") or "resource"


def _sha(path: Path) -> str:
    return "sha256:" + atomic.sha256_file(path)


#: Titles of URLs that ``sources.csv`` does not list but the raw files cite.
KNOWN_SOURCES = {"https://www.sipri.org/databases/armstransfers": "SIPRI Arms Transfers Database"}


def source_titles(raw_dir: str | Path) -> dict[str, str]:
    """URL -> ``"<publisher>: <title>"`` from ``<raw_dir>/sources.csv`` (plus :data:`KNOWN_SOURCES`)."""
    titles = dict(KNOWN_SOURCES)
    path = Path(raw_dir) / "sources.csv"
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                url, title = (row.get("url") or "").strip(), (row.get("title") or "").strip()
                if url and title and url not in titles:
                    publisher = (row.get("publisher") or "").strip()
                    titles[url] = f"{publisher}: {title}" if publisher else title
    return titles


def _sources_from_urls(urls: Iterable[str], titles: dict[str, str]) -> list[dict[str, str]]:
    """Data Package ``sources``: each URL titled from ``sources.csv``, else by its host."""
    return [{"title": titles.get(str(u)) or urlparse(str(u)).netloc or str(u), "path": str(u)}
            for u in urls or []]


def _fields_from_dictionary(columns: Any) -> list[dict[str, str]]:
    """Table Schema fields from an old sidecar's ``columns`` (list or ``name: meaning``)."""
    if columns is None:
        return []
    if isinstance(columns, dict):
        columns = [{"name": k, "meaning": v} for k, v in columns.items()]
    fields = []
    for col in columns:
        kind = _TYPES.get(str(col.get("type") or "").strip().lower(), "string")
        fields.append({"name": str(col["name"]), "type": kind,
                       "description": str(col.get("meaning", "")).strip()})
    return fields


def _inferred_fields(path: Path) -> dict[str, str]:
    """Field name -> type frictionless infers from the file's values."""
    from frictionless import describe  # lazy: frictionless takes ~0.3 s to import; only checks and inference use it

    schema = describe(str(path), type="schema")
    return {f.name: f.type for f in schema.fields}


def _sync_fields(path: Path, documented: list[dict[str, str]]) -> list[dict[str, str]]:
    """The schema fields in the header's order: documented ones kept, new ones inferred."""
    header = csv_header(path) or []
    known = {f["name"]: f for f in documented}
    inferred = None
    fields = []
    for name in header:
        if name in known:
            fields.append(known[name])
            continue
        if inferred is None:
            inferred = _inferred_fields(path)
        fields.append({"name": name, "type": inferred.get(name, "string"), "description": ""})
    return fields


def _measure(resource: dict[str, Any], path: Path) -> dict[str, Any]:
    """Set the measured ``hash``, ``bytes`` and ``rows`` of ``resource`` from ``path``."""
    resource["hash"] = _sha(path)
    resource["bytes"] = path.stat().st_size
    rows = count_rows(path)
    if path.suffix.lower() == ".csv":
        resource["rows"] = rows
        schema = resource.setdefault("schema", {})
        schema["fields"] = _sync_fields(path, schema.get("fields") or [])
    else:
        resource.pop("rows", None)
    return resource


def _from_sidecar(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    """The package properties of an old ``.meta.yml`` sidecar (checksum and rows excluded)."""
    out: dict[str, Any] = {}
    meta = dict(meta)
    meta.pop("file", None)  # the sidecar's own file name: the resource's path says it
    if not meta.get("description") and meta.get("made_by"):
        meta["description"] = meta.pop("made_by")
    if not meta.get("compiled_by") and meta.get("owner"):
        meta["compiled_by"] = meta.pop("owner")
    for key in ("title", "description"):
        if meta.get(key):
            out[key] = " ".join(str(meta[key]).split())
    if meta.get("publishers"):
        out["publishers"] = [str(p) for p in meta["publishers"]]
    if meta.get("source_urls"):
        out["sources"] = _sources_from_urls(meta["source_urls"], source_titles(path.parent))
    if meta.get("compiled"):
        out["compiled"] = str(meta["compiled"])
    if meta.get("compiled_by"):
        out["compiled_by"] = " ".join(str(meta["compiled_by"]).split())
    if meta.get("licence"):
        out["licence_note"] = " ".join(str(meta["licence"]).split())
    fields = _fields_from_dictionary(meta.get("columns"))
    if path.suffix.lower() == ".csv":
        out["schema"] = {"fields": fields}
    elif fields:
        out["keys"] = fields
    for key, value in meta.items():  # anything else the sidecar recorded (accepted_against...)
        if key not in ("title", "description", "publishers", "source_urls", "compiled",
                       "compiled_by", "licence", "columns", "sha256", "rows"):
            out[key] = value if isinstance(value, (str, int, float, bool, list, dict)) else str(value)
    return out


def _new_resource(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower().lstrip(".")
    resource: dict[str, Any] = {"name": resource_name(path.name), "path": path.name}
    if suffix == "csv":
        resource.update(type="table", scheme="file", format="csv", mediatype="text/csv",
                        encoding="utf-8")
    else:
        resource.update(type="file", scheme="file", format=suffix or "bin",
                        mediatype=_MEDIATYPES.get(suffix, "application/octet-stream"))
        if suffix in _MEDIATYPES:
            resource["encoding"] = "utf-8"
    resource.update(title="", description="", licenses=[CC_BY], sources=[])
    return resource


def refresh_resource(data_path: str | Path, **properties: Any) -> dict[str, Any]:
    """Add ``data_path`` to its folder's package, or refresh its resource; return the resource.

    The measured ``hash``, ``bytes`` and ``rows`` are written; the schema follows the header
    (see the module docstring); ``properties`` (e.g. ``accepted_against=...``) are set on the
    resource. When ``<file>.meta.yml`` exists its metadata is imported and the sidecar deleted.
    A folder without a package gets a new one.

    Raises:
        ProvenanceError: the data file does not exist, or is not valid UTF-8 / YAML.
    """
    data_path = Path(data_path)
    if not data_path.is_file():
        raise ProvenanceError(f"{data_path}: data file not found")
    raw_dir = data_path.parent
    if package_path(raw_dir).is_file():
        package = load_package(raw_dir)
    else:
        package = {"name": PACKAGE_NAME, "resources": []}
    by_path = resources_by_path(package)
    resource = by_path.get(data_path.name)
    if resource is None:
        resource = _new_resource(data_path)
        package["resources"].append(resource)
    sidecar = data_path.with_name(data_path.name + SIDECAR_SUFFIX)
    if sidecar.is_file():
        meta = read_yaml_mapping(sidecar, ProvenanceError)
        resource.update(_from_sidecar(meta, data_path))
    resource.update(properties)
    _measure(resource, data_path)
    write_package(package, raw_dir)
    if sidecar.is_file():
        sidecar.unlink()
    return resource


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


#: Frictionless errors that a deliberate edit of a raw file causes (fixed by ``--add``).
_PINNING_ERRORS = ("hash-count", "byte-count", "row-count")


def _frictionless_problem(task_path: str, error: Any, hint_dir: Path | None) -> str:
    where = [task_path]
    row = getattr(error, "row_number", None)
    if row:
        where.append(f"row {row}")
    field = getattr(error, "field_name", None)
    if field:
        where.append(f"column {field!r}")
    text = f"{', '.join(where)}: {error.type}: {error.note or error.message}"
    if hint_dir is not None and error.type in _PINNING_ERRORS:
        text += (f"; if the edit was deliberate run "
                 f"`python -m takingstock.data.provenance --add {hint_dir / task_path}`")
    return text


def frictionless_problems(package_file: str | Path, *, hint_dir: Path | None = None) -> list[str]:
    """``frictionless validate`` of a package file; one line per problem.

    Each line names the file, the row and column where frictionless gives them, the error type
    (``hash-count``, ``byte-count``, ``row-count``, ``incorrect-label``, ``type-error``...) and
    its note. With ``hint_dir``, a checksum, size or row-count error says how to re-pin the
    file with ``--add``.
    """
    from frictionless import validate  # lazy: frictionless takes ~0.3 s to import; only checks and inference use it

    report = validate(str(package_file))
    problems = [f"{Path(package_file).name}: {e.type}: {e.note or e.message}"
                for e in report.errors]
    for task in report.tasks:
        place = Path(str(getattr(task, "place", None) or task.name)).name
        problems.extend(_frictionless_problem(place, e, hint_dir) for e in task.errors)
    return problems


def validate_package(raw_dir: str | Path = paths.RAW) -> list[str]:
    """``frictionless validate`` of ``<raw_dir>/datapackage.json`` (:func:`frictionless_problems`)."""
    path = package_path(raw_dir)
    if not path.is_file():
        return [f"{path}: not found (the raw data's provenance lives there)"]
    return frictionless_problems(path, hint_dir=Path(raw_dir))


def resource_problems(resource: dict[str, Any]) -> list[str]:
    """What a resource lacks that frictionless does not check (see :data:`REQUIRED_PROPERTIES`)."""
    name = resource.get("path") or resource.get("name") or "?"
    problems = [f"{name}: property {key!r} is missing or empty in {PACKAGE_FILE}"
                for key in REQUIRED_PROPERTIES if not resource.get(key)]
    if str(resource.get("path", "")).lower().endswith(".csv"):
        fields = (resource.get("schema") or {}).get("fields") or []
        if not fields:
            problems.append(f"{name}: no Table Schema (schema.fields) in {PACKAGE_FILE}")
        for field in fields:
            if not str(field.get("description") or "").strip():
                problems.append(f"{name}: column {field.get('name')!r} has no description in "
                                f"{PACKAGE_FILE}")
    return problems


def verify_all(raw_dir: str | Path = paths.RAW) -> list[str]:
    """Check the raw folder against its package; return all problems (empty = all good).

    Frictionless validation of the package (:func:`validate_package`), then: files that are
    not resources, resources whose file is gone, resources lacking required properties, and
    old-format sidecars waiting to be imported.
    """
    raw_dir = Path(raw_dir)
    files = raw_files(raw_dir)
    try:
        package = load_package(raw_dir)
    except ProvenanceError as exc:
        return [str(exc)]
    by_path = resources_by_path(package)
    problems: list[str] = []
    for path in files:
        if path.name not in by_path:
            problems.append(f"{path.name}: not in {PACKAGE_FILE}; describe it with "
                            f"`python -m takingstock.data.provenance --add {path}`")
    for name, resource in by_path.items():
        if not (raw_dir / name).is_file():
            problems.append(f"{name}: listed in {PACKAGE_FILE} but the file does not exist")
            continue
        problems.extend(resource_problems(resource))
    for side in legacy_sidecars(raw_dir):
        data = side.name[: -len(SIDECAR_SUFFIX)]
        problems.append(f"{side.name}: old-format sidecar; import it with "
                        f"`python -m takingstock.data.provenance --add {raw_dir / data}`")
    if all((raw_dir / name).is_file() for name in by_path):
        problems.extend(validate_package(raw_dir))
    return problems


def import_sidecars(raw_dir: str | Path = paths.RAW) -> list[dict[str, Any]]:
    """Import every old-format ``<file>.meta.yml`` of ``raw_dir`` (:func:`refresh_resource`).

    For a merge with work that still writes sidecars: each sidecar's metadata goes into the
    package (replacing what the package said about that file), the file is re-measured, and
    the sidecar is deleted. Returns the resources refreshed.

    Raises:
        ProvenanceError: a sidecar whose data file does not exist (named).
    """
    out = []
    for side in legacy_sidecars(raw_dir):
        data = side.with_name(side.name[: -len(SIDECAR_SUFFIX)])
        if not data.is_file():
            raise ProvenanceError(f"{side}: sidecar without a data file ({data.name})")
        out.append(refresh_resource(data))
    return out


def verify(data_path: str | Path) -> list[str]:
    """The problems :func:`verify_all` finds that concern one raw file (empty = all good)."""
    data_path = Path(data_path)
    name = data_path.name
    return [p for p in verify_all(data_path.parent)
            if p.startswith((f"{name}:", f"{name},", f"{name}{SIDECAR_SUFFIX}:"))]


def raw_data_versions(raw_dir: str | Path = paths.RAW) -> list[dict[str, Any]]:
    """Describe every raw data file for the briefings' provenance stamp.

    Returns:
        One dict per file, sorted by name: ``file`` (name), ``sha256`` and ``rows`` (measured
        now, not copied from the package), ``title`` (from the package, ``None`` if the file
        is not in it) and ``verified`` (True when the package's hash, and row count for a CSV,
        match what was measured). A missing or unreadable package leaves every file
        unverified.
    """
    try:
        by_path = resources_by_path(load_package(raw_dir))
    except ProvenanceError:
        by_path = {}
    out = []
    for path in raw_files(raw_dir):  # each file read once for its checksum, once for its rows
        sha = atomic.sha256_file(path)
        try:
            rows, readable = count_rows(path), True
        except ProvenanceError:  # not UTF-8, bad YAML: --check says why
            rows, readable = None, False
        resource = by_path.get(path.name)
        verified = (readable and resource is not None and resource.get("hash") == f"sha256:{sha}"
                    and resource.get("rows") == (rows if path.suffix.lower() == ".csv" else None))
        out.append({"file": path.name, "sha256": sha, "rows": rows,
                    "title": resource.get("title") or None if resource else None,
                    "verified": bool(verified)})
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--add FILE...`` adds or refreshes resources; ``--check [DIR]`` verifies."""
    parser = argparse.ArgumentParser(
        prog="python -m takingstock.data.provenance",
        description="Check data/raw/ against its Frictionless Data Package, or add a file to it.",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--add", "--update", nargs="+", metavar="FILE", dest="add",
                       help="add each FILE to its folder's datapackage.json, or refresh its "
                            "hash, bytes, rows and schema (imports FILE.meta.yml if present)")
    group.add_argument("--import-sidecars", nargs="?", const=str(paths.RAW), metavar="DIR",
                       help="import every old-format FILE.meta.yml of DIR (default data/raw) "
                            "into its datapackage.json, then delete the sidecars")
    group.add_argument("--check", nargs="?", const=str(paths.RAW), metavar="DIR",
                       help="frictionless-validate DIR/datapackage.json (default data/raw) and "
                            "check every file is described; exit 1 on problems")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except ProvenanceError as exc:  # any action: the file and the reason, exit 2
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    """The action the command line asked for (see :func:`main`); may raise :class:`ProvenanceError`."""
    if args.add:
        for name in args.add:
            resource = refresh_resource(name)
            print(f"{package_path(Path(name).parent)}: {resource['path']} {resource['hash']}, "
                  f"{resource['bytes']} bytes, rows {resource.get('rows')}")
        return 0
    if args.import_sidecars:
        done = import_sidecars(args.import_sidecars)
        for resource in done:
            print(f"imported {resource['path']}{SIDECAR_SUFFIX} into "
                  f"{package_path(args.import_sidecars)}")
        print(f"{len(done)} sidecar(s) imported")
        return 0
    problems = verify_all(args.check)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{package_path(args.check)}: valid; every raw file is described and matches")
    return 1 if problems else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
