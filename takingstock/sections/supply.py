"""Notebook 04's sections: who supplied the run's recipients, when, and each item's paper trail.

Every section reads the SIPRI deals through :mod:`takingstock.supply` (the same functions the
claims ledger uses) and names its outputs after the recipients' tag (``04_iraq_bloc_shares``),
never after a fixed country. The sections tied to one history (the Iran-Iraq war, the UN
embargo, the years after the 2003 invasion, the US contracts of 2011-2013) take a window id of
``data/raw/windows.csv``; a window that is not defined for the run's recipient, or an export
that does not hold the deals a section needs, gives a sentence saying why the section is left
out (:meth:`takingstock.runcontext.RunContext.window_for`, :mod:`takingstock.coverage`). TIV is
SIPRI's volume measure, not money; the calculations are ours, not SIPRI's.
"""

from __future__ import annotations

import pandas as pd

from takingstock import figures, sipri, supply
from takingstock.eras import periods_for, periods_note
from takingstock.coverage import Coverage
from takingstock.figures import Figure
from takingstock.findings import Finding, Table, skipped
from takingstock.runcontext import RunContext

YEAR_TITLES = {"order": "Year of order", "delivery": "Year of delivery", "either": "Year of order or delivery"}


class Deals:
    """The run's register, read once, with what the sections share (source line, coverage)."""

    def __init__(self, run: RunContext):
        register = run.register()
        self.run = run
        self.register = register
        self.deals = None if register is None else register.deals
        self.coverage = None if register is None else Coverage.from_register(register)
        self.source = "" if register is None else f"{sipri.SIPRI_SOURCE_LINE} {register.release_label}."
        self.who = ", ".join(run.recipients)
        self.tag = run.tag()
        lacks = self.lacks(run.recipients)
        self.missing = (run.missing_register() if register is None else
                        f"Not checkable: {lacks}. The SIPRI sections are skipped." if lacks else "")

    def lacks(self, names) -> str:
        """Why the export does not hold every deal of ``names`` (``""`` when it does)."""
        if self.coverage is None:
            return "no SIPRI register in this run"
        return self.coverage.lacks_recipients(names) or ""

    def gate(self, window_id: str | None = None):
        """``(window, "")`` when a section can run (the register holds the recipients' deals and
        the window, if any, is defined for them), else ``(None, the sentence saying why not)``."""
        if self.missing:
            return None, self.missing
        if window_id is None:
            return None, ""
        return self.run.window_for(window_id)

    def describe(self, basis: str) -> Finding:
        """What the export holds, and the counting rule."""
        if self.register is None:
            return Finding(notes=[self.missing], headlines=[("SIPRI register", "missing")])
        if self.missing:
            return Finding(notes=[self.coverage.describe(), self.missing],
                           headlines=[("SIPRI register", "does not cover the recipients")])
        return Finding(notes=[self.coverage.describe(), f"Counting rule: {supply.basis_rule(basis)}"])


def imports(d: Deals, basis: str, year_from: int, year_to: int) -> Finding:
    """Imports per year (figure); by decade and period too when the basis is not ``delivery``
    (on the delivery basis those are notebook 03's tables: not written twice)."""
    if (why := d.gate()[1]):
        return skipped(why)
    yearly = supply.imports_by_year(d.deals, d.run.recipients, basis, year_from, year_to)
    fig = figures.time_series(yearly, x="year", y="tiv", title=f"Major arms imports of {d.who} per year ({basis} basis)",
                              source=d.source, x_title=YEAR_TITLES[basis], y_title=supply.TIV_LABEL)
    alt = (f"Bar chart of the SIPRI trend-indicator value (a volume measure, not money) of major arms imported by "
           f"{d.who} each year from {year_from} to {year_to}, {basis} basis: {supply.basis_rule(basis)}.")
    found = Finding(source=d.source, figures=[Figure(f"{d.tag}_imports_by_year", fig, alt)])
    if basis == "delivery":
        found.notes.append("Imports by decade and by historical period, delivery basis: see notebook 03's tables "
                           f"03_sipri_{d.tag}_by_decade and 03_sipri_{d.tag}_by_period.")
        return found
    periods = periods_for(d.run.recipients, d.run.period_table())
    found.notes += [n for n in [periods_note(periods)] if n]
    found.tables += [
        Table(f"{d.tag}_imports_by_period", supply.imports_by_period(d.deals, d.run.recipients, periods, basis),
              f"Imports of {d.who} by period ({basis} basis). TIV is not money."),
        Table(f"{d.tag}_imports_by_decade", supply.imports_by_decade(d.deals, d.run.recipients, basis),
              f"Imports of {d.who} by decade ({basis} basis). TIV is not money.", show=False)]
    return found


def top_suppliers(d: Deals, basis: str, n: int = 3) -> Finding:
    """The ``n`` largest suppliers (by TIV) of each historical period."""
    if (why := d.gate()[1]):
        return skipped(why)
    periods = periods_for(d.run.recipients, d.run.period_table())
    top = supply.top_suppliers_by_period(d.deals, d.run.recipients, periods, basis, n=n)
    return Finding(source=d.source, notes=[n for n in [periods_note(periods)] if n], tables=[Table(f"{d.tag}_top_suppliers_by_period", top,
                                 f"The {n} largest suppliers (by TIV) of {d.who} in each period ({basis} basis).")])


def embargo_gap(d: Deals, window_id: str, year_from: int, year_to: int) -> Finding:
    """What the register records in an embargo window, and the longest run without deliveries."""
    win, why = d.gate(window_id)
    if why:
        return skipped(why)
    gap = supply.embargo_gap(d.deals, d.run.recipients, win.first, win.last, span=(year_from, year_to))
    return Finding(
        notes=[f"{win.label}: deals with a delivery in {win.first}-{win.last}: {gap['deliveries_in_window']}; "
               f"orders placed: {gap['orders_in_window']}.",
               f"Longest run without any delivery: {gap['gap_start']}-{gap['gap_end']} ({gap['gap_years']} years); "
               f"last delivery before it {gap['last_before']}, first after it {gap['first_after']}."],
        headlines=[("Longest run of years without SIPRI-recorded deliveries", f"{gap['gap_start']}-{gap['gap_end']}")])


def bloc_shares(d: Deals, window_id: str, year_from: int, year_to: int) -> Finding:
    """Shares of delivered TIV by supplier bloc before and from the first year of a window."""
    win, why = d.gate(window_id)
    if why:
        return skipped(why)
    split = win.first
    shares = supply.bloc_shares(d.deals, d.run.recipients, split, year_from, year_to)
    colours = {supply.bloc_group(b): figures.BLOC_COLOURS[b] for b in ("Warsaw Pact", "NATO", "China", "other")}
    fig = figures.stacked_bars(shares, x="era", y="share", colour="group", x_order=list(dict.fromkeys(shares["era"])),
                               colours=colours, title=f"Who supplied {d.who}: bloc shares of delivered TIV",
                               source=d.source, x_title="Era of delivery",
                               y_title="Share of delivered TIV (%; TIV is a volume measure, not money)")
    alt = (f"Stacked bars of the share of delivered SIPRI TIV to {d.who} by supplier bloc before {split} and from "
           f"{split} on. " + "; ".join(f"{r.era}, {r.group}: {r.share:.1f}%" for r in shares.itertuples()))
    heads = [(f"{r.group} share of delivered TIV, {r.era}", f"{r.share:.0f}%") for r in shares.itertuples()
             if r.group in (supply.bloc_group("Warsaw Pact"), supply.bloc_group("NATO"))]
    return Finding(source=d.source, tables=[Table(f"{d.tag}_bloc_shares", shares,
                                 f"Share of delivered TIV to {d.who} by supplier bloc, before {split} and from {split} on.")],
                   figures=[Figure(f"{d.tag}_bloc_shares", fig, alt)], headlines=heads)


def window_suppliers(d: Deals, window_id: str, comparison: str) -> Finding:
    """Suppliers of the recipients, of ``comparison`` and of both in a window, under each rule."""
    if not comparison or comparison in d.run.recipients:
        return skipped(d.missing or "No other recipient to compare with is set (parameter comparison), so the "
                       "section is left out.")
    win, why = d.gate(window_id)
    if why:
        return skipped(why)
    if not win.applies_to([comparison]):
        return skipped(f"The window {win.label!r} is not defined for {comparison}; the section is left out.")
    if (lacks := d.lacks([*d.run.recipients, comparison])):
        return skipped(f"Not checkable: {lacks}; the comparison needs the deals of {d.who} and {comparison}.")
    a = d.who
    found = {b: supply.window_suppliers(d.deals, a, comparison, win.first, win.last, basis=b) for b in supply.BASES}
    table = supply.window_table(d.deals, a, comparison, win.first, win.last, found=found)
    notes = [f"[{b}] {w['rule']}\n  {a} ({len(w['a'])}): {', '.join(w['a'])}\n  {comparison} ({len(w['b'])}): "
             f"{', '.join(w['b'])}\n  both ({len(w['both'])}): {', '.join(w['both'])}\n" for b, w in found.items()]
    heads = [(f"States that supplied both {a} and {comparison}, {win.first}-{win.last} (ordered or delivered)",
              str(len(found["either"]["both"]))),
             (f"States that supplied both {a} and {comparison}, {win.first}-{win.last} (delivered in the window; "
              "the claims ledger's rule)", str(len(found["delivery"]["both"])))]
    return Finding(source=d.source, tables=[Table(f"{d.tag}_{window_id}_suppliers", table,
                                 f"States that supplied {a}, {comparison} or both in {win.label}, under each counting "
                                 "rule (order, delivery, either)")], headlines=heads, notes=notes)


def supplier_deals(d: Deals, supplier: str, window_id: str, orders_window_id: str) -> Finding:
    """``supplier``'s deals with the recipients from the first year of a window, and the orders
    of the kinds the report names in another window (tanks, fighters, portable SAMs, SAM systems)."""
    (win, why), (orders, why_orders) = d.gate(window_id), d.gate(orders_window_id)
    if why or why_orders:
        return skipped(why or why_orders)
    deals = supply.us_deals_from(d.deals, d.run.recipients, win.first, supplier)
    named = supply.named_orders(d.deals, d.run.recipients, orders.first, orders.last)
    slug = supplier.lower().replace(" ", "-")
    return Finding(
        source=d.source,
        tables=[Table(f"{d.tag}_{slug}_deals_from_{win.first}", deals,
                      f"{supplier}'s deals with {d.who} ordered in {win.first} or later (SIPRI).", show=False),
                Table(f"{d.tag}_{orders_window_id}_orders", named,
                      f"{d.who}'s {orders.first}-{orders.last} orders of tanks, fighter aircraft, portable SAMs and "
                      "air-defence systems (SIPRI).")],
        headlines=[(f"{supplier} deals with {d.who} ordered from {win.first}", str(len(deals)))],
        notes=[f"{len(deals)} deals of {supplier} with {d.who} ordered from {win.first} on."])


def paper_trail(d: Deals, items: pd.DataFrame, trail_recipients: list[str]) -> Finding:
    """Catalogue items matched to SIPRI deals to ``trail_recipients`` for the same weapon type,
    one line per designation and deal, and the items without a deal by designation and reason
    (rows, units and record ids in each line: :func:`takingstock.supply.paper_trail_summary`)."""
    if d.register is None:
        return skipped(d.missing)
    covered = [r for r in trail_recipients if not d.coverage.lacks_recipient(r)]
    notes = [] if len(covered) == len(trail_recipients) else [
        f"This export covers only {', '.join(covered) or 'none'} of {', '.join(trail_recipients)}: the paper trail "
        "looks for deals to those only."]
    matches, unmatched = supply.paper_trail_summary(items, d.deals, supply.load_aliases(d.run.aliases_file),
                                                    recipients=covered)
    to = ", ".join(covered) or "no recipient"
    found = int(matches.drop_duplicates("item")["rows"].sum())
    total = found + int(unmatched["rows"].sum())
    return Finding(
        source=d.source,
        tables=[Table("paper_trail_matches", matches,
                      f"Catalogue items matched to SIPRI deals to {to} for the same weapon type: one line per "
                      f"designation and deal ({found:,} items)."),
                Table("paper_trail_unmatched", unmatched,
                      f"Catalogue items with no SIPRI deal, and why: one line per designation and reason "
                      f"({total - found:,} items).")],
        headlines=[("Catalogue items with a SIPRI paper trail", f"{found} of {total}")], notes=notes)


def summary(d: Deals) -> str:
    """The index's sentence for notebook 04."""
    if d.register is None:
        return "No SIPRI register was available, so the supply-chain analysis was skipped."
    if d.missing:
        return f"The supply-chain analysis is not checkable: {d.lacks(d.run.recipients)}."
    return f"Major arms imports of {d.who} by era from the SIPRI register ({d.register.release_label})."
