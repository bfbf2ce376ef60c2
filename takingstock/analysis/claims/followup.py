"""The computations of the follow-up claims ("after the report"): the ATT status of the arsenal's
states of origin, and the arms that kept flowing after the report's calls.

Registered in :data:`.computations.COMPUTATIONS` like every other computation (imported by
:mod:`takingstock.analysis.claims`), they use the follow-up's own functions (:mod:`takingstock.analysis.followup`,
:mod:`takingstock.data.att`), so the ledger and notebook 07 cannot disagree.

* ``att_origins_not_party`` - how many states of origin of the catalogues (former states as their
  successors) were *not* ATT parties on a date (signatories, withdrawn signatures and states
  outside), from ``data/raw/att_status.csv``; states whose status the table cannot give are
  named in the detail and not counted either way.
* ``followup_tiv_ratio`` - the recipient's mean yearly TIV delivered in ``years`` as a percent
  of its mean in ``baseline``; an open window (``after-report``, 2016-2100) ends with the
  export's last year (:func:`takingstock.analysis.followup.clip`), and the years must then be covered.
* ``followup_supplier_count`` - the number of states that delivered to the recipient in
  ``years`` (clipped the same way).
"""

from __future__ import annotations

import datetime as _dt

from takingstock.data import att
from takingstock.analysis import followup

from .computations import Computed, computation
from .context import ClaimContext
from takingstock.data.countries import load_crosswalk

__all__ = ["att_origins_not_party", "followup_tiv_ratio", "followup_supplier_count"]


@computation("catalogues", "date")
def att_origins_not_party(ctx: ClaimContext, params: dict) -> Computed:
    """States of origin of ``catalogues`` (a catalogue id, or ``all``) not ATT parties on ``date``."""

    if ctx.catalogue is None:
        return Computed(None, missing="no processed catalogue in this run (run step 01 first)")
    which = params["catalogues"]
    rows = ctx.catalogue if which == "all" else ctx.catalogue_part(which)
    if rows is None:
        return Computed(None, missing=f"catalogue {which!r} is not in the processed catalogue")
    origins = att.origin_states(rows, load_crosswalk())
    table = att.load_att()
    day = _dt.date.fromisoformat(str(params["date"]))
    status = {s: att.status_on(table, iso, day) for s, iso in zip(origins["state"], origins["iso"])}
    by = {}
    for state, st in sorted(status.items()):
        by.setdefault(st, []).append(state)
    outside = [s for s, st in status.items() if st not in ("party", "unknown")]
    detail = "; ".join(f"{st}: {', '.join(names)}" for st, names in by.items())
    return Computed(float(len(outside)), detail=f"on {day.isoformat()}, of {len(status)} states of origin: {detail}",
                    parts={s: 1.0 for s in sorted(outside)})


def _clipped(ctx: ClaimContext, params: dict, key: str) -> tuple[tuple[int, int], str]:
    first, last = followup.clip(*params[key], ctx.coverage)
    return (first, last), followup.lacks(ctx.coverage, params["recipient"], first, last)


@computation("recipient", "years", "baseline", needs=("register", "recipient"), readings=("window",))
def followup_tiv_ratio(ctx: ClaimContext, params: dict) -> Computed:
    """Mean yearly TIV to ``recipient`` in ``years`` (clipped) as a percent of ``baseline``'s."""
    (f1, l1), why = _clipped(ctx, params, "years")
    (f0, l0), why0 = _clipped(ctx, params, "baseline")
    if why or why0:
        return Computed(None, missing=why or why0)
    years = ctx.deals_to(params["recipient"], years=True)
    totals = followup.period_totals(years, {"after": (f1, l1), "before": (f0, l0)}).set_index("period")
    now, base = totals.loc["after", "tiv_a_year"], totals.loc["before", "tiv_a_year"]
    if base <= 0:
        return Computed(None, missing=f"no TIV delivered to {params['recipient']} in {f0}-{l0}")
    return Computed(100 * now / base,
                    detail=f"mean a year: {now:,.0f} TIV in {f1}-{l1} vs {base:,.0f} TIV in {f0}-{l0}",
                    parts={f"{f1}-{l1} a year": float(now), f"{f0}-{l0} a year": float(base)})


@computation("recipient", "years", needs=("register", "recipient"), readings=("window",))
def followup_supplier_count(ctx: ClaimContext, params: dict) -> Computed:
    """Number of states that delivered to ``recipient`` in ``years`` (clipped), by TIV."""
    (first, last), why = _clipped(ctx, params, "years")
    if why:
        return Computed(None, missing=why)
    mine = ctx.deals_to(params["recipient"])  # selected once for every reading
    years = followup.in_window(followup.deal_years(mine, params["recipient"]), first, last)
    ranked = followup.suppliers_ranked(years)
    ranked = ranked[ranked["supplier"] != followup.UNKNOWN]
    return Computed(float(len(ranked)),
                    detail=f"{first}-{last}: " + ", ".join(f"{r.supplier} {r.tiv:,.0f} TIV" for r in ranked.itertuples()),
                    parts={r.supplier: float(r.tiv) for r in ranked.itertuples()})
