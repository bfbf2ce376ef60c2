"""What a SIPRI export covers, so that no finding is computed from part of the data it needs.

Method
------
A SIPRI trade-register export is whatever SIPRI's web form was asked for: the whole register
("from All countries to All countries"), the deals to one recipient ("from All countries to
Iraq"), the deals of one supplier, a year range. A copy may also have lost its preamble. A
number computed from such a file is only true when the file holds every deal the question
needs: Iraq's share of the world's imports needs every recipient; "states that supplied both
Iraq and Iran" needs both; a count of Iraq's suppliers needs every supplier of Iraq.

:class:`Coverage` states what one export holds, from two kinds of evidence:

* **declared** - the preamble's first line (``takingstock.data.sipri_format.declared_scope``) names the suppliers and recipients the export was
  made for and the delivery-year range it was limited to ('Not specified' = no limit), and the
  ``Data generated:`` line gives the release. A file whose content matches a release listed in
  ``data/raw/sipri_releases.csv`` is *recognised* as that release (and takes its declared scope)
  even when its preamble is missing.
* **shown** - without a declaration, coverage is what the rows show: the recipients present.
  Each recipient present is taken to be whole (the reader refuses cut and damaged files, see
  :mod:`takingstock.data.sipri`), but such a file is never taken to hold *every* recipient: nothing
  says the recipients absent from it had no deals.

Years: a release published in year *Y* holds SIPRI's data up to the end of year *Y - 1*
(SIPRI publishes each spring). A window that ends after that, or lies outside a declared
year range, is not covered. Without a release date the last year any row shows is used.

Each ``lacks_*`` method answers one need and returns ``None`` when the export covers it, or
the reason in words ("this export holds deals to Iraq and Kurdistan Regional Government
(Iraq)* only; a share of the world needs every recipient's deals"), which the claims ledger
and the notebooks publish as *not checkable* (notebooks 03 and 04 through
:func:`takingstock.analysis.sipri_deals.recipient_deals`).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from takingstock.data.sipri_format import declared_scope

__all__ = ["Coverage", "ALL"]

#: SIPRI's word for "no filter" in the preamble.
ALL = "All countries"

def _names(declared: str | None) -> set[str]:
    """The names a declared scope lists (``Iraq, Iran`` -> {Iraq, Iran}); empty for ALL/None."""
    if not declared or declared == ALL:
        return set()
    return {n.strip() for n in re.split(r",|;| and ", declared) if n.strip()}


def _span(values: pd.Series) -> tuple[int, int] | None:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return (int(v.min()), int(v.max())) if len(v) else None


def _list(names: list[str], limit: int = 4) -> str:
    if len(names) <= limit:
        return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)
    return f"{len(names)} recipients ({', '.join(names[:limit])}, ...)"


def _distinct_text(column: pd.Series) -> set[str]:
    """The distinct values of ``column`` as text (``str()`` of each distinct value, once)."""
    return set(pd.Series(column.unique()).astype(str))


@dataclass(frozen=True)
class Coverage:
    """What one SIPRI export holds (see the module docstring).

    Attributes:
        source: the file name.
        release_date: SIPRI's release (``Data generated:``), from the preamble or recognition.
        declared_from, declared_to: the suppliers / recipients the preamble (or the recognised
            release) declares; ``None`` when nothing is declared.
        declared_years: the delivery-year range declared; ``None`` = no limit or not declared.
        recognised: the release table's label when the file's content matched a known release
            and the file did not declare itself (no preamble): its scope and date come from there.
        recipients: SIPRI recipient names present, sorted.
        recipient_states: crosswalk states of those recipients.
        suppliers: SIPRI supplier names present, sorted.
        n_deals: deals in the file.
        order_years, delivery_years: the first and last year the rows show.
    """

    source: str
    release_date: _dt.date | None
    declared_from: str | None
    declared_to: str | None
    declared_years: tuple[int, int] | None
    recognised: str | None
    recipients: tuple[str, ...]
    recipient_states: frozenset[str]
    suppliers: tuple[str, ...]
    n_deals: int
    order_years: tuple[int, int] | None
    delivery_years: tuple[int, int] | None

    # ------------------------------------------------------------------ building

    @classmethod
    def from_parts(cls, deals: pd.DataFrame, *, source: str = "", preamble: list[str] | None = None,
                   release_date: _dt.date | None = None, known: Any = None) -> "Coverage":
        """Coverage of ``deals`` with what the file declared.

        Args:
            deals: one row per deal (``takingstock.data.sipri`` columns; ``recipient``,
                ``supplier`` and ``recipient_state`` at least).
            source: the file name, for messages.
            preamble: the lines before the header (``[]`` or ``None`` = no preamble).
            release_date: the preamble's release date.
            known: a recognised release (an object with ``release_date``, ``scope_from``,
                ``scope_to``), whose declaration fills what the preamble lacks.
        """
        sup, rec, years = declared_scope(preamble or [])
        recognised = None
        if known is not None and (release_date is None or rec is None):
            recognised = f"SIPRI release of {known.release_date.isoformat()}"
            release_date = release_date or known.release_date
            sup, rec = sup or known.scope_from, rec or known.scope_to
        delivery = deals["delivery_years"].explode() if "delivery_years" in deals else pd.Series(dtype=float)
        states = deals["recipient_state"] if "recipient_state" in deals else deals["recipient"]
        return cls(
            source=source, release_date=release_date, declared_from=sup, declared_to=rec,
            declared_years=years, recognised=recognised,
            recipients=tuple(sorted(_distinct_text(deals["recipient"]))),
            recipient_states=frozenset(_distinct_text(states)),
            suppliers=tuple(sorted(_distinct_text(deals["supplier"]))),
            n_deals=len(deals),
            order_years=_span(deals["order_year"]) if "order_year" in deals else None,
            delivery_years=_span(delivery),
        )

    @classmethod
    def from_register(cls, register: Any) -> "Coverage":
        """Coverage of a :class:`takingstock.data.sipri.Register`."""
        return cls.from_parts(register.deals, source=register.path.name, preamble=register.preamble,
                              release_date=register.release_date, known=register.known_release)

    @classmethod
    def whole(cls, deals: pd.DataFrame, release_date: _dt.date | None = None, source: str = "") -> "Coverage":
        """Coverage of a file declared to hold the whole register (every supplier and recipient)."""
        return cls.from_parts(deals, source=source, release_date=release_date,
                              preamble=[f"Transfers of major conventional arms from {ALL} to {ALL} . "
                                        "Deals with deliveries made for the year range "
                                        "'Not specified' to 'Not specified'"])

    # ------------------------------------------------------------------ facts

    @property
    def all_recipients(self) -> bool:
        """True when the export declares (or is recognised) to hold every recipient."""
        return self.declared_to == ALL

    @property
    def all_suppliers(self) -> bool:
        """True unless the export declares a supplier filter."""
        return self.declared_from in (None, ALL)

    @property
    def last_year(self) -> int | None:
        """The last year whose data the export can hold (release year - 1, else the rows' last)."""
        if self.release_date is not None:
            return self.release_date.year - 1
        years = [y[1] for y in (self.order_years, self.delivery_years) if y]
        return max(years) if years else None

    def _holds(self) -> str:
        if self.declared_to and not self.all_recipients:
            return f"deals to {self.declared_to} only"
        return f"deals to {_list(list(self.recipients))} only"

    def describe(self) -> str:
        """One sentence for briefings and the ledger: what the file is and what it holds."""
        release = (f"SIPRI release of {self.release_date.isoformat()}" if self.release_date
                   else "release date not stated")
        how = " (recognised by its content)" if self.recognised else ""
        if self.all_recipients and self.all_suppliers:
            scope = "the whole register: every supplier and every recipient"
        elif self.declared_to or self.declared_from:
            scope = (f"deals from {self.declared_from or ALL} to {self.declared_to or ALL}")
        else:
            scope = (f"no preamble; the rows hold {self._holds().removesuffix(' only')}, "
                     "and nothing says they hold every recipient")
        years = (f"deliveries {self.declared_years[0]}-{self.declared_years[1]}" if self.declared_years
                 else "no year limit")
        span = ""
        if self.order_years:
            span = f"; orders {self.order_years[0]}-{self.order_years[1]}"
        if self.delivery_years:
            span += f", deliveries {self.delivery_years[0]}-{self.delivery_years[1]}"
        return (f"{self.source}: {release}{how}; {scope}; {years}{span}; {self.n_deals:,} deals, "
                f"{len(self.recipients):,} recipients, {len(self.suppliers):,} suppliers.")

    # ------------------------------------------------------------------ needs

    def lacks_recipient(self, name: str) -> str | None:
        """Why the export cannot answer for ``name``'s imports (``None`` when it can).

        ``name`` is a SIPRI recipient name or a crosswalk state.
        """
        if not self.all_suppliers:
            return (f"this export holds deals from {self.declared_from} only; {name}'s imports "
                    "need the deals of every supplier")
        if self.all_recipients:
            return None
        if name in _names(self.declared_to) or name in self.recipients or name in self.recipient_states:
            return None
        return f"this export holds {self._holds()}; {name} is not in it"

    def lacks_recipients(self, names) -> str | None:
        """The first reason :meth:`lacks_recipient` gives for any of ``names`` (``None``: all covered)."""
        return next(filter(None, map(self.lacks_recipient, names)), None)

    def lacks_world(self) -> str | None:
        """Why the export cannot give world totals (every recipient), or ``None``."""
        if self.all_recipients and self.all_suppliers:
            return None
        if self.declared_to or self.declared_from:
            return (f"this export holds deals from {self.declared_from or ALL} to "
                    f"{self.declared_to or ALL} only; a world total needs every recipient's deals")
        return (f"this export has no preamble and is not a release we recognise; its rows hold "
                f"{self._holds()}, and a world total needs every recipient's deals")

    def lacks_years(self, first: int, last: int) -> str | None:
        """Why the export cannot speak for the years ``first..last``, or ``None``."""
        if self.declared_years is not None:
            d0, d1 = self.declared_years
            if first < d0 or last > d1:
                return (f"this export was limited to deliveries in {d0}-{d1}; the claim needs "
                        f"{first}-{last}")
        end = self.last_year
        if end is not None and last > end:
            why = (f"the {self.release_date.isoformat()} release holds data up to {end}"
                   if self.release_date else f"the latest year in this export is {end}")
            return f"{why}; the claim needs {first}-{last}"
        return None
