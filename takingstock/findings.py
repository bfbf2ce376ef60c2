"""Findings declared once: what a notebook publishes, and how it is saved, shown and summarised.

Method
------
A notebook publishes three kinds of finding: a **table**, a **figure**
(:class:`takingstock.figures.Figure`, which saves and shows itself, so this module and the
notebooks without figures do not depend on the figure code) and a **headline** (a label and a
value for the briefings index). Each is declared once, with its caption or alt
text typed once, as a :class:`Finding` built by a *section* function of :mod:`takingstock.sections`
(one per heading of a notebook). A :class:`Briefing`, made once per notebook from the run
context, then does everything that follows from the declaration:

* saves each table as CSV and Markdown (``takingstock.tables.save_table``) and each figure as
  HTML, JSON and, where the run draws them in the notebook, SVG and PNG
  (``takingstock.figures.save_figure``), under names told apart by the run's recipient tag and
  grid variant;
* shows each in the notebook, so the executed notebook, and the briefing rendered from it, show
  exactly what was saved;
* collects the headlines and writes the summary the index reads
  (``takingstock.summaries.write_summary``), under the run's briefing stem;
* prints the sentences a section gives instead of a result (a window the recipient lacks, an
  export that does not cover what the section needs): a section left out always says why.

A notebook cell therefore reads ``brief.show(sections.origin.manufacture(c, d, top_n))``: the
heading above it says what the finding is, the cell shows it, and nothing is saved twice or
captioned twice.

The publishing contract's names (``docs/CONTRACTS.md``; the notebook computes each finding in
visible pandas and hands it over) are thin methods over the same machinery:
``brief.lead(*sentences)`` (the page's opening paragraph, also the index's summary),
``brief.table(frame, name, caption)`` and ``brief.figure(fig, name, alt)`` (save and show, return
what they were given), ``brief.headline(label, value)`` (returns the value), ``brief.note(text)``
(a sentence on the page) and ``brief.close(parameters)``. A note is displayed as an escaped
HTML paragraph marked ``{"takingstock": {"finding": "note"}}`` in the output's metadata; the
lead is not displayed in the notebook: it is the summary the page template already shows as
the page's opening paragraph (and the index under the briefing's title).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from takingstock.runcontext import RunContext

__all__ = ["Table", "Finding", "Briefing", "skipped", "each"]


@dataclass(frozen=True)
class Table:
    """A table to save and show: ``name`` (file stem without the notebook prefix), the frame, the
    caption; ``show=False`` saves without showing, ``save=False`` shows without saving."""

    name: str
    frame: pd.DataFrame
    caption: str
    show: bool = True
    save: bool = True
    source: str | None = None


@dataclass
class Finding:
    """What one section shows: tables, figures, headlines, and sentences printed before them."""

    tables: list[Table] = field(default_factory=list)
    figures: list = field(default_factory=list)  # takingstock.figures.Figure (not imported here)
    headlines: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: str | None = None  # the source line of every table that gives none


def skipped(reason: str) -> Finding:
    """A section left out: only the sentence saying why."""
    return Finding(notes=[reason])


class Briefing:
    """One notebook's publication (see the module docstring); whole after ``__init__``.

    Args:
        run: the run context (output folders, static figures, variant).
        notebook: the notebook's stem (``04_supply_chains``); its number prefixes every name.
        title: the briefing's title for the index.
    """

    def __init__(self, run: RunContext, notebook: str, title: str):
        self.run = run
        self.notebook = notebook
        self.prefix = notebook.split("_", 1)[0]
        self.title = title
        self.headlines: list[dict[str, str]] = []
        self.saved: dict[str, list[str]] = {"tables": [], "figures": []}
        self.lead_text = ""

    def name(self, part: str) -> str:
        """The file stem of a table or figure: ``04_iraq_bloc_shares``."""
        return f"{self.prefix}_{part}"

    def show(self, *found: Finding) -> None:
        """Save, show and collect every finding, in order."""
        from takingstock import tables

        for finding in found:
            for note in finding.notes:
                print(note)
            for t in finding.tables:
                if t.save:
                    tables.save_table(t.frame, self.name(t.name), tables_dir=self.run.tables_dir, caption=t.caption,
                                      source=t.source or finding.source)
                    self.saved["tables"].append(self.name(t.name))
                if t.show:
                    tables.show(t.frame, t.caption)
            for f in finding.figures:  # each knows how to save and show itself (takingstock.figures)
                f.publish(self.name(f.name), self.run.figures_dir, self.run.static_figures)
                self.saved["figures"].append(self.name(f.name))
            self.headlines += [{"label": label, "value": str(value)} for label, value in finding.headlines]

    # ------------------------------------------------------------------ the contract's names

    def _paragraph(self, kind: str, text: str) -> None:
        """Display ``text`` as an escaped HTML paragraph marked as a ``kind`` finding."""
        import html

        from IPython.display import display

        display({"text/html": f'<p class="ts-{kind}">{html.escape(text)}</p>', "text/plain": text},
                raw=True, metadata={"takingstock": {"finding": kind}})

    def lead(self, *sentences: str) -> None:
        """The page's opening paragraph: kept as the summary :meth:`close` writes, which the page
        template shows under the title and the index under the briefing's link (not displayed
        here, or the page would show it twice)."""
        self.lead_text = " ".join(s.strip() for s in sentences if s and s.strip())

    def note(self, text: str) -> None:
        """A sentence shown on the page (a section left out and why, a caveat)."""
        self._paragraph("note", text)

    def table(self, frame: pd.DataFrame, name: str, caption: str, *, source: str | None = None,
              show: bool = True) -> pd.DataFrame:
        """Save ``frame`` as ``<prefix>_<name>`` (CSV and Markdown) and show it; return it."""
        self.show(Finding(tables=[Table(name, frame, caption, show=show, source=source)]))
        return frame

    def figure(self, fig, name: str, alt: str):
        """Save and show a plotly figure as ``<prefix>_<name>`` with its alt text; return it.

        The figure code is imported by name: a notebook that builds a figure imports
        :mod:`takingstock.figures` itself (so the runner's cache sees it), and the notebooks
        without figures keep not depending on it (see the module docstring).
        """
        import importlib

        declared = importlib.import_module("takingstock.figures").Figure(name, fig, alt)
        self.show(Finding(figures=[declared]))
        return fig

    def headline(self, label: str, value):
        """A tile for the briefings index; returns ``value``."""
        self.headlines.append({"label": label, "value": str(value)})
        return value

    def close(self, summary: str | Mapping[str, Any] | None = None,
              parameters: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Write the summary the index reads; return the headlines as a table (shown last).

        ``close(parameters)`` (the contract's form) takes the summary from :meth:`lead`;
        ``close(summary, parameters)`` gives it explicitly.
        """
        from takingstock.summaries import write_summary

        if summary is None or isinstance(summary, Mapping):
            summary, parameters = self.lead_text, summary if parameters is None else parameters
        write_summary(self.run.summaries_dir, self.run.stem(self.notebook), title=self.title, summary=summary,
                      headlines=self.headlines, parameters=dict(parameters or {}))
        return pd.DataFrame(self.headlines, columns=["label", "value"])


def each(catalogues: Mapping[str, pd.DataFrame], section, *args) -> list[Finding]:
    """``section(c, rows, *args)`` for every catalogue, in order."""
    return [section(c, d, *args) for c, d in catalogues.items()]
