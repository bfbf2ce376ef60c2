"""The parsed-register cache: a SIPRI export read once for every kernel of a run.

Reading an export takes about 0.6 s (decoding, the checks, the crosswalk lookups); a run reads
each export in several kernels (notebooks 03, 04, 05, 06, each run of a grid).
:func:`read_register_cached` keeps the :class:`takingstock.data.sipri.Register` read from a
file in a cache folder (the run's ``output_dir/.cache/registers``, named by the run context),
under a key (:func:`register_cache_key`) that covers everything the read depends on: the
file's bytes (SHA-256), its fetch sidecar, the three reference files the reader uses
(crosswalk, known releases, weapon categories), the source of the reader's modules (the
``sipri_*`` modules, :mod:`takingstock.data.countries`, :mod:`takingstock.core.paths`) and of
this one, and the Python, pandas, pyarrow and numpy versions. Any change to one of them gives
a new key, so a cached read is never stale; loading one takes milliseconds.

The cache holds data only: the deals as an Arrow IPC file (``sipri-<key>.arrow``, read by
pyarrow) and the other fields as JSON (``sipri-<key>.json``, each field's type checked);
nothing in either is ever executed, so an output folder copied from someone else is safe to
run in (no pickle is written or loaded). Only successful reads are cached (a bad file raises
every time); a cache file that is missing, damaged or not ours is ignored, the export read
again and the cache rewritten (atomically). Kernels that ask for the same export at once take
turns on a lock file beside the cache (``filelock``): the first parses, the others then load
what it wrote. Deleting the cache is always safe.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from dataclasses import asdict
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
from filelock import FileLock

from takingstock.core import atomic, paths, tabular
from takingstock.data import (
    countries,
    sipri,
    sipri_columns,
    sipri_format,
    sipri_records,
    sipri_releases,
    sipri_weapons,
)
from takingstock.data.sipri import Register, read_register
from takingstock.data.sipri_releases import KnownRelease

__all__ = ["read_register_cached", "register_cache_key", "REGISTER_CACHE_VERSION"]

#: The modules whose source a cached read depends on (besides this one).
_READER_MODULES = (sipri, sipri_format, sipri_records, sipri_releases, sipri_columns, sipri_weapons,
                   countries, paths, tabular)

REGISTER_CACHE_VERSION = "2"


def register_cache_key(path: str | Path) -> str:
    """The key of ``path``'s cached read (what it covers: the module docstring)."""
    path = Path(path)
    digest = hashlib.sha256(f"register-cache {REGISTER_CACHE_VERSION}\0".encode())
    digest.update(" ".join([platform.python_version(), *_library_versions()]).encode())
    sidecar = path.with_name(path.name + ".meta.yml")
    inputs = [("export", path), ("sidecar", sidecar), ("crosswalk", Path(countries.CROSSWALK_PATH)),
              ("releases", Path(sipri_releases.RELEASES_PATH)), ("categories", Path(sipri_weapons.CATEGORIES_PATH)),
              ("code", Path(__file__)), *(("code", Path(module.__file__)) for module in _READER_MODULES)]
    for role, file in inputs:
        data = file.read_bytes() if file.is_file() else b"-"
        digest.update(f"\0{role}\0{len(data)}\0".encode() + hashlib.sha256(data).digest())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _library_versions() -> tuple[str, ...]:
    """The installed pandas, pyarrow and numpy versions (what the cached frames depend on)."""
    out = []
    for name in ("pandas", "pyarrow", "numpy"):
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=-")
    return tuple(out)


#: The fields of a :class:`Register` the JSON sidecar of a cached read holds, with their types.
_CACHED_FIELDS = {"release_date": (str, type(None)), "sha256": str, "encoding": str, "joined_lines": list,
                  "preamble": list, "content_sha256": str, "known_release": (dict, type(None)),
                  "unmapped_descriptions": list}


def _register_to_cache(register: Register, frame_path: Path, fields_path: Path) -> None:
    """Write a read register as data only: its deals as an Arrow IPC file, the rest as JSON."""
    known = register.known_release
    fields = {"release_date": register.release_date.isoformat() if register.release_date else None,
              "sha256": register.sha256, "encoding": register.encoding, "joined_lines": register.joined_lines,
              "preamble": register.preamble, "content_sha256": register.content_sha256,
              "known_release": None if known is None else {**asdict(known), "release_date": known.release_date.isoformat()},
              "unmapped_descriptions": register.unmapped_descriptions}
    sink = pa.BufferOutputStream()
    feather.write_feather(pa.Table.from_pandas(register.deals, preserve_index=False), sink, compression="uncompressed")
    atomic.write_bytes(frame_path, sink.getvalue().to_pybytes())
    atomic.write_text(fields_path, json.dumps(fields))


def _register_from_cache(frame_path: Path, fields_path: Path, path: Path) -> Register | None:
    """The register a cache pair holds, or None when either file is missing, damaged or not ours.

    Only data is read (JSON, and an Arrow IPC file through pyarrow): nothing in them can run."""
    try:
        fields = json.loads(fields_path.read_text(encoding="utf-8"))
        if not isinstance(fields, dict) or set(fields) != set(_CACHED_FIELDS) or not all(
                isinstance(fields[k], t) for k, t in _CACHED_FIELDS.items()):
            return None
        deals = feather.read_table(frame_path).to_pandas()
        deals["delivery_years"] = [list(map(int, years)) for years in deals["delivery_years"]]
        known = fields["known_release"]
        if known is not None:
            known = KnownRelease(**{**known, "release_date": _dt.date.fromisoformat(known["release_date"])})
        date = fields["release_date"]
        return Register(deals=deals, release_date=None if date is None else _dt.date.fromisoformat(date), path=path,
                        sha256=fields["sha256"], encoding=fields["encoding"], joined_lines=fields["joined_lines"],
                        preamble=fields["preamble"], content_sha256=fields["content_sha256"], known_release=known,
                        unmapped_descriptions=fields["unmapped_descriptions"])
    except Exception:  # noqa: BLE001 - a missing, damaged or foreign cache file is read again from the export
        return None


def read_register_cached(path: str | Path, cache_dir: str | Path | None) -> Register:
    """:func:`read_register`, through the parsed-register cache in ``cache_dir`` (None: no cache).

    Returns a new :class:`Register` on every call (callers may change its frame), with
    ``.path`` the file asked for. Raises what :func:`read_register` raises.
    """
    path = Path(path)
    if cache_dir is None:
        return read_register(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such SIPRI export")
    stem = Path(cache_dir) / f"sipri-{register_cache_key(path)[:40]}"
    frame_path, fields_path = stem.with_suffix(".arrow"), stem.with_suffix(".json")
    stem.parent.mkdir(parents=True, exist_ok=True)
    # kernels running side by side wait for the one that parses the export, not parse it twice
    with FileLock(stem.with_suffix(".lock")):
        register = _register_from_cache(frame_path, fields_path, path)
        if register is None:
            register = read_register(path)
            _register_to_cache(register, frame_path, fields_path)
    return register
