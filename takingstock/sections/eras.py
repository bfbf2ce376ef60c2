"""Notebook 03's sections: when the material was made and designed, and when arms reached the recipient.

Manufacture eras come from a row's years (``takingstock.eras``: the midpoint's decade and
period), design eras from the weapon-types reference (``takingstock.designs``: the year the type
entered service, so the item was made no earlier), deliveries from the SIPRI register
(``takingstock.supply``, TIV spread evenly over the delivery years). Unknown eras are counted
and shown, never dropped. TIV is SIPRI's volume measure, not money; the calculations are ours.
"""

from __future__ import annotations

import pandas as pd

from takingstock import breakdowns as bd
from takingstock import designs, figures, sipri, supply
from takingstock.eras import periods_note
from takingstock.coverage import Coverage
from takingstock.figures import Figure
from takingstock.findings import Finding, Table, skipped
from takingstock.runcontext import RunContext

DESIGN_MEANING = "the year the type entered service; the item was made no earlier"


def manufacture_decades(c: str, rows: pd.DataFrame) -> Finding:
    """Counts by decade of manufacture (midpoint year), the unknown share stated."""
    unit, src = bd.unit_of(c), bd.source_line(rows, c)
    dec = bd.by_decade(rows)
    unknown = bd.unknown_share(dec, "decade")
    fig = figures.time_series(dec, x="decade", y="count", title=f"{c}: {unit} by decade of manufacture ({unknown:.1f}% unknown)",
                              source=src, x_title="Decade of manufacture (midpoint year)", y_title=unit.capitalize())
    alt = (f"Bar chart of {unit} in catalogue {c} by decade of manufacture; {unknown:.1f}% have no known year. "
           + "; ".join(f"{r.decade}: {r.count:,}" for r in dec.itertuples()))
    return Finding(tables=[Table(f"{c}_decades", dec, f"{c}: {unit} by decade of manufacture (midpoint year); "
                                                     f"{unknown:.1f}% of unknown era")],
                   figures=[Figure(f"{c}_decades", fig, alt)], source=src,
                   headlines=[(f"{c}: era of manufacture unknown", f"{unknown:.1f}% of {unit}")])


def manufacture_periods(c: str, rows: pd.DataFrame, periods: pd.DataFrame) -> Finding:
    """Counts by historical period of manufacture."""
    unit, src = bd.unit_of(c), bd.source_line(rows, c)
    per = bd.by_period(rows, periods)
    fig = figures.time_series(per, x="period", y="count", title=f"{c}: {unit} by historical period of manufacture",
                              source=src, x_title="Period of manufacture", y_title=unit.capitalize())
    alt = (f"Bar chart of {unit} in catalogue {c} by historical period of manufacture. "
           + "; ".join(f"{r.period}: {r.count:,}" for r in per.itertuples()))
    return Finding(tables=[Table(f"{c}_periods", per, f"{c}: {unit} by historical period of manufacture (midpoint year)")],
                   figures=[Figure(f"{c}_periods", fig, alt)], source=src, notes=_said(periods_note(periods)))


# --------------------------------------------------------------------------- era of design


def design_catalogues(run: RunContext, processed: pd.DataFrame, fold: bool, year_from: int, year_to: int) -> dict:
    """Every catalogue with the design columns, in the year range (empty ones named and left out)."""
    frame = designs.with_design_columns(processed, run.raw_dir)
    data = bd.catalogues_to_show(frame, "all", fold=fold, year_from=year_from, year_to=year_to, crosswalk=run.crosswalk)
    for c in [c for c, d in data.items() if d.empty]:
        print(f"{c}: nothing left in this year range; not shown below.")
    return {c: d for c, d in data.items() if len(d)}


def design_placed(data: dict[str, pd.DataFrame]) -> Finding:
    """Rows and counted units whose era of design is known, per catalogue."""
    placement = designs.placement_summary(pd.concat(list(data.values()), ignore_index=True))
    heads = [(f"{r.catalogue}: era of design known",
              f"{r.share_count_placed:.1f}% of {bd.unit_of(r.catalogue)} ({r.rows_placed} of {r.rows} rows)")
             for r in placement.itertuples()]
    return Finding(tables=[Table("design_era_placed", placement,
                                 "Rows and counted units whose era of design is known, per catalogue (shares of all "
                                 "rows and units, unplaced included)")], headlines=heads)


def design_eras(c: str, rows: pd.DataFrame, periods: pd.DataFrame) -> Finding:
    """Counts by decade and period of design; figures only where some row is placed."""
    unit, src = bd.unit_of(c), designs.design_source_line(rows, c)
    dec, per = designs.by_design_decade(rows), designs.by_design_period(rows, periods)
    unknown = bd.unknown_share(dec, "decade")
    found = Finding(source=src, tables=[
        Table(f"{c}_design_decades", dec, f"{c}: {unit} by decade of design ({DESIGN_MEANING}); {unknown:.1f}% not placed"),
        Table(f"{c}_design_periods", per, f"{c}: {unit} by historical period of the design year ({DESIGN_MEANING})")])
    if unknown >= 100:
        found.notes.append(f"{c}: no row names a weapon type with a known year, so there is no figure; the reasons "
                           "are listed below.")
        return found
    for table, x, name, x_title in ((dec, "decade", "decades", "Decade of design (year the type entered service)"),
                                    (per, "period", "periods", "Period of the design year")):
        off = bd.unknown_share(table, x)  # a decade spanning two periods has no period
        fig = figures.time_series(table, x=x, y="count", title=f"{c}: {unit} by {x} of design ({off:.1f}% not placed)",
                                  source=src, x_title=x_title, y_title=unit.capitalize())
        alt = (f"Bar chart of {unit} in catalogue {c} by {x} of design, the year the weapon type entered service: "
               f"the items were made no earlier than that, not necessarily then; {off:.1f}% could not be placed. "
               + "; ".join(f"{getattr(r, x)}: {r.count:,}" for r in table.itertuples()))
        found.figures.append(Figure(f"{c}_design_{name}", fig, alt))
    return found


def design_unplaced(c: str, rows: pd.DataFrame) -> Finding:
    """The rows without an era of design, by designation and reason (saved), and by reason alone
    (shown): how many rows and units each explains, and which rows (the first record ids)."""
    lines = designs.unplaced_summary(rows)
    reasons = lines.groupby("reason", sort=False).agg(rows=("rows", "sum"), count=("count", "sum")).reset_index()
    n, units = int(lines["rows"].sum()), int(lines["count"].sum())
    return Finding(tables=[
        Table(f"{c}_design_unplaced", lines, f"{c}: the {n:,} rows ({units:,} {bd.unit_of(c)}) without an era of design, "
                                             "one line per designation and reason, with the rows' record ids"),
        Table(f"{c}_design_unplaced_reasons", reasons,
              f"{c}: {n} of {len(rows)} rows without an era of design, by reason", save=False)])


def design_states(run: RunContext, processed: pd.DataFrame) -> Finding:
    """Rows whose empty state of design came from the reference, and rows that disagree with it."""
    frame = designs.with_design_columns(processed, run.raw_dir)
    filled, disagree = designs.design_state_fills(frame), designs.design_state_disagreements(frame)
    return Finding(tables=[
        Table("design_state_filled", filled, f"{len(filled)} row(s) whose empty state of design is taken from "
                                             "data/raw/weapon_types.csv"),
        Table("design_state_disagreements", disagree,
              f"{len(disagree)} row(s) whose own state of design differs from the reference's (the row's is kept)")])


def weapon_types(run: RunContext) -> Finding:
    """The reference's types with their state and year of design, confidence and sources."""
    types = designs.reference_table(designs.load_weapon_types(run.weapon_types_file))
    return Finding(tables=[Table("weapon_types", types, f"The {len(types)} weapon types of data/raw/weapon_types.csv: "
                                                        "state and year of design, confidence and sources")])


# --------------------------------------------------------------------------- SIPRI deliveries


class Deliveries:
    """The recipients' deliveries in the run's register, or why there are none to show."""

    def __init__(self, run: RunContext):
        register = run.register()
        self.run, self.register, self.who, self.tag = run, register, ", ".join(run.recipients), run.tag()
        self.notes: list[str] = []
        self.missing = ""
        if register is None:
            self.missing = "no SIPRI register was available, so the deliveries part was skipped"
            self.notes.append(run.missing_register())
            return
        cov = Coverage.from_register(register)
        self.notes.append(cov.describe())
        lacks = cov.lacks_recipients(run.recipients)
        if lacks:
            self.missing = f"the deliveries part is not checkable: {lacks}"
            self.notes.append(f"Not checkable: {lacks}.")
            return
        self.deals = register.deals
        self.yearly = supply.imports_by_year(self.deals, list(run.recipients), "delivery", complete=True)
        if self.yearly.empty:
            import difflib

            names = sorted(set(self.deals["recipient"]) | set(self.deals["recipient_state"].dropna()))
            close = [m for r in run.recipients for m in difflib.get_close_matches(r, names, n=3)]
            self.missing = (f"SIPRI records no deliveries to {self.who} in {register.path.name}"
                            + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
            self.notes.append(f"Not shown: {self.missing}.")
            return
        self.notes.append(f"Deliveries to {self.who} in {self.yearly['year'].min()}-{self.yearly['year'].max()}.")

    def describe(self) -> Finding:
        return Finding(notes=self.notes)


def _bands(yearly: pd.DataFrame, periods: pd.DataFrame, band_periods: list[str]) -> list[tuple]:
    """Shaded spans for ``band_periods``: a bar is centred on its year (1980 spans 1979.5-1980.5) and a
    year belongs to the period holding its middle, so a period [start_c, end_c) covers the bars from
    start_c - 0.5 to end_c - 0.5; periods outside the years shown get no band."""
    first, last = yearly["year"].min() - 0.5, yearly["year"].max() + 0.5
    bands = [(max(float(p.start_c) - 0.5, first), min(float(p.end_c) - 0.5, last), p.label)
             for p in periods.itertuples() if p.period_id in band_periods]
    return [b for b in bands if b[0] < b[1]]


def _embargo(d: Deliveries, window_id: str) -> tuple[str, list[tuple[str, str]]]:
    """The embargo sentence and headline, where the window applies to the recipients."""
    win, _ = d.run.window_for(window_id)
    if win is None:
        return "", []
    inside = d.yearly[d.yearly["year"].between(win.first, win.last)]
    tiv, n = float(inside["tiv"].sum()), int(inside["deals"].sum())
    sentence = (f" No deliveries recorded during the {win.first}-{win.last} embargo." if n == 0 else
                f" {tiv:,.0f} million TIV delivered during the {win.first}-{win.last} embargo.")
    return sentence, [(f"SIPRI: TIV delivered to {d.who} in the embargo years {win.first}-{win.last}", f"{tiv:,.0f} million TIV")]


def by_year(d: Deliveries, periods: pd.DataFrame, band_periods: list[str], embargo_window: str) -> Finding:
    """Deliveries per year (table; TIV and items figures with the period bands)."""
    if d.missing:
        return skipped(f"Not shown: {d.missing}.")
    src, bands = sipri.SIPRI_SOURCE_LINE, _bands(d.yearly, periods, band_periods)
    sentence, heads = _embargo(d, embargo_window)
    peak = d.yearly.loc[d.yearly["tiv"].idxmax()]
    tiv = figures.time_series(d.yearly, x="year", y="tiv", title=f"Arms delivered to {d.who} per year (SIPRI TIV)",
                              source=src, x_title="Year of delivery", y_title=supply.TIV_LABEL, bands=bands)
    items = figures.time_series(d.yearly, x="year", y="items", title=f"Weapons delivered to {d.who} per year (SIPRI, number of items)",
                                source=src, x_title="Year of delivery", y_title="Items delivered (major conventional weapons)", bands=bands)
    span = f"{d.yearly['year'].min()}-{d.yearly['year'].max()}"
    return Finding(
        source=src,
        tables=[Table(f"sipri_{d.tag}_by_year", d.yearly, f"Arms delivered to {d.who} per year: deals, items, and TIV "
                                                          "(millions; a volume measure, not money)", show=False)],
        figures=[Figure(f"sipri_{d.tag}_by_year_tiv", tiv, f"Bar chart of arms delivered to {d.who} per year in SIPRI "
                        f"trend-indicator values (a volume measure, not money), {span}. Peak in {int(peak.year)}.{sentence}"),
                 Figure(f"sipri_{d.tag}_by_year_items", items, f"Bar chart of the number of major conventional weapons "
                        f"delivered to {d.who} per year, according to SIPRI.")],
        headlines=[(f"SIPRI: peak year of deliveries to {d.who}", f"{int(peak.year)} ({peak.tiv:,.0f} million TIV)"), *heads])


def by_decade(d: Deliveries) -> Finding:
    """Deliveries by decade, with each decade's share of all TIV delivered."""
    if d.missing:
        return skipped(f"Not shown: {d.missing}.")
    dec = supply.with_tiv_share(supply.imports_by_decade(d.deals, list(d.run.recipients), "delivery"))
    top = dec.loc[dec["tiv"].idxmax()]
    fig = figures.time_series(dec, x="decade", y="tiv", title=f"Arms delivered to {d.who} by decade (SIPRI TIV)",
                              source=sipri.SIPRI_SOURCE_LINE, x_title="Decade of delivery", y_title=supply.TIV_LABEL)
    return Finding(
        source=sipri.SIPRI_SOURCE_LINE,
        tables=[Table(f"sipri_{d.tag}_by_decade", dec, f"Arms delivered to {d.who} by decade: items and TIV (millions; "
                                                        "a volume measure, not money)")],
        figures=[Figure(f"sipri_{d.tag}_by_decade", fig, f"Bar chart of SIPRI TIV delivered to {d.who} by decade; the "
                        f"{top.decade} hold {top.tiv_share:.1f}% of the total.")],
        headlines=[(f"SIPRI: decade with most deliveries to {d.who}", f"{top.decade} ({top.tiv_share:.1f}% of TIV)")])


def by_period(d: Deliveries, periods: pd.DataFrame) -> Finding:
    """Deliveries by historical period (with yearly rates), and by period and supplier (figure)."""
    if d.missing:
        return skipped(f"Not shown: {d.missing}.")
    per = supply.imports_by_period(d.deals, list(d.run.recipients), periods, "delivery", rates=True)
    sup = supply.supplier_tiv_by_period(d.deals, list(d.run.recipients), periods, "delivery", n=6)
    fig = figures.stacked_bars(sup, x="period", y="tiv", colour="supplier", x_order=list(periods["label"]),
                               title=f"Arms delivered to {d.who} by period and supplier (SIPRI TIV)",
                               source=sipri.SIPRI_SOURCE_LINE, x_title="Period of delivery", y_title=supply.TIV_LABEL)
    alt = (f"Stacked bar chart of SIPRI TIV delivered to {d.who} in each historical period, by supplier. "
           + "; ".join(f"{r.period}: {r.tiv:,.0f} million TIV" for r in per.itertuples()))
    return Finding(source=sipri.SIPRI_SOURCE_LINE, tables=[Table(f"sipri_{d.tag}_by_period", per, f"Arms delivered to {d.who} by historical period: "
                                                                   "items and TIV (millions; a volume measure, not money)")],
                   figures=[Figure(f"sipri_{d.tag}_by_period_supplier", fig, alt)], notes=_said(periods_note(periods)))


def _said(note: str) -> list[str]:
    return [note] if note else []


def summary(d: Deliveries) -> str:
    """The index's sentence for notebook 03."""
    return ("Items by decade and period of manufacture, unknown era stated; by era of design (the year each type "
            "entered service: made no earlier than that)"
            + (f"; SIPRI deliveries to {d.who} by year, decade and period (TIV, not money)." if not d.missing
               else f"; {d.missing}."))
