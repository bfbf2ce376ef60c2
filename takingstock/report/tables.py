"""Tables: written to disk as CSV and Markdown, shown in notebooks as accessible HTML.

Method
------
``save_table(df, name, tables_dir=..., caption=..., source=...)`` writes ``<name>.csv`` (the
numbers as computed, for reuse) and ``<name>.md`` (the caption, then a pipe table with
formatted numbers, then the source line, for reading), each atomically through
``takingstock.core.atomic``, and records the table for the notebook's summary (the briefings' downloads
and the tables' data package come from that record). ``show(df, caption)`` displays the same
formatted table in a notebook as HTML with a ``<caption>`` and ``<th scope="col">``; when the
process saved an equal frame (same columns and values, compared by a digest of its CSV text),
the ``<table>`` carries ``data-table="<name>"`` so the briefing links its files.

Reader's formatting (``format_frame``, one rule per column, so a column never mixes
"4,270" and "4,700.03"); the CSV keeps the names and full precision:

* a *share* column (``share``, ``share_*``, ``*_share``) holds percentages (0-100) and prints
  with one decimal and a ``%`` sign (``28.4%``);
* a *year* column (``year``, ``*_year``, ``year_*``, ``*_years``; not ``*_per_year``,
  ``*_a_year`` or a TIV column) whose values all lie in 1800-2100 prints without separators
  (``1952``); a text or list of years prints as ranges (``2014–2018``, ``1998–1999, 2001``);
* a *count* column (a word of its name in :data:`COUNT_WORDS`: ``items``, ``count``,
  ``number_delivered``, ``deals``...) and any integer column print as whole numbers with
  thousands separators (``20,635``, never ``20,634.88 items``);
* any other number column (TIV, differences) gets the fewest decimals, at most two, that show
  each of its values within 5% (``3,151``; ``0.4``), and a non-zero value too small for that
  reads ``<0.01``, never ``0``;
* a ``catalogue`` column shows the catalogues' titles, not their ids; lists read as prose
  ("A, B and C"), dicts as "key: value"; booleans as yes/no; a missing value (``None``, NaN,
  an empty list) as an en dash, in HTML and in Markdown alike.

Headers are words (``display_headers``: ``period_id`` -> "Period", ``tiv_share`` -> "Share of
TIV", ``tiv`` -> "TIV (millions)"); the rules, the table of known names and the readable
fallback are in ``takingstock.report.labels``.

Caveats
-------
Every header, cell and the caption are text from data as far as we are concerned: in HTML
they are escaped with ``html.escape``; in Markdown (``md_text``) ``&``, ``<`` and ``>`` become
entities, every character Markdown gives a meaning (``\\ ` * _ [ ] ( ) { } # ! | ~ $ ^ : =``,
and ``-``, ``+`` at the start of a cell) is backslash-escaped and line breaks become
spaces, so a designation such as ``<script>``, ``A|B``, ``[click](javascript:alert(1))`` or ``**bold**`` shows as written and
cannot break the table, make a link, emphasis or HTML. The price: the ``.md`` source reads
``28.4%`` as is but ``TIV \\(millions\\)`` and ``Type 56 \\(AK-47\\)`` with backslashes. A GitHub
renderer may still turn a bare ``https://`` address into a link showing that same address.
"""

from __future__ import annotations

import hashlib
import html
import os
from pathlib import Path

import pandas as pd

from takingstock.core import atomic
from takingstock.report import labels
from takingstock.core.summaries import record_output


class TableError(ValueError):
    """A table cannot be written (bad name, empty caption)."""


def is_share_column(name: object) -> bool:
    """True for columns holding percentage shares (``share``, ``share_*``, ``*_share``).

    The project's convention: every share column holds a percentage (0-100), never a fraction.
    """
    n = str(name).lower()
    return n == "share" or n.startswith("share_") or n.endswith("_share") or n.endswith("share_pct")


def format_share(value: object) -> str:
    """Format a percentage share with one decimal: ``28.43`` -> ``"28.4%"`` (en dash if missing)."""
    if labels.is_missing(value):
        return labels.MISSING
    return f"{float(value):.1f}%"


def format_count(value: object) -> str:
    """Format a count as a whole number with thousands separators: ``1730`` -> ``"1,730"``,
    ``20634.88`` -> ``"20,635"``, ``0.3`` -> ``"<1"`` (en dash if missing)."""
    return labels.format_number(value, 0)


#: Words of a column name that make it a count of whole things (items, deals, rows...).
COUNT_WORDS = {"items", "item", "count", "quantity", "number", "rows", "deals", "countries", "n"}


def is_count_column(name: object) -> bool:
    """True for columns counting whole things: a word of the name is one of :data:`COUNT_WORDS`
    (``items``, ``count``, ``number_delivered``, ``rows_placed``...), and it is not a share."""
    words = set(str(name).lower().replace(" ", "_").split("_"))
    return bool(words & COUNT_WORDS) and not is_share_column(name)


def is_year_column(name: object) -> bool:
    """True for columns named as calendar years (``year``, ``*_year``, ``year_*``, ``*_years``;
    not ``*_per_year``, ``*_a_year`` or a TIV column). :func:`format_frame` also asks every
    value to lie in 1800-2100."""
    n = str(name).lower()
    if n.endswith(("per_year", "a_year")) or "tiv" in n.split("_"):
        return False  # tiv_per_year, tiv_a_year: amounts per year, not years
    return n in ("year", "years") or n.endswith(("_year", "_years")) or n.startswith("year_")


def format_year(value: object) -> str:
    """Format a year without separators: ``1952`` -> ``"1952"`` (en dash if missing)."""
    if labels.is_missing(value):
        return labels.MISSING
    f = float(value)
    return str(int(f)) if f.is_integer() else str(value)


def _all_years(s: pd.Series) -> bool:
    v = s.dropna()
    return bool(len(v)) and bool(((v >= 1800) & (v <= 2100)).all())


def format_column(name: object, s: pd.Series) -> list[str]:
    """One column as display text (see "Number formatting" in the module docstring)."""
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and is_share_column(name):
        return [format_share(v) for v in s]
    if pd.api.types.is_bool_dtype(s):
        return [labels.cell_text(v) for v in s]
    if numeric and is_year_column(name) and _all_years(s):
        decimals = labels.column_decimals(s.dropna() % 1)  # 2007.5: one decimal for the column
        return [labels.MISSING if labels.is_missing(v) else f"{float(v):.{decimals}f}" for v in s]
    if numeric and (is_count_column(name) or pd.api.types.is_integer_dtype(s)):
        return [format_count(v) for v in s]
    if numeric:
        decimals = labels.column_decimals(s)
        return [labels.format_number(v, decimals) for v in s]
    if str(name).lower() in CATALOGUE_COLUMNS:
        return [labels.MISSING if labels.is_missing(v) else labels.catalogue_title(v) for v in s]
    out = [labels.cell_text(v) for v in s]
    if is_year_column(name):
        out = [labels.year_list_text(t) or t for t in out]
    return out


#: Columns holding catalogue ids, shown as the catalogues' titles.
CATALOGUE_COLUMNS = {"catalogue", "catalogue_id"}


def format_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every cell as display text (:func:`format_column`).

    The column names stay as they are; :func:`display_headers` gives the words a reader sees.
    """
    out = pd.DataFrame(index=df.index)
    for i, col in enumerate(df.columns):
        out[i] = format_column(col, df.iloc[:, i])
    out.columns = df.columns
    return out


def display_headers(df: pd.DataFrame) -> list[str]:
    """The headers a reader sees for ``df``'s columns (``takingstock.report.labels.headers``)."""
    return labels.headers(df.columns)


#: Characters with a meaning anywhere in Markdown text (CommonMark, and GitHub's tables,
#: strikethrough, autolinks and math; ``==mark==`` of some renderers): each is
#: backslash-escaped, so it shows as itself.
MD_SPECIAL = "\\`*_[](){}#!|~$^:="
#: Characters with a meaning only at the start of a line (list items, setext headings): escaped
#: there only, so ``-5`` and ``1980-88`` read as they are inside the text.
MD_LEADING = "-+"
_MD_ESCAPES = str.maketrans({c: "\\" + c for c in MD_SPECIAL})


def md_text(text: object) -> str:
    """Text from data made inert for Markdown: it renders as exactly the characters given.

    ``&``, ``<`` and ``>`` become HTML entities (no tag, no entity from data); every character
    of :data:`MD_SPECIAL` is backslash-escaped (no link, image, emphasis, code span,
    strikethrough, math, heading or table cell break), and so is a leading character of
    :data:`MD_LEADING` (no list item); line breaks become spaces (a table row is one line).
    So ``[click](javascript:alert(1))`` shows as that text and ``**bold**`` with its asterisks.
    """
    t = html.escape(str(text), quote=False)
    t = " ".join(t.splitlines()).translate(_MD_ESCAPES)
    return "\\" + t if t[:1] in tuple(MD_LEADING) else t


def _md_cell(text: object) -> str:
    return md_text(text)


def to_markdown(df: pd.DataFrame, caption: str) -> str:
    """Render ``df`` as a Markdown pipe table under a bold caption line (cells escaped)."""
    shown = format_frame(df)
    header = [_md_cell(c) for c in display_headers(df)]
    numeric = [
        pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns
    ]
    lines = [f"**{_md_cell(caption)}**", ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    for row in shown.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def to_html(df: pd.DataFrame, caption: str, name: str | None = None) -> str:
    """Render ``df`` as an HTML table: escaped caption, ``<th scope="col">``, escaped cells.

    ``name``: the saved table this one shows, as ``data-table="<name>"`` on the ``<table>``
    (the briefing puts the table's download links under it).
    """
    shown = format_frame(df)
    numeric = [
        pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns
    ]
    attr = f' data-table="{html.escape(name, quote=True)}"' if name else ""
    parts = [f'<table class="ts-table"{attr}>', f"<caption>{html.escape(str(caption))}</caption>", "<thead><tr>"]
    parts += [f'<th scope="col">{html.escape(c)}</th>' for c in display_headers(df)]
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False):
        cells = []
        for v, num in zip(row, numeric):
            style = ' style="text-align:right"' if num else ""
            cells.append(f"<td{style}>{html.escape(v)}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


class HTMLTable:
    """A table displayed as HTML in notebooks (``_repr_html_``), as text elsewhere."""

    def __init__(self, df: pd.DataFrame, caption: str, name: str | None = None):
        self.df, self.caption, self.name = df, caption, name

    def _repr_html_(self) -> str:
        return to_html(self.df, self.caption, self.name)

    def __repr__(self) -> str:
        shown = format_frame(self.df).set_axis(display_headers(self.df), axis=1)
        return f"{self.caption}\n{shown.to_string(index=False)}"


#: Rows a notebook (and so a briefing) shows of one table; the saved CSV always has them all.
SHOW_MAX_ROWS = 100


def shown_part(df: pd.DataFrame, caption: str, max_rows: int = SHOW_MAX_ROWS) -> tuple[pd.DataFrame, str]:
    """The first ``max_rows`` rows of ``df``, and the caption saying how many were left out.

    A briefing is a page to read, not a data dump: a catalogue of 10^5 items would otherwise put
    every row into the HTML. The full table is in ``output/tables/<name>.csv``.
    """
    if len(df) <= max_rows:
        return df, caption
    note = f" (first {max_rows:,} of {len(df):,} rows; all rows in the table's CSV file)"
    return df.head(max_rows), f"{caption}{note}"


def show(df: pd.DataFrame, caption: str, max_rows: int = SHOW_MAX_ROWS) -> None:
    """Display ``df`` in a notebook as an accessible HTML table with every cell escaped.

    At most ``max_rows`` rows are shown; the caption says how many more the CSV holds. When
    this process saved an equal table (:func:`save_table`), the HTML names it, so the briefing
    links its CSV and Markdown under the table.
    """
    # lazy: IPython.display costs ~0.3 s (python -X importtime, 2 cores under load) in
    # a process that is not a kernel (the runner imports this module to render the briefings).
    from IPython.display import display

    display(HTMLTable(*shown_part(df, caption, max_rows), name=saved_name(df)))


def fingerprint(df: pd.DataFrame) -> str:
    """A digest of a table's columns and values, to recognise a saved table when it is shown."""
    text = df.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: fingerprint -> name of the tables saved in this process (see :func:`show`).
_SAVED: dict[str, str] = {}


def saved_name(df: pd.DataFrame) -> str | None:
    """The name under which this process saved a table equal to ``df``, or ``None``."""
    return _SAVED.get(fingerprint(df)) if _SAVED else None


def save_table(
    df: pd.DataFrame, name: str, *, tables_dir: str | os.PathLike, caption: str,
    source: str | None = None,
) -> dict[str, Path]:
    """Write ``<name>.csv`` and ``<name>.md`` into ``tables_dir`` atomically; return the paths.

    Args:
        df: the table (its index is not written; reset it first if it carries data).
        name: file stem, e.g. ``02_car_2014_ammunition_manufacture``.
        tables_dir: the output folder (``output_dir/tables``).
        caption: one sentence saying what the table shows (first line of the Markdown).
        source: the table's source line (last line of the Markdown; also in the tables' data
            package). ``None``: the data package states a default (see
            ``takingstock.data.packages``).

    The table is recorded for the notebook's summary (``summaries.record_output``), and a
    later :func:`show` of an equal frame marks the shown table with this name, so its
    briefing links the CSV and Markdown.
    """
    if not name or "/" in name or name.startswith("."):
        raise TableError(f"bad table name {name!r}")
    if not str(caption).strip():
        raise TableError(f"table {name!r} needs a caption")
    tables_dir = Path(tables_dir)
    csv_path = tables_dir / f"{name}.csv"
    with atomic.atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8")
    markdown = to_markdown(df, caption)
    if source:
        markdown += f"\n{_md_cell(source)}\n"
    md_path = atomic.write_text(tables_dir / f"{name}.md", markdown)
    _SAVED[fingerprint(df)] = name
    record_output("tables", name, caption=caption, source=source)
    return {"csv": csv_path, "md": md_path}
