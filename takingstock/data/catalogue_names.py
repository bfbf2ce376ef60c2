"""What a catalogue is called: its id, from its file name, and its title, from a data package.

A catalogue file ``catalogue_<id>.csv`` has the id ``<id>`` (:func:`catalogue_id`), the value of
the processed catalogue's ``catalogue`` column. Its title for readers is the one the data
package (``datapackage.json``) gives the resource ``catalogue_<id>``, up to its colon
(:func:`catalogue_titles`): the committed ``data/raw/datapackage.json`` describes the committed
catalogues, and a user's raw folder may bring a package of its own. This is the one reader of
those titles: the run context (:meth:`takingstock.data.runcontext.RunContext.catalogue_title`)
and the labels of tables and pages (:func:`takingstock.report.labels.catalogue_title`) both
read them here, and each words them for its readers.

A module of its own, apart from :mod:`takingstock.data.catalogue_files`, so that naming a
catalogue costs no pandas import: the run context, which the runner imports before any kernel
starts, needs the titles but not the readers.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from takingstock.core import paths


def catalogue_id(path: str | Path) -> str:
    """``catalogue_amnesty_2015.csv`` -> ``amnesty_2015``; any other file -> its stem."""
    stem = Path(path).stem
    return stem[len("catalogue_"):] if stem.startswith("catalogue_") and len(stem) > 10 else stem


def catalogue_titles(*packages: str | Path) -> dict[str, str]:
    """``{catalogue id: title}`` from data packages (``datapackage.json``).

    A resource named ``catalogue_<id>`` with a title gives ``<id>`` that title up to its colon
    ("Amnesty International, Taking Stock (2015)"). Packages are read in the order given, a
    later one's title replacing an earlier one's; with none given, the committed
    ``data/raw/datapackage.json``. A package that is missing or not JSON gives no titles.
    """
    titles: dict[str, str] = {}
    for package in packages or (paths.RAW / "datapackage.json",):
        path = Path(package)
        try:
            st = path.stat()
        except OSError:
            continue
        titles.update(_package_titles(str(path), st.st_mtime_ns, st.st_size))
    return titles


@functools.lru_cache(maxsize=8)
def _package_titles(path: str, mtime_ns: int, size: int) -> dict[str, str]:
    """The catalogue titles of one package file, read once per version of the file (its
    modification time and size are part of the key)."""
    try:
        package = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    resources = (package.get("resources") if isinstance(package, dict) else None) or []
    titles = {}
    for res in resources:
        name, title = str(res.get("name", "")), str(res.get("title") or "").strip()
        if name.startswith("catalogue_") and title:
            titles[name.removeprefix("catalogue_")] = title.split(":", 1)[0].strip()
    return titles
