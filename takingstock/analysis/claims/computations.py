"""The computations a claim may name: each a small function that says what data it needs.

Every computation is registered with :func:`computation`, which records

* ``params`` - the claim params it reads (checked when ``claims.yml`` is loaded), and
* ``needs`` - the data it needs, checked once by :func:`missing_data` *before* it runs:

  ``catalogue``  the processed catalogue holds the claim's ``catalogue``;
  ``register``   a SIPRI export is at hand;
  ``recipient``  the export holds every deal to the claim's ``recipient`` (all suppliers);
  ``other``      the same for the claim's ``other`` recipient;
  ``world``      the export holds every recipient (a world total or rank);
  ``years``      the export's years cover the claim's windows (``years``, ``baseline``, ``span``);
  ``weapon_types`` the weapon-types reference (``data/raw/weapon_types.csv``) is at hand.

Where a need is not met the claim is *not checkable* with the coverage's reason ("this export
holds deals to Iraq only; a world total needs every recipient's deals"): no number is ever
computed from part of the data a claim needs.

A computation returns :class:`Computed`: the value, a detail sentence, and ``parts``, the
named pieces the value is made of (suppliers counted, TIV per supplier, orders and their
units). The ledger compares parts between releases to say which pieces moved a value.

Register computations use :mod:`takingstock.analysis.supply` (the functions notebook 04 uses) and
catalogue ones :mod:`takingstock.analysis.breakdowns` (notebook 02's), so the ledger and the notebooks
cannot disagree. TIV is SIPRI's volume measure, not money; the calculations are ours, not
SIPRI's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from takingstock.analysis import breakdowns, designs, supply
from takingstock.data.countries import is_state_code
from takingstock.data.sipri_terms import NO_REGISTER

from .context import ClaimContext

__all__ = ["Computed", "Spec", "COMPUTATIONS", "NEEDS", "DATA_MEASURES", "computation", "missing_data"]

#: The data needs a computation may declare (see the module docstring).
NEEDS = ("catalogue", "register", "recipient", "other", "world", "years", "weapon_types")

#: What each kind of data counts, on the dimensions of ``spec.MEASURE_TERMS``: a claim that
#: counts something else (``measures`` in ``claims.yml``) is judged by ``verdicts.judge``
#: as a lower bound (the data counts part of it) or as not comparable (another quantity).
DATA_MEASURES = {
    "register": {"arms": "major conventional weapons", "suppliers": "states", "value": "TIV"},
}


@dataclass(frozen=True)
class Computed:
    """A computation's answer: a value, or ``missing`` saying why none could be computed."""

    value: float | None
    detail: str = ""
    missing: str = ""
    parts: dict[str, float] = field(default_factory=dict)
    lower_bound: str = ""
    """Why the value is only a lower bound of what the claim counts in the same terms (a
    partial catalogue, rows that name no country); empty when the data is whole."""


@dataclass(frozen=True)
class Spec:
    """A registered computation: the function, the params it reads, the data it needs."""

    func: Callable[[ClaimContext, dict], Computed]
    params: tuple
    needs: tuple[str, ...]
    readings: tuple[str, ...] = ()

    def __call__(self, ctx: ClaimContext, params: dict) -> Computed:
        return self.func(ctx, params)

    def data_measures(self) -> dict[str, str]:
        """What the data this computation reads counts (:data:`DATA_MEASURES`)."""
        return {k: v for need in self.needs for k, v in DATA_MEASURES.get(need, {}).items()}


COMPUTATIONS: dict[str, Spec] = {}
"""Every computation a claim may name, by function name (filled by :func:`computation`)."""


def computation(*params: str | tuple[str, ...], needs: tuple[str, ...] = (),
                readings: tuple[str, ...] = ()) -> Callable:
    """Register a computation with the params it reads, the data it needs and the alternative
    readings it can compute (:mod:`.readings`: ``window``, ``basis``, ``tiv``, ``parties``)."""
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown needs {sorted(unknown)}; known: {NEEDS}")

    def register(func: Callable[[ClaimContext, dict], Computed]) -> Callable:
        COMPUTATIONS[func.__name__] = Spec(func, tuple(params), tuple(needs), tuple(readings))
        return func
    return register


def missing_data(spec: Spec, ctx: ClaimContext, params: dict) -> str:
    """Why ``ctx`` lacks data ``spec`` needs for ``params`` (``""`` when it has it all)."""
    for need in spec.needs:
        if need == "catalogue":
            if ctx.catalogue is None:
                return "no processed catalogue in this run (run step 01 first)"
            if ctx.catalogue_part(params["catalogue"]) is None:
                return f"catalogue {params['catalogue']!r} is not in the processed catalogue"
        elif need == "weapon_types":
            if ctx.weapon_types is None:
                return "no weapon-types reference in this run"
        elif ctx.deals is None or ctx.coverage is None:
            return NO_REGISTER
        elif need in ("recipient", "other"):
            if (why := ctx.coverage.lacks_recipient(params[need])):
                return why
        elif need == "world":
            if (why := ctx.coverage.lacks_world()):
                return why
        elif need == "years":
            for key in ("years", "baseline", "span"):
                if key in params and (why := ctx.coverage.lacks_years(*params[key])):
                    return why
    return ""


def _window(params: dict, key: str = "years") -> tuple[int, int]:
    first, last = params[key]
    return int(first), int(last)


#: The columns the computations read of :func:`_delivered`'s rows (besides ``tiv``): only these
#: are copied when a window is cut from the deal-years of the whole register.
_DELIVERED_COLUMNS = ["supplier_state", "supplier_kind", "supplier_bloc", "recipient_state", "recipient_kind"]


def _kept(frame: pd.DataFrame, tiv: str) -> list[str]:
    return [c for c in _DELIVERED_COLUMNS if c in frame] + [tiv]


def _delivered(ctx: ClaimContext, params: dict, key: str = "years", everyone: bool = False) -> pd.DataFrame:
    """TIV delivered to the claim's recipient (or every recipient) in ``params[key]``, in a
    ``tiv`` column.

    ``tiv: spread`` (the default): deal-years, each deal's TIV spread evenly over its delivery
    years, the years in the window counted. ``tiv: whole``: each deal with a delivery year in
    the window, its whole TIV delivered counted. ``parties: states`` keeps state recipients only.
    The rows keep only ``tiv`` and the columns the computations read (:data:`_DELIVERED_COLUMNS`).
    """
    first, last = _window(params, key)
    if params.get("tiv", "spread") == "whole":
        deals = ctx.deals if everyone else ctx.deals_to(params["recipient"])
        out = deals.loc[supply.in_window(deals, "delivery", first, last), _kept(deals, "tiv_delivered")]
        out = out.assign(tiv=out.pop("tiv_delivered").astype("float64").fillna(0.0))
    else:
        years = ctx.deal_years
        rec = years if everyone else ctx.deals_to(params["recipient"], years=True)
        out = rec.loc[rec["year"].between(first, last), _kept(rec, "tiv")]
    if params.get("parties") == "states":
        out = out[out["recipient_kind"] == "state"]
    return out


def tiv_rule(params: dict) -> str:
    """How TIV is counted under ``params`` (for the detail)."""
    return ("each deal's whole TIV, for deals with a delivery year in the window"
            if params.get("tiv", "spread") == "whole" else "each deal's TIV spread evenly over its delivery years")


def _tiv_by(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in frame.groupby(column)["tiv"].sum().items()}


# --------------------------------------------------------------------------- register: who supplied


@computation("recipient", "years", needs=("register", "recipient", "years"),
             readings=("window", "basis", "parties"))
def count_suppliers(ctx: ClaimContext, params: dict) -> Computed:
    """Number of states supplying ``recipient`` in the window (``supply.suppliers_in_window``,
    notebook 04's rule; ``basis`` delivery by default); the detail states the rule.
    ``parties: all`` counts the non-state suppliers and organisations the register names too
    (rebel groups, the UN), never its unknown suppliers."""
    first, last = _window(params)
    basis = params.get("basis", "delivery")
    states = supply.suppliers_in_window(ctx.deals_to(params["recipient"]), params["recipient"], first, last, basis)
    detail = f"{supply.window_rule(basis, first, last)} {', '.join(states)}"
    if params.get("parties") == "all":
        sel = ctx.deals_to(params["recipient"])
        sel = sel[supply.in_window(sel, basis, first, last) & ~sel["supplier_kind"].isin(["state", "unknown"])]
        others = sorted(set(sel["supplier"].astype(str)))
        states = sorted(set(states) | set(others))
        detail += f"; non-state suppliers counted too: {', '.join(others) or 'none'}"
    return Computed(float(len(states)), detail=detail, parts={s: 1.0 for s in states})


@computation("recipient", "years", "group", needs=("register", "recipient", "years"), readings=("window", "basis"))
def count_group_suppliers(ctx: ClaimContext, params: dict) -> Computed:
    """How many members of the country ``group`` (``data/raw/country_groups.csv``) supplied
    ``recipient`` in the window (``supply.suppliers_in_window``'s rule). A member with several
    codes counts once (the Soviet Union or Russia for Russia among the permanent members)."""
    first, last = _window(params)
    basis = params.get("basis", "delivery")
    sel = ctx.deals_to(params["recipient"])
    sel = sel[supply.in_window(sel, basis, first, last) & (sel["supplier_kind"] == "state")]
    members = params["group_members"]
    hit = sorted({members[i] for i in sel["supplier_iso"].dropna().astype(str) if i in members})
    missing = sorted(set(members.values()) - set(hit))
    return Computed(float(len(hit)),
                    detail=(f"{supply.window_rule(basis, first, last)} Members found: {', '.join(hit) or 'none'}"
                            + (f"; not found: {', '.join(missing)}" if missing else "")),
                    parts={s: 1.0 for s in hit})


@computation("recipient", "other", "years", needs=("register", "recipient", "other", "years"),
             readings=("window", "basis"))
def count_common_suppliers(ctx: ClaimContext, params: dict) -> Computed:
    """Number of states that supplied both ``recipient`` and ``other`` in the same window
    (``supply.window_suppliers``); the detail states the rule in words."""
    first, last = _window(params)
    both = ctx.deals_to([params["recipient"], params["other"]])   # selected once for every reading
    w = supply.window_suppliers(both, params["recipient"], params["other"], first, last,
                                basis=params.get("basis", "delivery"))
    return Computed(float(len(w["both"])), detail=f"{w['rule']} Both sides: {', '.join(w['both'])}",
                    parts={s: 1.0 for s in w["both"]})


@computation("recipient", "years", "supplier", needs=("register", "recipient", "years"), readings=("window", "tiv"))
def supplier_rank(ctx: ClaimContext, params: dict) -> Computed:
    """Rank (1 = largest) of ``supplier`` among the states supplying ``recipient`` in the
    window, by TIV delivered (spread over delivery years, or ``tiv: whole``); 0 deliveries = not ranked."""
    first, last = _window(params)
    w = _delivered(ctx, params)
    by = w[w["supplier_kind"] == "state"].groupby("supplier_state")["tiv"].sum().sort_values(ascending=False)
    if params["supplier"] not in by.index or by[params["supplier"]] <= 0:
        return Computed(None, missing=f"no TIV delivered by {params['supplier']} to {params['recipient']} "
                                      f"in {first}-{last}")
    rank = int(list(by.index).index(params["supplier"])) + 1
    share = 100 * by[params["supplier"]] / by.sum()
    top = ", ".join(f"{s} {v:,.0f}" for s, v in by.head(3).items())
    return Computed(float(rank), detail=f"{params['supplier']}: {share:.1f}% of the TIV delivered to "
                                        f"{params['recipient']} in {first}-{last}; largest: {top} TIV",
                    parts={str(k): float(v) for k, v in by.head(5).items()})


# --------------------------------------------------------------------------- register: how much


@computation("recipient", "years", needs=("register", "recipient", "world", "years"),
             readings=("window", "tiv", "parties"))
def recipient_world_share(ctx: ClaimContext, params: dict) -> Computed:
    """``recipient``'s share (percent) of the TIV delivered to all recipients in the window."""
    first, last = _window(params)
    world = float(_delivered(ctx, params, everyone=True)["tiv"].sum())
    mine = float(_delivered(ctx, params)["tiv"].sum())
    if world <= 0:
        return Computed(None, missing=f"no TIV delivered in {first}-{last} in the register")
    return Computed(100 * mine / world,
                    detail=f"{params['recipient']} {mine:,.0f} of {world:,.0f} TIV delivered {first}-{last}",
                    parts={params["recipient"]: mine, "all recipients": world})


@computation("recipient", "years", needs=("register", "recipient", "world", "years"),
             readings=("window", "tiv", "parties"))
def recipient_rank(ctx: ClaimContext, params: dict) -> Computed:
    """Rank (1 = largest) of ``recipient`` among all recipients by TIV delivered in the window."""
    first, last = _window(params)
    by = (_delivered(ctx, params, everyone=True).groupby("recipient_state")["tiv"].sum()
          .sort_values(ascending=False))
    sel = ctx.deals_to(params["recipient"])
    state = sel["recipient_state"].iloc[0] if len(sel) else params["recipient"]
    if state not in by.index or by[state] <= 0:
        return Computed(None, missing=f"no TIV delivered to {params['recipient']} in {first}-{last}")
    rank = int(list(by.index).index(state)) + 1
    top = ", ".join(f"{s} {v:,.0f}" for s, v in by.head(3).items())
    return Computed(float(rank), detail=f"largest importers {first}-{last}: {top} TIV",
                    parts={str(k): float(v) for k, v in by.head(5).items()})


@computation("recipient", "years", needs=("register", "recipient", "years"), readings=("window", "tiv"))
def recipient_tiv_total(ctx: ClaimContext, params: dict) -> Computed:
    """Total TIV delivered to ``recipient`` in the window (TIV millions, not money)."""
    w = _delivered(ctx, params)
    unit = "deals" if params.get("tiv") == "whole" else "deal-years"
    return Computed(float(w["tiv"].sum()), detail=f"{len(w)} {unit}; {tiv_rule(params)}",
                    parts=_tiv_by(w, "supplier_state"))


@computation("recipient", "years", ("suppliers", "bloc"), needs=("register", "recipient", "years"),
             readings=("window", "tiv"))
def supplier_tiv_share(ctx: ClaimContext, params: dict) -> Computed:
    """Share (percent) of ``recipient``'s TIV in the window from ``suppliers`` or a ``bloc``."""
    first, last = _window(params)
    w = _delivered(ctx, params)
    total = float(w["tiv"].sum())
    if total <= 0:
        return Computed(None, missing=f"no TIV delivered to {params['recipient']} in {first}-{last}")
    if "bloc" in params:
        mask, who = w["supplier_bloc"] == params["bloc"], params["bloc"]
    else:
        mask, who = w["supplier_state"].isin(params["suppliers"]), " + ".join(params["suppliers"])
    part = float(w.loc[mask, "tiv"].sum())
    return Computed(100 * part / total, detail=f"{who}: {part:,.0f} of {total:,.0f} TIV, {first}-{last}",
                    parts={**_tiv_by(w[mask], "supplier_state"), "all suppliers": total})


@computation("recipient", "years", "baseline", needs=("register", "recipient", "years"), readings=("window", "tiv"))
def period_tiv_share(ctx: ClaimContext, params: dict) -> Computed:
    """Mean annual TIV to ``recipient`` in ``years`` as a percent of its mean in ``baseline``."""
    (f1, l1), (f0, l0) = _window(params), _window(params, "baseline")
    now = float(_delivered(ctx, params)["tiv"].sum()) / (l1 - f1 + 1)
    base = float(_delivered(ctx, params, "baseline")["tiv"].sum()) / (l0 - f0 + 1)
    if base <= 0:
        return Computed(None, missing=f"no TIV delivered to {params['recipient']} in {f0}-{l0}")
    return Computed(100 * now / base,
                    detail=f"mean a year: {now:,.0f} TIV in {f1}-{l1} vs {base:,.0f} TIV in {f0}-{l0}",
                    parts={f"{f1}-{l1} a year": now, f"{f0}-{l0} a year": base})


@computation("recipient", "supplier", "designation", "category", "years",
             needs=("register", "recipient", "years"), readings=("window",))
def units_ordered(ctx: ClaimContext, params: dict) -> Computed:
    """Units of a weapon ``supplier`` ordered for ``recipient`` in the window.

    The weapon is named by ``designation``, a regex searched in SIPRI's designation (write
    word boundaries, e.g. ``\\bHawk\\b``, so "Skyhawk" does not count), and ``category``, one
    of SIPRI's weapon categories (``takingstock.data.sipri_weapons``' stable mapping of every release's
    descriptions), so a "UH-60M Black Hawk" helicopter is not counted as a Hawk missile and a
    release that rewords "portable SAM" still counts its Stingers. ``category`` may be a list.
    A deal of the weapon whose description the mapping lacks makes the claim not checkable.
    The detail names any order of the same weapon outside the window.
    """
    first, last = _window(params)
    cats = params["category"] if isinstance(params["category"], list) else [params["category"]]
    d = ctx.deals_to(params["recipient"])
    d = d.loc[d["supplier_state"] == params["supplier"],  # the columns read below, the supplier's deals
              ["designation", "category", "description", "source_line", "order_year", "number_ordered"]]
    d = d[d["designation"].astype(str).str.contains(params["designation"], case=False, regex=True)]
    unmapped = d[d["category"] == "unmapped"]
    if len(unmapped):
        return Computed(None, missing=f"the weapon-category mapping lacks SIPRI's description "
                                      f"{unmapped['description'].iloc[0]!r} (line {unmapped['source_line'].iloc[0]})")
    d = d[d["category"].isin(cats)]
    inside = d[d["order_year"].between(first, last).fillna(False).astype(bool)]
    outside = d.drop(inside.index)

    def n_of(r) -> str:
        return str(int(r.number_ordered)) if pd.notna(r.number_ordered) else "?"

    parts = {f"{r.designation} ordered {r.order_year} (line {r.source_line})": float(r.number_ordered or 0)
             for r in inside.itertuples()}
    detail = "in window: " + ("; ".join(f"{n_of(r)} {r.designation} ordered {r.order_year}"
                                        for r in inside.itertuples()) or "none")
    if len(outside):
        detail += f". Same weapon outside {first}-{last}: " + "; ".join(
            f"{n_of(r)} ordered {r.order_year}" for r in outside.sort_values("order_year").itertuples())
    else:
        detail += f". No other {params['supplier']} order of this weapon for {params['recipient']} in the register"
    return Computed(float(inside["number_ordered"].fillna(0).sum()), detail=detail, parts=parts)


# --------------------------------------------------------------------------- catalogue


@computation("catalogue", needs=("catalogue",))
def catalogue_total(ctx: ClaimContext, params: dict) -> Computed:
    """Sum of ``count`` over one catalogue (items, cartridges or weapons documented)."""
    rows = ctx.catalogue_part(params["catalogue"])
    return Computed(float(rows["count"].sum()), detail=f"{len(rows)} rows",
                    parts={str(k): float(v) for k, v in rows.groupby("manufacture_state", dropna=False)["count"].sum().items()})


@computation("catalogue", ("isos", "group"), needs=("catalogue",))
def catalogue_share(ctx: ClaimContext, params: dict) -> Computed:
    """Share (percent) of a catalogue's ``count`` made in the states ``isos`` or the country
    ``group`` (manufacture ISO). With ``require_all: true`` a state that has no row at all
    makes the claim not checkable (its count was not recovered) instead of counting it as 0.
    """
    rows = ctx.catalogue_part(params["catalogue"])
    isos = list(params["group_members"]) if "group_members" in params else list(params["isos"])
    present = set(rows["manufacture_iso"].dropna())
    absent = [i for i in isos if i not in present]
    if params.get("require_all") and absent:
        return Computed(None, missing=f"no row for {', '.join(absent)} in {params['catalogue']}")
    total = float(rows["count"].sum())
    if total <= 0:
        return Computed(None, missing=f"catalogue {params['catalogue']!r} has no counted items")
    mine = rows.loc[rows["manufacture_iso"].isin(isos)]
    part = float(mine["count"].sum())
    names = ", ".join(sorted(mine["manufacture_state"].dropna().astype(str).unique()))
    return Computed(100 * part / total, detail=f"{part:,.0f} of {total:,.0f} ({names})",
                    parts={str(k): float(v) for k, v in mine.groupby("manufacture_state")["count"].sum().items()})


def partial_catalogue(params: dict) -> str:
    """Why the claim's catalogue holds only part of what its source counted (declared under
    ``partial_catalogues`` in ``claims.yml``), or ``""``."""
    why = params.get("catalogue_partial", "")
    return f"the catalogue {params['catalogue']} is partial: {why}" if why else ""


def unattributed(rows: pd.DataFrame, role: str) -> str:
    """The rows that name no state of ``role`` (``any``: neither of design nor of manufacture),
    in words, or ``""``: a count of states over such rows is only a lower bound."""
    cols = ["design_iso", "manufacture_iso"] if role == "any" else [f"{role}_iso"]
    named = pd.concat([is_state_code(rows[c]).set_axis(rows.index) for c in cols], axis=1).any(axis=1)
    left = rows[~named]
    if left.empty:
        return ""
    return (f"{len(left)} row(s) of {rows['catalogue'].iloc[0]} ({left['count'].sum():,.0f} items) "
            f"name no state of {'design or manufacture' if role == 'any' else role}")


def origin_states(rows: pd.DataFrame) -> set[str]:
    """ISO codes of the states named as design or manufacture origin (no 'unknown', no X-codes)."""
    codes = pd.concat([rows["design_iso"], rows["manufacture_iso"]], ignore_index=True).astype("string")
    return set(codes[is_state_code(codes).to_numpy()].dropna())


@computation("catalogue", needs=("catalogue",))
def count_origin_states(ctx: ClaimContext, params: dict) -> Computed:
    """Number of distinct states a catalogue names as country of design or manufacture
    (``role: any``, the default) or of ``role: manufacture`` / ``design`` only, counted by
    ``breakdowns.distinct_countries_any`` / ``distinct_countries`` (notebook 02's functions)."""
    rows = ctx.catalogue_part(params["catalogue"])
    role = params.get("role", "any")
    found = (breakdowns.distinct_countries_any(rows) if role == "any"
             else breakdowns.distinct_countries(rows, role))
    bound = "; ".join(w for w in (partial_catalogue(params), unattributed(rows, role)) if w)
    return Computed(float(found["n"]), detail=", ".join(found["countries"]),
                    parts={c: 1.0 for c in found["countries"]}, lower_bound=bound)


@computation("catalogue", "groups", needs=("catalogue",))
def count_listed_origins(ctx: ClaimContext, params: dict) -> Computed:
    """How many of the groups in ``groups`` (each a list of ISO codes) a catalogue names."""
    rows = ctx.catalogue_part(params["catalogue"])
    found = origin_states(rows)
    hit = ["/".join(g) for g in params["groups"] if found & set(g)]
    return Computed(float(len(hit)), detail="found: " + ", ".join(hit), parts={h: 1.0 for h in hit},
                    lower_bound=partial_catalogue(params))


@computation("catalogue", needs=("catalogue",))
def count_designations(ctx: ClaimContext, params: dict) -> Computed:
    """Number of distinct item designations (case-folded) in a catalogue."""
    rows = ctx.catalogue_part(params["catalogue"])
    names = rows["designation"].dropna().astype(str).str.strip().str.casefold()
    return Computed(float(names.nunique()), detail=f"{len(rows)} rows", lower_bound=partial_catalogue(params))


@computation("catalogue", needs=("catalogue",))
def earliest_year(ctx: ClaimContext, params: dict) -> Computed:
    """The earliest ``year_from`` in a catalogue (the oldest item)."""
    rows = ctx.catalogue_part(params["catalogue"])
    years = pd.to_numeric(rows["year_from"], errors="coerce").dropna()
    if years.empty:
        return Computed(None, missing=f"no manufacture years in {params['catalogue']}")
    oldest = rows.loc[years.idxmin()]
    return Computed(float(years.min()), detail=f"{oldest['designation']} (row {oldest.get('source_row', '?')})")


@computation("catalogue", "years", needs=("catalogue",))
def share_made_between(ctx: ClaimContext, params: dict) -> Computed:
    """Percent of dated items (by ``count``, categories in ``exclude`` left out) made in ``years``.

    An item is dated when its ``year_mid`` is known. With fewer dated rows than ``min_dated``
    the claim is not checkable (too few dates to speak of a bulk).
    """
    rows = ctx.catalogue_part(params["catalogue"])
    rows = rows[~rows["category"].isin(params.get("exclude", []))]
    mid = pd.to_numeric(rows["year_mid"], errors="coerce")
    dated = rows[mid.notna()]
    if len(dated) < int(params.get("min_dated", 1)):
        return Computed(None, missing=f"only {len(dated)} dated rows in {params['catalogue']} "
                                      f"(need {params.get('min_dated', 1)})")
    first, last = _window(params)
    m = mid[mid.notna()]
    inside = float(dated.loc[(m >= first) & (m <= last + 0.999), "count"].sum())
    total = float(dated["count"].sum())
    return Computed(100 * inside / total, detail=f"{inside:,.0f} of {total:,.0f} dated items, {len(dated)} dated rows")


@computation("type_id", "state", "until", needs=("weapon_types",))
def type_designed_by(ctx: ClaimContext, params: dict) -> Computed:
    """1 when the weapon type ``type_id`` of the weapon-types reference was designed by
    ``state`` and entered service in or before ``until``, else 0; the detail gives the state,
    the year and their sources (``takingstock.analysis.designs.type_summary``). It dates the *design*,
    never the items: a manufacture-date claim stays not checkable."""
    t = designs.type_summary(ctx.weapon_types, params["type_id"], ctx.periods)
    if t["service_year"] is None:
        return Computed(None, missing=f"the reference gives no year of entry into service for {t['designation']}")
    ok = params["state"] in t["design_states"] and t["service_year"] <= int(params["until"])
    return Computed(1.0 if ok else 0.0,
                    detail=(f"{t['designation']}: designed by {', '.join(t['design_states'])} "
                            f"({t['design_state_url']}); {t['basis']} {t['service_year']} "
                            f"({t['service_year_url']}), era of design {t['decade']}"),
                    parts={"design state": 1.0 if params["state"] in t["design_states"] else 0.0,
                           "entered service": float(t["service_year"])})


@computation()
def not_checkable(ctx: ClaimContext, params: dict) -> Computed:
    """No data at hand can test the claim; its ``settle_with`` says which data would."""
    return Computed(None, missing="no dataset at hand covers this claim")
