"""Notebook 02's sections: where each catalogue's items were made and designed.

Counts are quantities where known, else 1; shares include "unknown" in the total and show it as
its own row (``takingstock.breakdowns``). What one counted unit is differs by catalogue (item
types, cartridges, weapons), so every caption names the unit and shares are compared only
within a catalogue.
"""

from __future__ import annotations

import pandas as pd

from takingstock import breakdowns as bd
from takingstock import figures
from takingstock.figures import Figure
from takingstock.findings import Finding, Table

ROLE_WORDS = {"manufacture": "Country of manufacture", "design": "Country of design"}


def by_country(c: str, rows: pd.DataFrame, role: str, top_n: int) -> Finding:
    """Counts and shares by country of ``role`` (manufacture or design), table and bar chart."""
    unit, what = bd.unit_of(c), ROLE_WORDS[role].lower()
    table = bd.by_country(rows, role)
    top = bd.top_n(table, top_n)
    fig = figures.bar_shares(top, label_col="state", title=f"{c}: share of {unit} by {what}",
                             source=bd.source_line(rows, c), x_title=f"Share of {unit} (%)", y_title=ROLE_WORDS[role])
    alt = (f"Bar chart of the share of {unit} in catalogue {c} by {what}. "
           + "; ".join(f"{r.state} {r.share:.1f}%" for r in top.itertuples()))
    found = Finding(tables=[Table(f"{c}_{role}", table, f"{c}: {unit} by {what} (share of all {unit}, unknown included)")],
                    figures=[Figure(f"{c}_{role}_shares", fig, alt)], source=bd.source_line(rows, c))
    if role == "manufacture":
        known = table[table["state"] != "unknown"]
        lead = (known if len(known) else table).iloc[0]
        name = bd.counted_as(rows, role).get(lead.state, lead.state)
        found.headlines += [(f"{c}: largest country of manufacture", f"{name} ({lead.share:.1f}% of {unit})"),
                            (f"{c}: origin unknown", f"{bd.unknown_share(table, 'state'):.1f}% of {unit}")]
    return found


def distinct_countries(data: dict[str, pd.DataFrame], catalogue: str = "all") -> Finding:
    """Distinct states of manufacture, of design and of either, per catalogue (one table,
    ``distinct_countries``, or ``<catalogue>_distinct_countries`` for a run on one catalogue)."""
    name = "distinct_countries" if catalogue == "all" else f"{catalogue}_distinct_countries"
    rows, heads = [], []
    for c, d in data.items():
        every = bd.distinct_countries_any(d)
        for role, res in (("manufacture", bd.distinct_countries(d, "manufacture")),
                          ("design", bd.distinct_countries(d, "design")), ("design or manufacture", every)):
            rows.append({"catalogue": c, "role": role, "countries": int(res["n"]),
                         "names": "; ".join(res["countries"]), "not counted": "; ".join(res["excluded"])})
        heads.append((f"{c}: distinct countries of design or manufacture", str(every["n"])))
    table = pd.DataFrame(rows, columns=["catalogue", "role", "countries", "names", "not counted"])
    table["countries"] = table["countries"].astype("int64")
    return Finding(tables=[Table(name, table, "Number of distinct countries (unknown and non-state entries not counted)")],
                   headlines=heads)


def by_bloc(c: str, rows: pd.DataFrame) -> Finding:
    """Counts and shares by Cold-War bloc of the country of manufacture."""
    unit = bd.unit_of(c)
    blocs = bd.by_bloc(rows, "manufacture")
    fig = figures.bar_shares(blocs, label_col="bloc", colours=figures.BLOC_COLOURS,
                             title=f"{c}: share of {unit} by Cold-War bloc of manufacture",
                             source=bd.source_line(rows, c), x_title=f"Share of {unit} (%)", y_title="Bloc")
    alt = (f"Bar chart of the share of {unit} in catalogue {c} by Cold-War bloc of the country of manufacture. "
           + "; ".join(f"{r.bloc} {r.share:.1f}%" for r in blocs.itertuples()))
    return Finding(tables=[Table(f"{c}_blocs", blocs, f"{c}: {unit} by Cold-War bloc of the country of manufacture")],
                   figures=[Figure(f"{c}_bloc_shares", fig, alt)], source=bd.source_line(rows, c))


def category_matrix(c: str, rows: pd.DataFrame, top_n: int) -> Finding:
    """Counts by weapon category and country of manufacture: table and heat map."""
    unit = bd.unit_of(c)
    matrix = bd.category_matrix(rows, "manufacture", top_n)
    fig = figures.heatmap(matrix.drop(columns="total"), title=f"{c}: {unit} by category and country of manufacture",
                          source=bd.source_line(rows, c), x_title="Country of manufacture", y_title="Category",
                          colorbar_title=unit.capitalize())
    alt = (f"Heat map of {unit} in catalogue {c}: rows are weapon categories, columns countries of manufacture. "
           f"Largest category: {matrix.index[0]} ({matrix['total'].iloc[0]:,} {unit}).")
    caption = f"{c}: {unit} by category and country of manufacture"
    return Finding(tables=[Table(f"{c}_category_matrix", matrix.reset_index(), caption)],
                   figures=[Figure(f"{c}_category_matrix", fig, alt)], source=bd.source_line(rows, c))


def published_vs_recomputed(c: str, rows: pd.DataFrame) -> Finding:
    """Published shares beside shares recomputed from the counts, and the EU share of 2017."""
    check = bd.published_vs_recomputed(rows)
    if check.empty:
        return Finding(notes=[f"{c}: no published shares to compare"])
    eu = bd.eu_share(rows)
    worst = check["difference_pp"].abs().max()
    return Finding(
        tables=[Table(f"{c}_published_vs_recomputed", check,
                      f"{c}: published shares and shares recomputed from the counts (difference in percentage points)")],
        headlines=[(f"{c}: largest gap between published and recomputed share", f"{worst:.2f} percentage points"),
                   (f"{c}: share made in EU member states (2017)", f"{eu['share']:.1f}%")],
        notes=[f"{c}: EU member states (2017) {eu['count']:,.0f} of {eu['total']:,.0f} = {eu['share']:.1f}% "
               f"({', '.join(eu['members_present'])})"], source=bd.source_line(rows, c))


def summary(data: dict[str, pd.DataFrame]) -> str:
    """The index's sentence for notebook 02."""
    return (f"Counts and shares by country of manufacture and design, bloc and category for "
            f"{', '.join(data)}; unknown origin shown.")
