"""What a reader sees, scanned for what a reader should never see (issue 21).

``page_text(html)`` is the text of an HTML page as a browser shows it: the text content of the
body and title, without the contents of ``<script>``, ``<style>``, ``<template>`` and
``<noscript>`` (a figure's JSON, the CSS). ``pdf_pages(pdf)`` is the text of each page of a PDF
(``pdftotext``). ``figure_text(spec)`` is the words a plotly chart draws (its title, axis titles,
legend, annotations such as the source line, category labels), from the figure's JSON.

``scan(text, where, ...)`` reports every :class:`Problem` of these kinds:

* ``Traceback``, ``Error`` (a log or traceback word: ``ValueError``, ``ERROR:``, ``Error:``),
  ``PosixPath``, ``<style``, ``DataFrame``;
* ``absolute path``: the checkout, the home folder, the run's own output folder, or any path
  under ``/home``, ``/tmp``, ``/Users``, ``/root``, ``/work``;
* ``nan`` (``nan``, ``NaN``, ``NaT``, ``<NA>``), ``None`` (the word as a value, not "None of ...");
* ``long float``: a number with more than two decimals (``3150.888847486363``);
* ``list or dict repr``: ``[2014, 2015]``, ``['a', 'b']``, ``{'a': 1}``;
* ``snake_case header`` (a table header of HTML that is an identifier: ``period_id``), and
  ``snake_case``: such an identifier anywhere else in the text (``tiv_per_year``);
* ``catalogue id``: one of the run's catalogue ids (``amnesty_2015``).

Web addresses and names of downloadable files (``02_blocs.csv``) are not words of the text:
both are left out before the identifier checks (a file's name is how a reader finds it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable

HIDDEN_TAGS = {"script", "style", "template", "noscript"}
CONTEXT = 40


@dataclass(frozen=True)
class Problem:
    kind: str
    where: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: ...{self.excerpt}..."


class _Text(HTMLParser):
    """Collects the text content outside hidden elements, and the text of each ``<th>``."""

    _VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
             "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.headers: list[str] = []
        self._hidden = 0
        self._th: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "th":
            self._th = []
        if tag in ("br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "caption",
                   "figcaption", "section", "article", "header", "footer", "table", "pre"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag == "th" and self._th is not None:
            self.headers.append("".join(self._th).strip())
            self._th = None
        if tag in ("td", "th"):
            self.parts.append(" \t ")

    def handle_data(self, data):
        if self._hidden:
            return
        self.parts.append(data)
        if self._th is not None:
            self._th.append(data)


def page_text(html: str) -> str:
    """The text a browser shows of an HTML page (hidden elements' contents left out)."""
    return parse(html)[0]


def parse(html: str) -> tuple[str, list[str]]:
    """The page's text and the text of its table headers (``<th>``)."""
    p = _Text()
    p.feed(html)
    p.close()
    return "".join(p.parts), p.headers


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page of a PDF (``pdftotext``)."""
    if not shutil.which("pdftotext"):
        raise RuntimeError("pdftotext not found (Debian: poppler-utils)")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8").split("\f")


def figure_text(spec: dict) -> str:
    """The words a plotly figure draws, one per line, from its JSON (``{"data", "layout"}``)."""
    layout = spec.get("layout", {}) or {}
    words: list[str] = []

    def title(obj):
        t = (obj or {}).get("title")
        t = t.get("text") if isinstance(t, dict) else t
        if t:
            words.append(str(t))

    title(layout)
    for key, axis in layout.items():
        if re.match(r"^[xy]axis\d*$", key) and isinstance(axis, dict):
            title(axis)
            words += [str(t) for t in axis.get("ticktext") or []]
    words += [str(a.get("text", "")) for a in layout.get("annotations") or []]
    if isinstance(layout.get("legend"), dict):
        title(layout["legend"])
    for trace in spec.get("data") or []:
        if trace.get("showlegend", True) and trace.get("name"):
            words.append(str(trace["name"]))
        for key in ("x", "y"):
            values = trace.get(key)
            if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                words += values
        if isinstance(trace.get("colorbar"), dict):
            title(trace["colorbar"])
    text = "\n".join(words)
    return re.sub(r"<br\s*/?>", "\n", text)


_FILE_NAME = re.compile(r"[\w.\-]+\.(?:csv|md|json|svg|png|html|pdf|ipynb|parquet|yml|yaml|txt|zip)\b", re.I)
_URL = re.compile(r"https?://\S+|www\.\S+")
_SNAKE = re.compile(r"(?<![\w\-./])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w\-/])")
_NUMBER_ITEM = r"-?\d+(?:\.\d+)?"
_STR_ITEM = r"'[^'\n]*'|\"[^\"\n]*\""
_CHECKS: list[tuple[str, re.Pattern]] = [
    ("Traceback", re.compile(r"\bTraceback\b")),
    ("Error", re.compile(r"\b[A-Z][A-Za-z]*Error\b|\bERROR\b|\bError\s*[:(]")),
    ("PosixPath", re.compile(r"\b(?:Posix|Windows|Pure)?Path\(")),
    ("<style", re.compile(r"<style", re.I)),
    ("DataFrame", re.compile(r"\bDataFrame\b")),
    ("nan", re.compile(r"(?<![\w\-])(?:nan|NaN|NaT)(?![\w\-])|<NA>")),
    ("None", re.compile(r"(?<![\w\-])None(?![\w\-])(?!\s+(?:of|was|were|is|are|has|have|had|in|at|on)\b)")),
    ("long float", re.compile(r"(?<![\w.])\d[\d,]*\.\d{3,}(?![\w.])")),
    ("list or dict repr", re.compile(
        rf"\[\s*(?:{_NUMBER_ITEM})\s*(?:,\s*(?:{_NUMBER_ITEM})\s*)+\]"
        rf"|\[\s*(?:{_STR_ITEM})\s*(?:,\s*(?:{_STR_ITEM})\s*)*\]"
        rf"|\{{\s*(?:{_STR_ITEM})\s*:")),
]
_GENERIC_PATHS = re.compile(r"(?<![\w:/.])/(?:home|tmp|Users|root|work)/[\w.\-/]+")


def _excerpt(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - CONTEXT):end + CONTEXT].split())


def scan(text: str, where: str, *, headers: Iterable[str] = (), catalogue_ids: Iterable[str] = (),
         paths: Iterable[str | os.PathLike] = ()) -> list[Problem]:
    """Every :class:`Problem` in ``text`` (see the module docstring).

    ``headers``: the page's table headers; ``catalogue_ids``: the run's catalogues;
    ``paths``: absolute paths no reader should see (the checkout, the home folder, the run's
    output folder); each is looked for as written.
    """
    found: list[Problem] = []
    for kind, pattern in _CHECKS:
        for m in pattern.finditer(text):
            found.append(Problem(kind, where, _excerpt(text, m.start(), m.end())))
    for p in {str(p).rstrip("/") for p in paths if str(p).strip("/")}:
        for m in re.finditer(re.escape(p), text):
            found.append(Problem("absolute path", where, _excerpt(text, m.start(), m.end())))
    if not any(pr.kind == "absolute path" for pr in found):
        for m in _GENERIC_PATHS.finditer(text):
            found.append(Problem("absolute path", where, _excerpt(text, m.start(), m.end())))
    words = _FILE_NAME.sub(" ", _URL.sub(" ", text))
    ids = sorted({c for c in catalogue_ids if c}, key=len, reverse=True)
    if ids:
        pattern = re.compile(r"(?<![\w\-])(?:" + "|".join(map(re.escape, ids)) + r")(?![\w\-])")
        for m in pattern.finditer(words):
            found.append(Problem("catalogue id", where, _excerpt(words, m.start(), m.end())))
    for h in headers:
        if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", h.strip()):
            found.append(Problem("snake_case header", where, h.strip()))
    for m in _SNAKE.finditer(words):
        if m.group(0) not in ids:
            found.append(Problem("snake_case", where, _excerpt(words, m.start(), m.end())))
    return found


def scan_html(html: str, where: str, **kwargs) -> list[Problem]:
    """:func:`scan` of an HTML page's visible text and table headers."""
    text, headers = parse(html)
    return scan(text, where, headers=headers, **kwargs)


def summary(problems: list[Problem], limit: int = 3) -> str:
    """Problems grouped by kind and place, with up to ``limit`` excerpts each."""
    groups: dict[tuple[str, str], list[str]] = {}
    for p in problems:
        groups.setdefault((p.kind, p.where), []).append(p.excerpt)
    lines = []
    for (kind, where), excerpts in sorted(groups.items()):
        shown = " | ".join(e[:120] for e in excerpts[:limit])
        lines.append(f"{kind} x{len(excerpts)} in {where}: {shown}")
    return "\n".join(lines)
