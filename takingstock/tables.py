"""Tables: written to disk as CSV and Markdown, shown in notebooks as accessible HTML.

Method
------
``save_table(df, name, tables_dir=..., caption=..., source=...)`` writes ``<name>.csv`` (the
numbers as computed, for reuse) and ``<name>.md`` (the caption, then a pipe table with
formatted numbers, then the source line, for reading), each atomically through
``takingstock.atomic``, and records the table for the notebook's summary (the briefings' downloads
and the tables' data package come from that record). ``show(df, caption)`` displays the same
formatted table in a notebook as HTML with a ``<caption>`` and ``<th scope="col">``; when the
process saved an equal frame (same columns and values, compared by a digest of its CSV text),
the ``<table>`` carries ``data-table="<name>"`` so the briefing links its files.

Number formatting (``format_frame``): a column is a *share* when its name is ``share`` or
starts or ends with ``share`` (``share_published``, ``unknown_share``...); shares are
percentages (0-100) and print with one decimal and a ``%`` sign (``28.4%``). Integer columns
print with thousands separators (``1,730``), except year columns (``year``, ``*_year``,
``year_*``: ``order_year``, ``year_from``...), which print as plain integers (``1952``).
Missing values print as an empty cell in Markdown and as an en dash in HTML. The CSV keeps full precision.

Caveats
-------
Every header, cell and the caption are text from data as far as we are concerned: in HTML
they are escaped with ``html.escape``; in Markdown (``md_text``) ``&``, ``<`` and ``>`` become
entities, every character Markdown gives a meaning (``\\ ` * _ [ ] ( ) { } # ! | ~ $ ^ : =``,
and ``-``, ``+`` at the start of a cell) is backslash-escaped and line breaks become
spaces, so a designation such as ``<script>``, ``A|B``, ``[click](javascript:alert(1))`` or ``**bold**`` shows as written and
cannot break the table, make a link, emphasis or HTML. The price: the ``.md`` source reads
``28.4%`` as is but ``amnesty\\_2015`` and ``Type 56 \\(AK-47\\)`` with backslashes. A GitHub
renderer may still turn a bare ``https://`` address into a link showing that same address.
"""

from __future__ import annotations

import hashlib
import html
import os
from pathlib import Path

import pandas as pd

from takingstock import atomic
from takingstock.summaries import record_output


class TableError(ValueError):
    """A table cannot be written (bad name, empty caption)."""


def is_share_column(name: object) -> bool:
    """True for columns holding percentage shares (``share``, ``share_*``, ``*_share``).

    The project's convention: every share column holds a percentage (0-100), never a fraction.
    """
    n = str(name).lower()
    return n == "share" or n.startswith("share_") or n.endswith("_share") or n.endswith("share_pct")


def format_share(value: object) -> str:
    """Format a percentage share with one decimal: ``28.43`` -> ``"28.4%"`` ("" if missing)."""
    if value is None or pd.isna(value):
        return ""
    return f"{float(value):.1f}%"


def format_count(value: object) -> str:
    """Format a count with thousands separators: ``1730`` -> ``"1,730"`` ("" if missing)."""
    if value is None or pd.isna(value):
        return ""
    f = float(value)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.2f}"


def is_year_column(name: object) -> bool:
    """True for columns holding calendar years (``year``, ``*_year``, ``year_*``)."""
    n = str(name).lower()
    return n == "year" or n.endswith("_year") or n.startswith("year_")


def format_year(value: object) -> str:
    """Format a year without separators: ``1952`` -> ``"1952"`` ("" if missing)."""
    if value is None or pd.isna(value):
        return ""
    f = float(value)
    return str(int(f)) if f.is_integer() else str(value)


def format_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with every cell as display text (shares, counts formatted)."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if is_share_column(col) and pd.api.types.is_numeric_dtype(s):
            out[col] = [format_share(v) for v in s]
        elif pd.api.types.is_bool_dtype(s):
            out[col] = ["" if pd.isna(v) else ("yes" if v else "no") for v in s]
        elif is_year_column(col) and pd.api.types.is_numeric_dtype(s):
            out[col] = [format_year(v) for v in s]
        elif pd.api.types.is_integer_dtype(s):
            out[col] = [format_count(v) for v in s]
        elif pd.api.types.is_float_dtype(s):
            out[col] = ["" if pd.isna(v) else (format_count(v) if float(v).is_integer() else f"{v:,.2f}") for v in s]
        else:
            out[col] = ["" if (v is None or (not isinstance(v, (list, tuple)) and pd.isna(v))) else str(v) for v in s]
    return out


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
    header = [_md_cell(c) for c in shown.columns]
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
    parts += [f'<th scope="col">{html.escape(str(c))}</th>' for c in shown.columns]
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False):
        cells = []
        for v, num in zip(row, numeric):
            style = ' style="text-align:right"' if num else ""
            cells.append(f"<td{style}>{html.escape(v) if v != '' else '&ndash;'}</td>")
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
        return f"{self.caption}\n{format_frame(self.df).to_string(index=False)}"


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
            ``takingstock.packages``).

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
