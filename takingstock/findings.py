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

    def close(self, summary: str, parameters: Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Write the summary the index reads; return the headlines as a table (shown last)."""
        from takingstock.summaries import write_summary

        write_summary(self.run.summaries_dir, self.run.stem(self.notebook), title=self.title, summary=summary,
                      headlines=self.headlines, parameters=dict(parameters or {}))
        return pd.DataFrame(self.headlines, columns=["label", "value"])


def each(catalogues: Mapping[str, pd.DataFrame], section, *args) -> list[Finding]:
    """``section(c, rows, *args)`` for every catalogue, in order."""
    return [section(c, d, *args) for c, d in catalogues.items()]
