"""The claims ledger: every number *Taking Stock* states, recomputed from the data at hand.

Method
------
``data/raw/claims.yml`` lists each quantitative or checkable claim of the report, of its press
release and of the two Conflict Armament Research (CAR) studies the pipeline carries: the claim
in our own words, the value as stated (with its unit), where it was stated and how confident we
are that the source says it (R, PR, N, derived; see ``docs/claims.md``), the dataset that can test
it, the *name* of the function here that computes the comparable value, and an explicit
tolerance. Every computation is a small named function registered in :data:`COMPUTATIONS`; it
receives a :class:`ClaimContext` (the processed catalogue and the SIPRI register's deals, each
``None`` when absent) and the claim's ``params``, and returns a :class:`Computed` value. Each
function declares the params it needs (:data:`REQUIRED_PARAMS`); :func:`load_claims` checks
them, naming the claim and the field. Nothing in the ledger is typed in: only the stated value
and the tolerance come from the YAML file. Where the stated value is a threshold we chose
because the source gives no figure (e.g. "imports decreased"), the claim's ``our_test`` says
so in words, and the ledger shows it beside the stated text.

Verdict rules
-------------
* **not checkable**: the computation returned no value, because the data that could settle
  the claim is not at hand (the claim's ``settle_with`` names that data), or because an input
  that would settle it is missing in this run (no SIPRI register, no processed catalogue, a
  country row the catalogue lacks).
* **reproduced**: the computed value satisfies the tolerance. Tolerance kinds:
  ``absolute`` (|computed - stated| <= value), ``relative`` (|computed - stated| <= value x
  |stated|), ``at_least`` (computed >= stated), ``greater_than`` (computed > stated),
  ``at_most`` (computed <= stated), ``less_than`` (computed < stated). Percentages are in
  percent (0-100), so an absolute tolerance of 1 on a share is one percentage point.
* **differs**: otherwise. The ledger then shows both values and the most likely reason in one
  sentence (the claim's ``reason_if_differs``, plus what the computation found, e.g. the year
  the register dates an order).

Why register counts differ from the report's
--------------------------------------------
The report's "at least 34 states supplied Iraq in 1980-88, 28 of them also Iran" and
"Iraq took 12% of the world arms market in the 1980s" almost certainly come from SIPRI
Yearbook-era surveys that counted every seller, private companies and small arms included,
and from market shares in money. Today's SIPRI trade register covers *major conventional
weapons only* (no small arms, no ordinary ammunition), names *one supplier state per deal*
(the state that authorised the transfer, not every firm or intermediary), is revised every
spring, and measures volume in trend-indicator values (TIV), which are not money. We count what
the register says under a stated rule (a state supplied Iraq in a window if at least one of its
deals to Iraq has a delivery year in the window), show it beside the report's figure, and call
the gap a finding rather than tune the rule towards the report. The supplier counts are
``takingstock.supply.window_suppliers`` on the ``delivery`` basis, the function notebook 04
uses, and the ledger's detail column states the rule in words (``supply.window_rule``); notebook
04 also shows the ``either`` basis (ordered or delivered in the window), which counts one more
state on both sides (Brazil). The world-market share is Iraq's TIV delivered in 1980-89 over
the TIV delivered to *all* recipients in those years, with each deal's TIV spread evenly over
its listed delivery years (``supply.delivered_in_window``, built on ``sipri.deal_years``).

The CAR shares are checked against the catalogue rows transcribed from CAR's published counts
and shares (``count_basis`` published or derived): a "reproduced" there means the committed
catalogue adds up to what CAR published, not that we re-counted CAR's evidence.

The guard
---------
``python pipeline.py check-claims`` calls :func:`check_main`. It *recomputes* the ledger from
the processed catalogue and the SIPRI register (it does not trust a ledger CSV that may be
stale), compares each verdict *and each computed value* (as the ledger shows it, e.g. ``7.3%``)
with ``data/raw/claims_accepted.csv`` and exits 1 listing every claim whose verdict changed
(or that was added or removed) and every value that moved, old -> new, even within tolerance.
``--accept`` rewrites the accepted file from the current ledger; that is a deliberate
maintainer act, to be committed with a message that says why. Calculations here are ours, not
SIPRI's.
"""

from __future__ import annotations

import argparse
import csv
import io as _stdio
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import yaml

from takingstock import breakdowns, paths, supply
from takingstock import io as tsio
from takingstock.breakdowns import is_state_code
from takingstock.sipri import SipriFormatError

VERDICTS = ("reproduced", "differs", "not checkable")
TOLERANCE_KINDS = ("absolute", "relative", "at_least", "greater_than", "at_most", "less_than")
CONFIDENCE_TAGS = ("R", "PR", "N", "derived")
REQUIRED_FIELDS = ("id", "group", "claim", "stated", "source", "dataset", "computation", "tolerance")

CLAIMS_FILE = paths.RAW / "claims.yml"
ACCEPTED_FILE = paths.RAW / "claims_accepted.csv"
LEDGER_FILE = paths.PROCESSED / "claims_ledger.csv"
LEDGER_COLUMNS = [
    "id", "group", "claim", "stated", "computed", "verdict", "reason", "source", "confidence",
    "stated_value", "computed_value", "unit", "tolerance", "computation", "detail", "source_url",
    "our_test",
]
ACCEPTED_COLUMNS = ["id", "verdict", "computed"]

class ClaimsError(ValueError):
    """A claims file or an accepted-verdicts file is malformed; the message names claim and field."""


# --------------------------------------------------------------------------- claims file


@dataclass(frozen=True)
class Tolerance:
    """How close a computed value must be to the stated one (see the module docstring)."""

    kind: str
    value: float = 0.0

    def accepts(self, stated: float, computed: float) -> bool:
        """True when ``computed`` satisfies this tolerance against ``stated``."""
        gap = abs(computed - stated)
        eps = 1e-9
        if self.kind == "absolute":
            return gap <= self.value + eps
        if self.kind == "relative":
            return gap <= self.value * abs(stated) + eps
        if self.kind == "at_least":
            return computed >= stated - eps
        if self.kind == "greater_than":
            return computed > stated
        if self.kind == "at_most":
            return computed <= stated + eps
        if self.kind == "less_than":
            return computed < stated
        raise ClaimsError(f"unknown tolerance kind {self.kind!r}")

    def describe(self) -> str:
        """A short human-readable form, e.g. ``±1`` or ``>= stated``."""
        return {
            "absolute": f"±{self.value:g}",
            "relative": f"±{self.value * 100:g}%",
            "at_least": ">= stated",
            "greater_than": "> stated",
            "at_most": "<= stated",
            "less_than": "< stated",
        }[self.kind]


@dataclass(frozen=True)
class Claim:
    """One entry of ``claims.yml``."""

    id: str
    group: str
    claim: str
    stated_value: float | None
    stated_text: str
    unit: str
    source: str
    source_url: str
    confidence: str
    dataset: str
    computation: str
    tolerance: Tolerance
    params: dict = field(default_factory=dict)
    reason_if_differs: str = ""
    settle_with: str = ""
    our_test: str = ""


def _fail(path: Path, claim_id: str, fieldname: str, message: str) -> ClaimsError:
    return ClaimsError(f"{path}: claim {claim_id!r}, field {fieldname!r}: {message}")


def _parse_claim(raw: Any, index: int, path: Path) -> Claim:
    """Validate one YAML mapping and turn it into a :class:`Claim`."""
    if not isinstance(raw, dict):
        raise ClaimsError(f"{path}: entry {index + 1} is not a mapping")
    cid = str(raw.get("id") or f"#{index + 1}")
    if "id" in raw and not isinstance(raw["id"], str):
        raise _fail(path, cid, "id", "must be text (quote it: YAML reads e.g. off/no/1 otherwise)")
    for name in REQUIRED_FIELDS:
        if raw.get(name) in (None, ""):
            raise _fail(path, cid, name, "missing or empty")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", cid):
        raise _fail(path, cid, "id", "use lower-case letters, digits and '-'")

    stated = raw["stated"]
    if not isinstance(stated, dict) or "text" not in stated or "unit" not in stated:
        raise _fail(path, cid, "stated", "needs a mapping with 'text', 'unit' and 'value'")
    value = stated.get("value")
    if value is not None and not isinstance(value, (int, float)):
        raise _fail(path, cid, "stated.value", f"not a number: {value!r}")

    source = raw["source"]
    if not isinstance(source, dict) or not source.get("name"):
        raise _fail(path, cid, "source", "needs a mapping with 'name', 'url', 'confidence'")
    if not source.get("url"):
        raise _fail(path, cid, "source.url", "missing (give where the claim can be read)")
    if source.get("confidence") not in CONFIDENCE_TAGS:
        raise _fail(path, cid, "source.confidence", f"must be one of {CONFIDENCE_TAGS}")

    computation = raw["computation"]
    if computation not in COMPUTATIONS:
        raise _fail(path, cid, "computation", f"unknown function {computation!r}; "
                    f"known: {', '.join(sorted(COMPUTATIONS))}")

    tol = raw["tolerance"]
    if not isinstance(tol, dict) or tol.get("kind") not in TOLERANCE_KINDS:
        raise _fail(path, cid, "tolerance", f"needs 'kind' in {TOLERANCE_KINDS}")
    if tol["kind"] in ("absolute", "relative"):
        if not isinstance(tol.get("value"), (int, float)) or tol["value"] < 0:
            raise _fail(path, cid, "tolerance.value", "needs a number >= 0")
    if computation != "not_checkable" and value is None:
        raise _fail(path, cid, "stated.value", "a computed claim needs a numeric stated value")
    if computation == "not_checkable" and not raw.get("settle_with"):
        raise _fail(path, cid, "settle_with", "say which data would settle this claim")
    if computation != "not_checkable" and not raw.get("reason_if_differs"):
        raise _fail(path, cid, "reason_if_differs", "give the most likely reason for a gap")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise _fail(path, cid, "params", "must be a mapping")
    for need in REQUIRED_PARAMS[computation]:
        options = need if isinstance(need, tuple) else (need,)
        if not any(o in params for o in options):
            raise _fail(path, cid, f"params.{'|'.join(options)}",
                        f"missing ({computation} needs {' or '.join(map(repr, options))})")
    for key in ("years", "baseline", "span"):
        if key in params:
            win = params[key]
            if (not isinstance(win, list) or len(win) != 2
                    or not all(isinstance(y, int) and not isinstance(y, bool) for y in win)):
                raise _fail(path, cid, f"params.{key}", f"needs [first, last] years, got {win!r}")

    return Claim(
        id=cid, group=str(raw["group"]), claim=str(raw["claim"]).strip(),
        stated_value=None if value is None else float(value), stated_text=str(stated["text"]),
        unit=str(stated["unit"]), source=str(source["name"]), source_url=str(source["url"]),
        confidence=str(source["confidence"]), dataset=str(raw["dataset"]),
        computation=computation, tolerance=Tolerance(tol["kind"], float(tol.get("value") or 0)),
        params=params, reason_if_differs=str(raw.get("reason_if_differs") or "").strip(),
        settle_with=str(raw.get("settle_with") or "").strip(),
        our_test=str(raw.get("our_test") or "").strip(),
    )


def load_claims(path: str | Path = CLAIMS_FILE) -> list[Claim]:
    """Read and validate ``claims.yml``; raise :class:`ClaimsError` naming the claim and field."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ClaimsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise ClaimsError(f"{path}: expected a top-level 'claims:' list")
    claims = [_parse_claim(raw, i, path) for i, raw in enumerate(doc["claims"])]
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            raise _fail(path, c.id, "id", "duplicate id")
        seen.add(c.id)
    return claims


# --------------------------------------------------------------------------- context


@dataclass
class ClaimContext:
    """What the computations may read. Any part is ``None`` when it is absent in this run."""

    catalogue: pd.DataFrame | None = None
    deals: pd.DataFrame | None = None
    register_label: str = ""

    def catalogue_part(self, catalogue_id: str) -> pd.DataFrame | None:
        """Rows of one catalogue id (``None`` when there is no catalogue or no such rows)."""
        if self.catalogue is None:
            return None
        part = self.catalogue[self.catalogue["catalogue"] == catalogue_id]
        return part if len(part) else None


def build_context(processed_dir: str | Path = paths.PROCESSED,
                  sipri_register: str | Path | None = "",
                  sipri_dir: str | Path = paths.SIPRI_RAW) -> ClaimContext:
    """Load the processed catalogue and the SIPRI register (each optional) into a context.

    Args:
        processed_dir: folder holding ``catalogue.parquet``. A missing file leaves
            ``catalogue`` ``None`` (catalogue claims become not checkable): the ledger judges
            step 01's output, it does not clean the raw catalogues itself.
        sipri_register: a register CSV path; ``""`` = the newest file in ``sipri_dir``;
            ``None`` = run without a register.
        sipri_dir: where ``""`` looks for the register (notebook 05 passes
            ``raw_dir/sipri``, as notebooks 03 and 04 do).

    Raises:
        FileNotFoundError: ``sipri_register`` names a file that is not there.
        takingstock.sipri.SipriFormatError: the register is not a usable SIPRI export.
    """
    ctx = ClaimContext()
    cat_path = Path(processed_dir) / "catalogue.parquet"
    if cat_path.exists():
        ctx.catalogue = pd.read_parquet(cat_path)
    if sipri_register is not None:
        from takingstock import sipri

        register = sipri.open_register(sipri_register, sipri_dir)
        if register is not None:
            ctx.deals = register.deals
            when = f", data generated {register.release_date}" if register.release_date else ""
            ctx.register_label = f"{register.path.name}{when}"
    return ctx


# --------------------------------------------------------------------------- computations


@dataclass(frozen=True)
class Computed:
    """A computation's answer: a value, or ``missing`` saying why none could be computed."""

    value: float | None
    detail: str = ""
    missing: str = ""


def _need(frame: pd.DataFrame | None, what: str) -> Computed | None:
    if frame is None:
        return Computed(None, missing=f"{what} is not available in this run")
    return None


def _window(params: dict, key: str = "years") -> tuple[int, int]:
    first, last = params[key]
    return int(first), int(last)


COMPUTATIONS: dict[str, Callable[[ClaimContext, dict], Computed]] = {}
"""Every computation a claim may name, by function name (filled by :func:`computation`)."""
REQUIRED_PARAMS: dict[str, tuple] = {}
"""The params each computation needs; a tuple entry means "one of these"."""


def computation(*required: str | tuple[str, ...]) -> Callable:
    """Register a computation and the params it needs (checked when the claims are loaded)."""
    def register(func: Callable[[ClaimContext, dict], Computed]) -> Callable[[ClaimContext, dict], Computed]:
        COMPUTATIONS[func.__name__] = func
        REQUIRED_PARAMS[func.__name__] = tuple(required)
        return func
    return register


@computation("recipient", "years")
def count_suppliers(ctx: ClaimContext, params: dict) -> Computed:
    """Number of states supplying ``recipient`` in the window, by ``supply.suppliers_in_window``
    (the rule notebook 04 uses); the detail states the rule in words."""
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
    first, last = _window(params)
    basis = params.get("basis", "delivery")
    states = supply.suppliers_in_window(ctx.deals, params["recipient"], first, last, basis)
    return Computed(float(len(states)), detail=f"{supply.window_rule(basis, first, last)} {', '.join(states)}")


@computation("recipient", "other", "years")
def count_common_suppliers(ctx: ClaimContext, params: dict) -> Computed:
    """Number of states that supplied both ``recipient`` and ``other`` in the same window
    (``supply.window_suppliers``); the detail states the rule in words."""
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
    first, last = _window(params)
    w = supply.window_suppliers(ctx.deals, params["recipient"], params["other"], first, last,
                                basis=params.get("basis", "delivery"))
    return Computed(float(len(w["both"])), detail=f"{w['rule']} Both sides: {', '.join(w['both'])}")


def _delivered(ctx: ClaimContext, params: dict, key: str = "years", everyone: bool = False) -> pd.DataFrame:
    """Deal-years delivered to the claim's ``recipient`` (or to every recipient) in the window
    ``params[key]``: ``supply.delivered_in_window``, TIV spread over the delivery years."""
    first, last = _window(params, key)
    return supply.delivered_in_window(ctx.deals, first, last, None if everyone else params["recipient"])


@computation("recipient", "years")
def recipient_world_share(ctx: ClaimContext, params: dict) -> Computed:
    """``recipient``'s share (percent) of the TIV delivered to all recipients in the window."""
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
    first, last = _window(params)
    world = float(_delivered(ctx, params, everyone=True)["tiv"].sum())
    mine = float(_delivered(ctx, params)["tiv"].sum())
    if world <= 0:
        return Computed(None, missing=f"no TIV delivered in {first}-{last} in the register")
    return Computed(100 * mine / world,
                    detail=f"{params['recipient']} {mine:,.0f} of {world:,.0f} TIV delivered {first}-{last}")


@computation("recipient", "years")
def recipient_tiv_total(ctx: ClaimContext, params: dict) -> Computed:
    """Total TIV delivered to ``recipient`` in the window (TIV millions, not money)."""
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
    w = _delivered(ctx, params)
    return Computed(float(w["tiv"].sum()), detail=f"{len(w)} deal-years")


@computation("recipient", "years", ("suppliers", "bloc"))
def supplier_tiv_share(ctx: ClaimContext, params: dict) -> Computed:
    """Share (percent) of ``recipient``'s TIV in the window from ``suppliers`` or a ``bloc``."""
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
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
    return Computed(100 * part / total, detail=f"{who}: {part:,.0f} of {total:,.0f} TIV, {first}-{last}")


@computation("recipient", "years", "baseline")
def period_tiv_share(ctx: ClaimContext, params: dict) -> Computed:
    """Mean annual TIV to ``recipient`` in ``years`` as a percent of the mean in ``baseline``."""
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
    (f1, l1), (f0, l0) = _window(params), _window(params, "baseline")
    now = float(_delivered(ctx, params)["tiv"].sum()) / (l1 - f1 + 1)
    base = float(_delivered(ctx, params, "baseline")["tiv"].sum()) / (l0 - f0 + 1)
    if base <= 0:
        return Computed(None, missing=f"no TIV delivered to {params['recipient']} in {f0}-{l0}")
    return Computed(100 * now / base,
                    detail=f"mean a year: {now:,.0f} TIV in {f1}-{l1} vs {base:,.0f} TIV in {f0}-{l0}")


@computation("recipient", "years", "span")
def period_tiv_fraction(ctx: ClaimContext, params: dict) -> Computed:
    """Percent of ``recipient``'s TIV over ``span`` that was delivered within ``years``."""
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
    (f1, l1), (fs, ls) = _window(params), _window(params, "span")
    whole = float(_delivered(ctx, params, "span")["tiv"].sum())
    part = float(_delivered(ctx, params)["tiv"].sum())
    if whole <= 0:
        return Computed(None, missing=f"no TIV delivered to {params['recipient']} in {fs}-{ls}")
    return Computed(100 * part / whole, detail=f"{part:,.0f} of {whole:,.0f} TIV of {fs}-{ls} came in {f1}-{l1}")


@computation("recipient", "supplier", "designation", "description", "years")
def units_ordered(ctx: ClaimContext, params: dict) -> Computed:
    """Units of a weapon ``supplier`` ordered for ``recipient`` in the window.

    The weapon is named twice: ``designation``, a regex searched in SIPRI's designation (write
    word boundaries, e.g. ``\\bHawk\\b``, so "Skyhawk" does not count), and ``description``, a
    regex the whole of SIPRI's description must match (so a "UH-60M Black Hawk" transport
    helicopter is not counted as a Hawk air-defence missile). Recipients are selected with
    ``supply.select_recipients`` (SIPRI name or crosswalk state), as in notebook 04. The
    detail names any order of the same weapon outside the window (e.g. the register may date
    the order earlier than the report does).
    """
    if (miss := _need(ctx.deals, "the SIPRI register")):
        return miss
    first, last = _window(params)
    d = supply.select_recipients(ctx.deals, params["recipient"])
    d = d[d["supplier_state"] == params["supplier"]]
    d = d[d["designation"].astype(str).str.contains(params["designation"], case=False, regex=True)
          & d["description"].astype(str).str.fullmatch(params["description"], case=False)]
    inside = d[d["order_year"].between(first, last).fillna(False).astype(bool)]
    outside = d.drop(inside.index)
    n = float(inside["number_ordered"].fillna(0).sum())
    parts = [f"{int(r.number_ordered) if pd.notna(r.number_ordered) else '?'} {r.designation} "
             f"ordered {r.order_year}" for r in inside.itertuples()]
    detail = "in window: " + ("; ".join(parts) if parts else "none")
    if len(outside):
        other = [f"{int(r.number_ordered) if pd.notna(r.number_ordered) else '?'} ordered "
                 f"{r.order_year}" for r in outside.sort_values("order_year").itertuples()]
        detail += f". Same weapon outside {first}-{last}: " + "; ".join(other)
    else:
        detail += f". No other {params['supplier']} order of this weapon for {params['recipient']} in the register"
    return Computed(n, detail=detail)


@computation("catalogue")
def catalogue_total(ctx: ClaimContext, params: dict) -> Computed:
    """Sum of ``count`` over one catalogue (items, cartridges or weapons documented)."""
    rows = ctx.catalogue_part(params["catalogue"])
    if (miss := _need(rows, f"catalogue {params['catalogue']!r}")):
        return miss
    return Computed(float(rows["count"].sum()), detail=f"{len(rows)} rows")


@computation("catalogue", "isos")
def catalogue_share(ctx: ClaimContext, params: dict) -> Computed:
    """Share (percent) of a catalogue's ``count`` made in the states ``isos`` (manufacture ISO).

    ``isos: EU_MEMBERS_2017`` is the EU share as notebook 02 computes it
    (``breakdowns.eu_share``), so the two cannot disagree. With ``require_all: true`` a state
    that has no row at all makes the claim not checkable (its count was not recovered) instead
    of counting it as zero.
    """
    rows = ctx.catalogue_part(params["catalogue"])
    if (miss := _need(rows, f"catalogue {params['catalogue']!r}")):
        return miss
    if params["isos"] == "EU_MEMBERS_2017":
        eu = breakdowns.eu_share(rows)
        if eu["total"] <= 0:
            return Computed(None, missing=f"catalogue {params['catalogue']!r} has no counted items")
        return Computed(eu["share"], detail=f"{eu['count']:,.0f} of {eu['total']:,.0f} "
                                            f"({', '.join(eu['members_present'])})")
    isos = list(params["isos"])
    present = set(rows["manufacture_iso"].dropna())
    absent = [i for i in isos if i not in present]
    if params.get("require_all") and absent:
        return Computed(None, missing=f"no row for {', '.join(absent)} in {params['catalogue']}")
    total = float(rows["count"].sum())
    mine = float(rows.loc[rows["manufacture_iso"].isin(isos), "count"].sum())
    if total <= 0:
        return Computed(None, missing=f"catalogue {params['catalogue']!r} has no counted items")
    return Computed(100 * mine / total, detail=f"{mine:,.0f} of {total:,.0f}")


def origin_states(rows: pd.DataFrame) -> set[str]:
    """ISO codes of the states named as design or manufacture origin (no 'unknown', no X-codes)."""
    codes = pd.concat([rows["design_iso"], rows["manufacture_iso"]], ignore_index=True).astype("string")
    return set(codes[is_state_code(codes).to_numpy()].dropna())


@computation("catalogue")
def count_origin_states(ctx: ClaimContext, params: dict) -> Computed:
    """Number of distinct states a catalogue names as country of design or manufacture
    (``role: any``, the default) or of ``role: manufacture`` / ``design`` only.

    Counted by ``breakdowns.distinct_countries_any`` / ``distinct_countries``, the functions
    notebook 02 uses, so the ledger and the breakdowns cannot disagree.
    """
    rows = ctx.catalogue_part(params["catalogue"])
    if (miss := _need(rows, f"catalogue {params['catalogue']!r}")):
        return miss
    role = params.get("role", "any")
    found = (breakdowns.distinct_countries_any(rows) if role == "any"
             else breakdowns.distinct_countries(rows, role))
    return Computed(float(found["n"]), detail=", ".join(found["countries"]))


@computation("catalogue", "groups")
def count_listed_origins(ctx: ClaimContext, params: dict) -> Computed:
    """How many of the groups in ``groups`` (each a list of ISO codes) a catalogue names."""
    rows = ctx.catalogue_part(params["catalogue"])
    if (miss := _need(rows, f"catalogue {params['catalogue']!r}")):
        return miss
    found = origin_states(rows)
    hit = [g for g in params["groups"] if found & set(g)]
    return Computed(float(len(hit)), detail="found: " + ", ".join("/".join(g) for g in hit))


@computation("catalogue")
def count_designations(ctx: ClaimContext, params: dict) -> Computed:
    """Number of distinct item designations (case-folded) in a catalogue."""
    rows = ctx.catalogue_part(params["catalogue"])
    if (miss := _need(rows, f"catalogue {params['catalogue']!r}")):
        return miss
    names = rows["designation"].dropna().astype(str).str.strip().str.casefold()
    return Computed(float(names.nunique()), detail=f"{len(rows)} rows")


@computation("catalogue")
def earliest_year(ctx: ClaimContext, params: dict) -> Computed:
    """The earliest ``year_from`` in a catalogue (the oldest item)."""
    rows = ctx.catalogue_part(params["catalogue"])
    if (miss := _need(rows, f"catalogue {params['catalogue']!r}")):
        return miss
    years = pd.to_numeric(rows["year_from"], errors="coerce").dropna()
    if years.empty:
        return Computed(None, missing=f"no manufacture years in {params['catalogue']}")
    oldest = rows.loc[years.idxmin()]
    return Computed(float(years.min()), detail=f"{oldest['designation']} (row {oldest.get('source_row', '?')})")


@computation("catalogue", "years")
def share_made_between(ctx: ClaimContext, params: dict) -> Computed:
    """Percent of dated items (by ``count``, categories in ``exclude`` left out) made in ``years``.

    An item is dated when its ``year_mid`` is known. With fewer dated rows than ``min_dated``
    the claim is not checkable (too few dates to speak of a bulk).
    """
    rows = ctx.catalogue_part(params["catalogue"])
    if (miss := _need(rows, f"catalogue {params['catalogue']!r}")):
        return miss
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


@computation()
def not_checkable(ctx: ClaimContext, params: dict) -> Computed:
    """No data at hand can test the claim; its ``settle_with`` says which data would."""
    return Computed(None, missing="no dataset at hand covers this claim")


# --------------------------------------------------------------------------- verdicts


def format_value(value: float | None, unit: str) -> str:
    """Render a computed or stated number for the ledger."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "year":
        return f"{value:.0f}"
    suffix = "" if unit in ("count", "") else f" {unit}"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}{suffix}"
    return f"{value:,.1f}{suffix}"


def judge(claim: Claim, computed: Computed) -> tuple[str, str]:
    """Return ``(verdict, reason)`` for a claim and its computed value (rules in the docstring)."""
    if computed.value is None:
        why = computed.missing or "no value computed"
        settle = f" Would be settled by: {claim.settle_with}" if claim.settle_with else ""
        return "not checkable", f"{why}.{settle}".strip()
    if claim.stated_value is not None and claim.tolerance.accepts(claim.stated_value, computed.value):
        return "reproduced", f"within tolerance ({claim.tolerance.describe()})"
    return "differs", claim.reason_if_differs


def evaluate(claims: list[Claim], context: ClaimContext) -> pd.DataFrame:
    """Compute every claim and return the ledger (one row per claim, ``LEDGER_COLUMNS``).

    The params were checked when the claims were loaded; any other error (e.g. a catalogue
    without a column a computation reads) propagates as it is, not as a claims-file error.
    """
    rows = []
    for c in claims:
        computed = COMPUTATIONS[c.computation](context, c.params)
        verdict, reason = judge(c, computed)
        rows.append({
            "id": c.id, "group": c.group, "claim": c.claim, "stated": c.stated_text,
            "computed": format_value(computed.value, c.unit), "verdict": verdict, "reason": reason,
            "source": c.source, "confidence": c.confidence, "stated_value": c.stated_value,
            "computed_value": computed.value, "unit": c.unit,
            "tolerance": c.tolerance.describe(), "computation": c.computation,
            "detail": computed.detail, "source_url": c.source_url, "our_test": c.our_test,
        })
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS)


def verdict_counts(ledger: pd.DataFrame) -> dict[str, int]:
    """Number of claims per verdict, in the fixed order of :data:`VERDICTS`."""
    counts = ledger["verdict"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}


def write_ledger(ledger: pd.DataFrame, path: str | Path = LEDGER_FILE) -> Path:
    """Write the ledger CSV atomically."""
    return tsio.write_text(path, ledger.to_csv(index=False))


# --------------------------------------------------------------------------- the guard


def read_accepted(path: str | Path = ACCEPTED_FILE) -> dict[str, str]:
    """Read ``claims_accepted.csv`` into ``{id: verdict}``; raise naming the row on bad input."""
    return {cid: verdict for cid, (verdict, _computed) in read_accepted_rows(path).items()}


def read_accepted_rows(path: str | Path = ACCEPTED_FILE) -> dict[str, tuple[str, str | None]]:
    """Read ``claims_accepted.csv`` into ``{id: (verdict, computed)}``.

    ``computed`` is the value as the ledger showed it when accepted (``None`` when the file has
    no ``computed`` column). Raises :class:`ClaimsError` naming the row on bad input.
    """
    path = Path(path)
    out: dict[str, tuple[str, str | None]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"id", "verdict"} <= set(reader.fieldnames):
            raise ClaimsError(f"{path}: needs columns 'id' and 'verdict'")
        for n, row in enumerate(reader, start=1):
            if row["verdict"] not in VERDICTS:
                raise ClaimsError(f"{path}: row {n}, column 'verdict': {row['verdict']!r} "
                                  f"is not one of {VERDICTS}")
            if row["id"] in out:
                raise ClaimsError(f"{path}: row {n}, column 'id': duplicate {row['id']!r}")
            out[row["id"]] = (row["verdict"], row.get("computed"))
    return out


def accepted_text(ledger: pd.DataFrame) -> str:
    """The CSV text of an accepted-verdicts file for ``ledger``."""
    buf = _stdio.StringIO()
    ledger[ACCEPTED_COLUMNS].to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def accept_ledger(ledger: pd.DataFrame, accepted_path: str | Path, register_label: str = "") -> Path:
    """Write the accepted-verdicts file from ``ledger`` and refresh its provenance, if it has one.

    When the file's folder has a ``datapackage.json`` (``data/raw/`` does), its resource's
    ``hash``, ``bytes`` and ``rows`` are refreshed (``takingstock.provenance``) and its
    ``accepted_against`` property records which SIPRI register release the verdicts came from.
    """
    from takingstock import provenance

    path = tsio.write_text(accepted_path, accepted_text(ledger))
    if provenance.package_path(Path(path).parent).is_file():
        provenance.refresh_resource(path, accepted_against=register_label)
    return path


def compare_verdicts(ledger: pd.DataFrame, accepted: dict[str, str]) -> list[str]:
    """One line per claim whose verdict differs from ``accepted`` (or is new, or was removed)."""
    changes = []
    now = dict(zip(ledger["id"], ledger["verdict"]))
    for cid, verdict in now.items():
        if cid not in accepted:
            changes.append(f"{cid}: new claim, verdict {verdict!r} (not yet accepted)")
        elif accepted[cid] != verdict:
            row = ledger[ledger["id"] == cid].iloc[0]
            changes.append(f"{cid}: accepted {accepted[cid]!r}, now {verdict!r} "
                           f"(computed {row['computed']}; {row['reason']})")
    for cid in accepted:
        if cid not in now:
            changes.append(f"{cid}: accepted but no longer in the claims file")
    return changes


def compare_computed(ledger: pd.DataFrame, accepted: dict[str, tuple[str, str | None]]) -> list[str]:
    """One line per claim whose verdict is as accepted but whose computed value moved.

    Values are compared as the ledger shows them (``format_value``: e.g. ``7.3%``,
    ``28,358 TIV (millions)``), so a move shows as soon as it changes a shown digit, even
    within tolerance. Claims with a changed verdict are left to :func:`compare_verdicts`.
    """
    moved = []
    for cid, verdict, computed in zip(ledger["id"], ledger["verdict"], ledger["computed"]):
        if cid not in accepted:
            continue
        old_verdict, old = accepted[cid]
        if old is None or old_verdict != verdict:
            continue
        if str(old) != str(computed):
            moved.append(f"{cid}: computed value moved {old} -> {computed} (verdict still {verdict!r})")
    return moved


def check_main(argv: list[str] | None = None) -> int:
    """The guard: recompute the ledger, compare verdicts and computed values with the accepted
    file, return an exit code.

    0 = every verdict and value as accepted; 1 = at least one verdict changed or value moved
    (each listed on stderr, old -> new); 2 = a claims, accepted or register file is malformed
    or missing. ``--accept`` rewrites the accepted file (recording the moved values too).
    """
    parser = argparse.ArgumentParser(prog="pipeline.py check-claims",
                                     description="Fail when a claim's verdict changed from the accepted ledger.")
    parser.add_argument("--claims", default=str(CLAIMS_FILE))
    parser.add_argument("--accepted", default=str(ACCEPTED_FILE))
    parser.add_argument("--processed-dir", default=str(paths.PROCESSED))
    parser.add_argument("--sipri-register", default="",
                        help="register CSV ('' = newest in --sipri-dir; 'none' = without)")
    parser.add_argument("--sipri-dir", default=str(paths.SIPRI_RAW),
                        help="where '' looks for the register (default data/raw/sipri/)")
    parser.add_argument("--ledger", default="",
                        help="read verdicts from this ledger CSV instead of recomputing")
    parser.add_argument("--accept", action="store_true",
                        help="rewrite the accepted file from the current ledger (a deliberate act)")
    args = parser.parse_args(argv)
    try:
        context_label = f"ledger file {Path(args.ledger).name}" if args.ledger else ""
        if args.ledger:
            ledger = pd.read_csv(args.ledger, dtype=str, keep_default_na=False)
        else:
            register = None if args.sipri_register.lower() == "none" else args.sipri_register
            context = build_context(args.processed_dir, register, args.sipri_dir)
            ledger = evaluate(load_claims(args.claims), context)
            context_label = context.register_label or "no SIPRI register"
        if args.accept:
            accept_ledger(ledger, args.accepted, context_label)
            counts = verdict_counts(ledger)
            print(f"accepted {len(ledger)} verdicts into {args.accepted}: {counts}")
            return 0
        accepted = read_accepted_rows(args.accepted)
    except (ClaimsError, FileNotFoundError, SipriFormatError) as exc:
        print(f"check-claims: {exc}", file=sys.stderr)
        return 2
    changes = compare_verdicts(ledger, {cid: v for cid, (v, _c) in accepted.items()})
    moved = compare_computed(ledger, accepted)
    if changes or moved:
        if changes:
            print(f"check-claims: {len(changes)} claim verdict(s) changed from {args.accepted}:",
                  file=sys.stderr)
            for line in changes:
                print(f"  - {line}", file=sys.stderr)
        if moved:
            print(f"check-claims: {len(moved)} computed value(s) moved from {args.accepted}:",
                  file=sys.stderr)
            for line in moved:
                print(f"  - {line}", file=sys.stderr)
        print("If the change is intended, run `python pipeline.py check-claims --accept` and "
              "commit data/raw/claims_accepted.csv with the reason.", file=sys.stderr)
        return 1
    print(f"check-claims: all {len(ledger)} verdicts and values as accepted {verdict_counts(ledger)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(check_main())
