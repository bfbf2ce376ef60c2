"""The run's recipients' deals in its primary SIPRI export, or the sentence saying why there are none.

What notebooks 03 and 04 share before any SIPRI section: :func:`recipient_deals` reads the run's
primary export (through the run context, so through the parsed-register cache), states what it
covers (:class:`takingstock.data.coverage.Coverage`) and keeps the deals to the run's recipients
(:func:`takingstock.analysis.supply.select_recipients`). A section runs only when the export holds
every deal it needs; otherwise :class:`RecipientDeals` carries the reason in words, which the
notebook publishes instead of the section:

* no export at hand: the run context's message saying how to get one;
* an export that does not hold every deal of the recipients (a subset for another country, a
  supplier filter): *Not checkable*, with the coverage's reason;
* a covering export with no deal to them: SIPRI records none, with the closest names the export
  knows (``did you mean 'Iraq'?``), since a misspelt recipient is the likelier cause;
* a section whose window (``data/raw/windows.csv``) is not defined for the recipients, or a
  comparison recipient the export does not cover (:meth:`RecipientDeals.gate`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import pandas as pd

from takingstock.analysis.supply import select_recipients
from takingstock.data.coverage import Coverage
from takingstock.data.sipri_terms import SIPRI_SOURCE_LINE

__all__ = ["RecipientDeals", "recipient_deals"]


@dataclass
class RecipientDeals:
    """The run's recipients' deals in its primary export, or the sentence saying why there are none.

    Attributes:
        register: the primary export, read (``None`` when none is at hand).
        coverage: what it holds (``None`` without an export).
        deals: one row per deal to the recipients (``takingstock.data.sipri`` columns); empty when
            :attr:`why` is set.
        everyone: every deal of the export (the comparison recipient's too).
        who: the recipients as text (``Iraq``, ``Iraq, Syria``).
        source: the source line of every table and figure made from the export.
        why: ``""`` when the export holds every deal of the recipients, else why a SIPRI
            section is left out (no export; the export does not hold the recipients; no deal).
    """

    run: Any
    register: Any
    coverage: Coverage | None
    deals: pd.DataFrame
    everyone: pd.DataFrame
    who: str
    source: str
    why: str

    def describe(self) -> str:
        """What the export is and holds, in one sentence (or why there is none)."""
        return self.why if self.coverage is None else self.coverage.describe()

    def lacks(self, names) -> str:
        """Why the export does not hold every deal of ``names`` (``""`` when it does)."""
        if self.coverage is None:
            return self.why
        return self.coverage.lacks_recipients(names) or ""

    def gate(self, window_id: str, comparison: str | None = None):
        """``(window, "")`` when a section can run (the deals are there and the window is defined
        for the recipients), else ``(None, the sentence saying why not)``.

        With ``comparison`` (a recipient compared with the run's), the window must apply to it
        too and the export must hold its deals.
        """
        if self.why:
            return None, self.why
        if comparison is not None and (not comparison or comparison in self.run.recipients):
            return None, ("No other recipient to compare with is set (parameter comparison), so the section "
                          "is left out.")
        win, why = self.run.window_for(window_id)
        if win is None or comparison is None:
            return win, why
        if not win.applies_to([comparison]):
            return None, f"The window {win.label!r} is not defined for {comparison}; the section is left out."
        if (lacks := self.lacks([*self.run.recipients, comparison])):
            return None, f"Not checkable: {lacks}; the comparison needs the deals of {self.who} and {comparison}."
        return win, ""


def recipient_deals(run: Any) -> RecipientDeals:
    """The run's recipients' deals in its primary export (:class:`RecipientDeals`), gated.

    A recipient with no deal at all in a covering export gets the closest names the export
    knows (``did you mean 'Iraq'?``).
    """
    who = ", ".join(run.recipients)
    register = run.register()
    empty = pd.DataFrame()
    if register is None:
        return RecipientDeals(run, None, None, empty, empty, who, "", run.missing_register())
    cov = Coverage.from_register(register)
    source = f"{SIPRI_SOURCE_LINE} {register.release_label}."
    everyone = register.deals
    if (lacks := cov.lacks_recipients(run.recipients)):
        return RecipientDeals(run, register, cov, empty, everyone, who, source,
                              f"Not checkable: {lacks}. The sections on SIPRI's deals are left out.")
    deals = select_recipients(everyone, run.recipients)
    why = ""
    if deals.empty:
        names = sorted(set(everyone["recipient"]) | set(everyone["recipient_state"].dropna()))
        close = [m for r in run.recipients for m in difflib.get_close_matches(r, names, n=3)]
        why = (f"SIPRI records no deals to {who} in this export"
               + (f" (did you mean {', '.join(map(repr, close))}?)" if close else "") + ".")
    return RecipientDeals(run, register, cov, deals, everyone, who, source, why)
