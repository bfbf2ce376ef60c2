"""The notebooks' publishing API: what a notebook declares as a finding is saved, shown and returned.

Method
------
A notebook computes each finding in a visible cell, in pandas, on the tidy frames the package
hands over, and then *declares* it through one :class:`Briefing` made once per notebook from
the run context::

    brief = Briefing(run, "04_supply_chains", title=f"Supply chains: {who}")
    suppliers = brief.table(frame, "suppliers", "Suppliers of Iraq, 2014-2016")  # saved, shown, returned
    fig = brief.figure(charts.time_series(...), "imports_by_year", alt="Bar chart of ...")
    peak = brief.headline("Peak year of deliveries", "1984")
    brief.note("The window 'UN embargo' is defined for Iraq only; the section is left out.")
    brief.lead("Sentence one.", "Sentence two.", "Sentence three.")  # the page's opening paragraph
    brief.close({"recipients": recipients})                              # the summary the index reads

Each call gives back what it was given, so the result stays a notebook variable a reader can
look at, filter and reuse. The caption or alt text is typed in the cell, where a reader of the
notebook sees it.

* **Names.** A table or figure ``name`` becomes the file stem ``<prefix>_<name>`` (``04`` for
  notebook ``04_supply_chains``); notebooks put the recipient's tag (:meth:`RunContext.tag`) in
  the names of what is computed for a recipient, and in one run of a grid whose value is not
  the recipient (``--grid supply.basis=order,delivery``) ``__<variant>`` is appended, so no two
  runs overwrite each other's files.
* **Saving.** Tables go through :func:`takingstock.report.tables.save_table` (CSV and Markdown),
  figures through :func:`takingstock.report.figures.save_figure` (HTML and JSON; SVG and PNG only when
  the run asks for static figures: a notebook run by hand does not, and the pipeline's figures
  step draws them in one browser session).
* **The marker.** Every output a Briefing displays carries ``{"takingstock": {"finding":
  kind}}`` in its output metadata (:data:`MARKER`; kinds in :data:`KINDS`). The briefing
  renderer (:mod:`takingstock.publish.pages`) keeps only marked outputs and the Markdown cells:
  stdout, stderr, warnings, tracebacks, cell return values and kernel logs never reach a page.
* **The lead and the headlines** are written into the summary by :meth:`Briefing.close`; the
  page shows the lead at its top and the index shows every page's lead and headlines. A
  notebook must call :meth:`Briefing.lead` before :meth:`Briefing.close`: every page opens
  with its key findings in words.

Caveats: text from data (designations, names) shown through :meth:`Briefing.note` and
:meth:`Briefing.lead` is HTML-escaped; tables and figures are escaped by their own modules.
"""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence, TypeVar

import pandas as pd

from takingstock.core.summaries import write_summary
from takingstock.data.runcontext import GRID_STEM_SEP, RunContext
from takingstock.report import figures, labels, tables

__all__ = ["Briefing", "MARKER", "KINDS", "LeadMissingError", "finding_kind", "compact_html"]

#: The key of the output metadata every declared finding carries.
MARKER = "takingstock"
#: The kinds of declared output.
KINDS = ("table", "figure", "lead", "note", "headline")

T = TypeVar("T")


class LeadMissingError(ValueError):
    """A notebook closed its briefing without a lead."""


def finding_kind(output: Mapping) -> str | None:
    """The kind of a notebook output declared through a :class:`Briefing`, or ``None``."""
    meta = output.get("metadata") or {}
    mark = meta.get(MARKER) if isinstance(meta, Mapping) else None
    kind = mark.get("finding") if isinstance(mark, Mapping) else None
    return kind if kind in KINDS else None


def compact_html(frame: pd.DataFrame, columns: Sequence[str], caption: str, name: str | None = None) -> str:
    """A table a reader can scan: ``columns`` only, each row's other columns one click away.

    On screen the last cell of each row holds a ``<details>`` listing the row's other columns
    (empty ones left out); on paper (``@media print`` in the briefing's CSS) that cell is hidden
    and a block per row below the table lists the same, so the PDF edition has it all without a
    wide table cut at the page edge. Every header and cell is HTML-escaped; numbers are
    formatted as in every table (:func:`takingstock.report.tables.format_frame`).
    """
    esc = html.escape
    text = tables.format_frame(frame)
    word = {c: labels.header(c) for c in text.columns}  # headers and detail labels in words
    keep = [c for c in columns if c in text.columns]
    rest = [c for c in text.columns if c not in keep]
    attr = f' data-table="{esc(name, quote=True)}"' if name else ""
    head = "".join(f'<th scope="col">{esc(word[c])}</th>' for c in keep)
    out = [f'<table class="ts-table ts-compact"{attr}><caption>{esc(caption)}</caption>',
           f'<thead><tr>{head}<th scope="col" class="ts-detail-cell">Detail</th></tr></thead><tbody>']
    blocks = []
    for i in range(len(text)):
        row = text.iloc[i]
        facts = "".join(f"<dt>{esc(word[c])}</dt><dd>{esc(str(row[c]))}</dd>" for c in rest if str(row[c]) != "")
        cells = "".join(f"<td>{esc(str(row[c])) or '&ndash;'}</td>" for c in keep)
        label = esc(str(row[keep[0]])) if keep else str(i + 1)
        out.append(f'<tr>{cells}<td class="ts-detail-cell"><details><summary>More</summary><dl>{facts}</dl>'
                   "</details></td></tr>")
        blocks.append(f'<div class="ts-detail-block"><p><strong>{label}</strong></p><dl>{facts}</dl></div>')
    out.append("</tbody></table>")
    if rest:
        out.append(f'<div class="ts-print-detail" aria-hidden="true"><p><strong>{esc(caption)}: the detail of each '
                   f"row</strong></p>{''.join(blocks)}</div>")
    return "".join(out)


def _display(bundle: dict, kind: str, **extra: Any) -> None:
    """Display a raw mime bundle with the finding marker in its output metadata."""
    # lazy: IPython.display costs ~0.3 s (python -X importtime, 2 cores under load) in
    # a process that is not a kernel (the runner imports this module to render the briefings).
    from IPython.display import display

    display(bundle, raw=True, metadata={MARKER: {"finding": kind, **extra}})


class Briefing:
    """One notebook's publication (see the module docstring); whole after ``__init__``.

    Args:
        run: the run context (output folders, static figures, recipient, variant).
        notebook: the notebook's stem (``04_supply_chains``); its number prefixes every name.
        title: the page's title (name the recipient in it where the page is about one).
    """

    def __init__(self, run: RunContext, notebook: str, title: str):
        if not str(title).strip():
            raise ValueError(f"Briefing({notebook}): the title is empty")
        self.run = run
        self.notebook = notebook
        self.prefix = notebook.split("_", 1)[0]
        self.title = str(title).strip()
        self.headlines: list[dict[str, str]] = []
        self.sentences: list[str] = []
        self.saved: dict[str, list[str]] = {"tables": [], "figures": []}

    # ------------------------------------------------------------------ names

    def name(self, part: str) -> str:
        """The file stem of a table or figure: ``04_iraq_bloc_shares`` (``__<variant>`` appended in
        a grid run whose variant is not the recipient's tag)."""
        stem = f"{self.prefix}_{part}"
        variant = self.run.variant
        return f"{stem}{GRID_STEM_SEP}{variant}" if variant and variant != self.run.tag() else stem

    # ------------------------------------------------------------------ findings

    def table(self, frame: pd.DataFrame, name: str, caption: str, *, source: str | None = None,
              show: bool = True, save: bool = True, view: pd.DataFrame | None = None,
              compact: Sequence[str] | None = None) -> pd.DataFrame:
        """Save ``frame`` as ``<name>.csv``/``.md`` (unless ``save=False``), show it formatted
        (unless ``show=False``) and return it unchanged.

        ``view``: what the page shows in place of ``frame`` (the same rows for a reader: ids
        replaced by titles, fewer columns), linked to the saved files all the same. Without
        one, a ``catalogue`` column shows each catalogue's title, not its id (the files keep
        the id).
        ``compact``: the columns a reader scans; every other column of a row is one click away
        (:func:`compact_html`: a ``<details>`` per row on screen, a block per row on paper).
        """
        stem = self.name(name)
        if save:
            tables.save_table(frame, stem, tables_dir=self.run.tables_dir, caption=caption, source=source)
            self.saved["tables"].append(stem)
        if show:
            if view is None and "catalogue" in frame.columns:
                titles = {c: self.run.catalogue_title(c, short=True) for c in frame["catalogue"].astype(str).unique()}
                view = frame.assign(catalogue=frame["catalogue"].astype(str).map(titles))
            part, said = tables.shown_part(frame if view is None else view, caption)
            shown = tables.HTMLTable(part, said, name=stem if save else None)
            markup = shown._repr_html_() if not compact else compact_html(part, compact, said, stem if save else None)
            _display({"text/html": markup, "text/plain": repr(shown)}, "table", name=name)
        return frame

    def figure(self, fig, name: str, alt: str):
        """Save ``fig`` (HTML and JSON; SVG and PNG when the run draws static figures), show it
        with its alt text and return it."""
        stem = self.name(name)
        figures.save_figure(fig, stem, alt=alt, figures_dir=self.run.figures_dir, static=self.run.static_figures)
        self.saved["figures"].append(stem)
        _display({"application/vnd.plotly.v1+json": fig.to_plotly_json(), "text/html": figures.figure_html(fig, alt),
                  "text/plain": f"[figure] {alt}"}, "figure", name=name)
        return fig

    def headline(self, label: str, value: T) -> T:
        """Record a tile for the index (``label``: ``value``) and return ``value``."""
        self.headlines.append({"label": str(label), "value": str(value)})
        _display({"text/plain": f"{label}: {value}"}, "headline")
        return value

    def note(self, text: str) -> None:
        """A sentence shown on the page (a section left out and why, a count, a caveat)."""
        for paragraph in str(text).strip().split("\n\n"):
            _display({"text/html": f'<p class="ts-note">{html.escape(paragraph)}</p>', "text/plain": paragraph},
                     "note")

    def lead(self, *sentences: str) -> None:
        """The page's opening paragraph: three to five sentences of its key findings, computed
        from the data, with the main caveat (shown at the top of the page and in the index)."""
        said = [" ".join(str(s).split()) for s in sentences if str(s).strip()]
        if not said:
            raise LeadMissingError(f"{self.notebook}: a lead needs at least one sentence")
        self.sentences = said
        text = " ".join(said)
        _display({"text/html": f'<p class="ts-lead">{html.escape(text)}</p>', "text/plain": text}, "lead")

    def close(self, parameters: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Write the summary the index reads (title, lead, headlines, parameters, what was saved);
        return the headlines as a table."""
        if not self.sentences:
            raise LeadMissingError(f"{self.notebook}: call brief.lead(...) before brief.close()")
        write_summary(self.run.summaries_dir, self.run.stem(self.notebook), title=self.title,
                      summary=self.sentences[0], lead=self.sentences, headlines=self.headlines,
                      parameters=dict(parameters or {}))
        return pd.DataFrame(self.headlines, columns=["label", "value"])
