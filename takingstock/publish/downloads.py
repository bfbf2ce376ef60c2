"""The downloads beside what people read: each saved table's and figure's files, and the links.

Method
------
Given ``tables_dir`` and ``figures_dir``, the tables and figures each notebook's summary records
(what it saved in this run, :func:`outputs_of_pages`) and whose files exist
(:func:`collect_downloads`) are copied into ``downloads/`` inside the briefings folder
(:func:`copy_downloads`), with the tables' data package (:mod:`takingstock.data.packages`,
:func:`copy_package`). A shown table carrying ``data-table="<name>"`` (``tables.show`` of a
saved frame) and a figure whose plotly ``layout.meta.name`` names a saved figure
(:func:`figure_name`) get their links right under them (:meth:`Downloads.links_after`); each
page ends with a Downloads section (:meth:`Downloads.page_items`). Links are relative
(``downloads/tables/<name>.csv``), so the folder works from disk or any host.

Caveats: a figure's SVG and PNG are missing when no browser could draw them; the figure then has
no download link (the page still shows the interactive figure). Names that are not plain file
stems (letters, digits, ``_ . -``) are never linked.
"""

from __future__ import annotations

import html as _html
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterable, Mapping

from bs4 import BeautifulSoup

from takingstock.core.summaries import read_summary
from takingstock.data.packages import PACKAGE_FILE

DOWNLOADS_DIR = "downloads"
#: Files each kind of output offers, in link order: (suffix, link text).
TABLE_FORMATS = (("csv", "CSV"), ("md", "Markdown"))
FIGURE_FORMATS = (("svg", "SVG"), ("png", "PNG"))
_FILE_STEM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def figure_name(plotly_json: Any) -> str | None:
    """The name ``figures.save_figure`` gave a figure (its ``layout.meta.name``), or None."""
    if not isinstance(plotly_json, Mapping):
        return None
    meta = (plotly_json.get("layout") or {}).get("meta")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return name if isinstance(name, str) and _FILE_STEM_RE.match(name) else None


def _saved_tables(output_html: str) -> list[str]:
    """The names of the saved tables in one output (each ``<table data-table="name">``), read
    with an HTML parser."""
    if "data-table" not in output_html:
        return []
    tables = BeautifulSoup(output_html, "html.parser").find_all("table", attrs={"data-table": True})
    return [t["data-table"] for t in tables if _FILE_STEM_RE.match(t["data-table"])]


class Downloads:
    """The files of the published ``downloads/`` folder, and the links to them.

    ``tables`` / ``figures`` map a table or figure name to the formats present (``csv``,
    ``md`` / ``svg``, ``png``). Links are relative to the briefings folder
    (``downloads/tables/<name>.csv``), so the folder works from disk or any host.
    """

    def __init__(self, tables: Mapping[str, list[str]], figures: Mapping[str, list[str]],
                 records: Mapping[str, Mapping[str, list[dict]]] | None = None):
        self.tables = {k: list(v) for k, v in tables.items()}
        self.figures = {k: list(v) for k, v in figures.items()}
        self.records = dict(records or {})

    @staticmethod
    def href(kind: str, name: str, suffix: str) -> str:
        return f"{DOWNLOADS_DIR}/{kind}/{name}.{suffix}"

    def links(self, kind: str, name: str) -> list[dict[str, str]]:
        """``[{href, label}]`` for the formats of one table or figure (empty when none)."""
        present = (self.tables if kind == "tables" else self.figures).get(name, [])
        formats = TABLE_FORMATS if kind == "tables" else FIGURE_FORMATS
        return [{"href": self.href(kind, name, suffix), "label": label}
                for suffix, label in formats if suffix in present]

    def links_html(self, kind: str, name: str) -> str:
        """A ``<p class="downloads">`` with the links of one table or figure ("" when none)."""
        links = self.links(kind, name)
        if not links:
            return ""
        what = "table" if kind == "tables" else "figure"
        anchors = " · ".join(f'<a href="{_html.escape(link["href"], quote=True)}">'
                             f'{link["label"]}</a>' for link in links)
        return f'<p class="downloads">Download this {what}: {anchors}</p>'

    def links_after(self, output_html: str, figure: str | None) -> str:
        """The links to put after one output: its figure's, then each saved table's in it."""
        parts = [self.links_html("figures", figure)] if figure else []
        parts += [self.links_html("tables", name) for name in _saved_tables(output_html)]
        return "".join(parts)

    def page_items(self, stem: str) -> dict[str, list[dict[str, Any]]]:
        """What a page lists in its Downloads section: its notebook's tables and figures."""
        recs = self.records.get(stem) or {}
        tables = [{"title": r.get("caption") or r["name"], "name": r["name"],
                   "links": self.links("tables", r["name"])} for r in recs.get("tables") or []]
        figures = [{"title": r.get("alt") or r["name"], "name": r["name"],
                    "links": self.links("figures", r["name"])} for r in recs.get("figures") or []]
        return {"tables": [t for t in tables if t["links"]],
                "figures": [f for f in figures if f["links"]]}


def outputs_of_pages(summaries_dir: str | os.PathLike, stems: Iterable[str]) -> dict[str, dict]:
    """The tables and figures each page's notebook saved, as its summary recorded them:
    ``{stem: {"tables": [...], "figures": [...]}}`` (records whose name is not a plain file stem
    left out)."""
    out = {}
    for stem in stems:
        summary = read_summary(summaries_dir, stem) or {}
        out[stem] = {kind: [r for r in summary.get(kind) or []
                            if isinstance(r, Mapping) and _FILE_STEM_RE.match(str(r.get("name", "")))]
                     for kind in ("tables", "figures")}
    return out


def collect_downloads(
    records: Mapping[str, Mapping[str, list[dict]]],
    *,
    tables_dir: str | os.PathLike | None,
    figures_dir: str | os.PathLike | None,
) -> Downloads:
    """The recorded tables and figures whose files exist in ``tables_dir`` / ``figures_dir``.

    A figure's SVG and PNG are missing when no browser could draw them: the figure then has no
    download link (the page still shows the interactive figure).
    """
    found: dict[str, dict[str, list[str]]] = {"tables": {}, "figures": {}}
    for kind, folder, formats in (("tables", tables_dir, TABLE_FORMATS),
                                  ("figures", figures_dir, FIGURE_FORMATS)):
        if folder is None:
            continue
        for recs in records.values():
            for rec in recs.get(kind) or []:
                present = [suffix for suffix, _ in formats
                           if (Path(folder) / f"{rec['name']}.{suffix}").is_file()]
                if present:
                    found[kind][rec["name"]] = present
    return Downloads(found["tables"], found["figures"], records)


def copy_downloads(downloads: Downloads, target: Path, *, tables_dir, figures_dir,
                   package: bool = True) -> list[Path]:
    """Copy every file ``downloads`` links into ``target/downloads/``; return what was copied.

    With ``package``, the tables' ``datapackage.json`` goes along when ``tables_dir`` has one
    (:func:`copy_package`), so the tables folder of the downloads is itself a valid data package.
    """
    copied = []
    for kind, folder, files in (("tables", tables_dir, downloads.tables),
                                ("figures", figures_dir, downloads.figures)):
        for name, suffixes in files.items():
            for suffix in suffixes:
                dest = target / downloads.href(kind, name, suffix)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(folder) / f"{name}.{suffix}", dest)
                copied.append(dest)
    if package and tables_dir is not None and downloads.tables:
        copied += copy_package(target, tables_dir)
    return copied


def copy_package(target: Path, tables_dir) -> list[Path]:
    """Copy ``tables_dir``'s ``datapackage.json`` (if any) into ``target/downloads/tables/``."""
    package = Path(tables_dir) / PACKAGE_FILE
    if not package.is_file():
        return []
    dest = target / DOWNLOADS_DIR / "tables" / PACKAGE_FILE
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(package, dest)
    return [dest]
