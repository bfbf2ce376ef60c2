"""Verdicts: each claim against each SIPRI release at hand, and what moved between releases.

Verdict classes
---------------
* **reproduced** - independent data gives a value within the claim's tolerance.
* **transcribed** - the value is within tolerance, but the data was typed in from the claim's
  own source (``check: transcribed`` in ``claims.yml``): the rows add up to what the source
  publishes, which checks our transcription, not the claim. Counted and shown apart.
* **differs** - the data measures the same quantity as the claim and gives a value outside
  the tolerance; the ledger shows both values and the most likely reason.
* **not comparable** - the data measures something else than the claim (``measures`` in
  ``claims.yml`` against :data:`.computations.DATA_MEASURES`): TIV where the claim speaks of
  money, or part of what the claim counts (major conventional weapons of "all arms", states of
  "governments or firms") where that part cannot settle the claim. A count of part is a lower
  bound of the whole: it confirms an "at least" it already reaches and refutes an "at most" or
  an exact figure it already exceeds; otherwise the verdict is *not comparable*, saying what
  the data measures.
* **not checkable** - the data the claim needs is not at hand, or the export at hand does not
  cover it (the reason says which: "this export holds deals to Iraq only; ..."), or no dataset
  at hand can test it, or the value is a lower bound of the same quantity that cannot settle
  it (a partial catalogue, rows that name no country: ``Computed.lower_bound``);
  ``settle_with`` says which data would.

Robustness
----------
Every computed verdict is recomputed under the alternative readings its claim declares
(:mod:`.readings`); the ``robustness`` column says *robust* or *fragile: flips to X under Y*.

The needs of a computation are checked once, here, before it runs
(:func:`takingstock.analysis.claims.computations.missing_data`).

Releases
--------
:func:`evaluate_releases` computes the ledger once per export at hand and lays the releases
side by side: the primary release's verdict heads each row, and each other release adds a
``computed [label]`` and ``verdict [label]`` column. Where the value or verdict differs between
releases, ``across_releases`` explains it from the computations' parts (e.g. "Brazil counted in
2026-05-18, not in 2025-03-13"; "Soviet Union 16,210 -> 16,702 TIV").
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from .computations import COMPUTATIONS, Computed, missing_data
from .context import ClaimContext
from .readings import judge_alternatives, robustness
from .spec import Claim, Tolerance, measure_relation

__all__ = ["VERDICTS", "LEDGER_COLUMNS", "judge", "compute", "evaluate", "evaluate_releases",
           "format_value", "verdict_counts", "explain_move", "release_columns", "counts_by_release",
           "ledger_view", "summary_sentence", "class_counts_text", "bound_settles", "claim_robustness"]

VERDICTS = ("reproduced", "transcribed", "differs", "not comparable", "not checkable")
LEDGER_COLUMNS = [
    "id", "group", "claim", "stated", "computed", "verdict", "robustness", "reason", "rule",
    "threshold", "check", "source", "source_tier", "tier_flag", "confidence", "stated_value", "computed_value", "unit",
    "tolerance", "computation", "detail", "source_url", "our_test", "release",
]


def format_value(value: float | None, unit: str) -> str:
    """Render a computed or stated number for the ledger."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit in ("year", "rank"):
        return f"{value:.0f}"
    suffix = "" if unit in ("count", "") else f" {unit}"
    if float(value).is_integer() or abs(value) >= 100:
        return f"{value:,.0f}{suffix}"
    return f"{value:,.1f}{suffix}"


def compute(claim: Claim, ctx: ClaimContext, params: dict | None = None) -> Computed:
    """The claim's computation on ``ctx`` (with ``params``, an alternative reading, if given),
    or why the data it needs is not there."""
    spec = COMPUTATIONS[claim.computation]
    params = claim.params if params is None else params
    why = missing_data(spec, ctx, params)
    if why:
        return Computed(None, missing=why)
    return spec(ctx, params)


def bound_settles(tolerance: Tolerance, stated: float, bound: float) -> str:
    """What a lower bound of the claim's quantity settles: ``met`` (it already passes an
    "at least"), ``exceeds`` (it already breaks an "at most" or an exact figure) or ``open``."""
    ok = tolerance.accepts(stated, bound)
    if tolerance.kind in ("at_least", "greater_than"):
        return "met" if ok else "open"
    if tolerance.kind in ("at_most", "less_than"):
        return "open" if ok else "exceeds"
    return "exceeds" if not ok and bound > stated else "open"


def compared_measures(claim: Claim) -> dict[str, tuple[str, str, str]]:
    """``{dimension: (claim's term, data's term, relation)}`` where the two differ."""
    data = COMPUTATIONS[claim.computation].data_measures()
    out = {}
    for dim, term in claim.measures.items():
        rel = measure_relation(dim, term, data[dim])
        if rel != "same":
            out[dim] = (term, data[dim], rel)
    return out


def _settle(claim: Claim) -> str:
    return f" Would be settled by: {claim.settle_with}" if claim.settle_with else ""


def judge(claim: Claim, computed: Computed) -> tuple[str, str]:
    """``(verdict, reason)`` for a claim and its computed value (rules in the module docstring)."""
    if computed.value is None:
        why = computed.missing or "no value computed"
        return "not checkable", f"{why}.{_settle(claim)}".strip()
    tol = claim.tolerance
    gaps = compared_measures(claim)
    counts = "; ".join(f"the claim counts {c}, the data {d}" + (" (part of it)" if r == "part" else "")
                       for c, d, r in gaps.values())
    likely = f" Most likely: {claim.reason_if_differs}" if claim.reason_if_differs else ""
    if any(r == "other" for _c, _d, r in gaps.values()):
        return "not comparable", f"The data measures another quantity: {counts}.{likely}"
    settles = bound_settles(tol, claim.stated_value, computed.value) if gaps or computed.lower_bound else ""
    shown = format_value(computed.value, claim.unit)
    if settles == "open" and gaps:
        return "not comparable", (f"A count of part cannot settle '{claim.rule}': {counts}, so "
                                  f"{shown} is only a lower bound.{likely}")
    if settles == "open":
        return "not checkable", (f"{shown} is only a lower bound ({computed.lower_bound}), which "
                                 f"cannot settle '{claim.rule}'.{_settle(claim)}")
    if claim.stated_value is not None and tol.accepts(claim.stated_value, computed.value):
        part = f" ({counts}: the part already meets it)" if gaps else ""
        if claim.check == "transcribed":
            return "transcribed", (f"within tolerance ({tol.describe()}){part}, but the data was "
                                   f"typed in from the same source: {claim.transcribed_from}")
        return "reproduced", f"within tolerance ({tol.describe()}){part}"
    if settles == "exceeds":
        return "differs", f"Even the part the data counts ({counts}) breaks the claim. {claim.reason_if_differs}"
    return "differs", claim.reason_if_differs


def claim_robustness(claim: Claim, ctx: ClaimContext, verdict: str) -> str:
    """The claim's verdict under each alternative reading it declares (:mod:`.readings`);
    empty for a claim that is not computed."""
    if verdict == "not checkable":
        return ""

    def run(params: dict) -> tuple[str, str]:
        got = compute(claim, ctx, params)
        return judge(claim, got)[0], format_value(got.value, claim.unit)

    return robustness(verdict, judge_alternatives(claim.computation, claim.readings, claim.params, run))


def evaluate(claims: list[Claim], context: ClaimContext, *, readings: bool = True) -> pd.DataFrame:
    """Compute every claim on one context: the ledger, one row per claim (``LEDGER_COLUMNS``),
    with ``parts`` kept in ``ledger.attrs["parts"]`` ({id: parts}).

    ``readings=False`` leaves ``robustness`` empty instead of recomputing each claim under its
    alternative readings (most of the ledger's cost), for a caller that reads only the values
    and verdicts (notebook 06's claims that moved between releases).
    """
    rows, parts = [], {}
    for c in claims:
        computed = compute(c, context)
        verdict, reason = judge(c, computed)
        parts[c.id] = computed.parts
        rows.append({
            "id": c.id, "group": c.group, "claim": c.claim, "stated": c.stated_text,
            "computed": format_value(computed.value, c.unit), "verdict": verdict,
            "robustness": claim_robustness(c, context, verdict) if readings else "", "reason": reason,
            "rule": c.rule, "threshold": c.threshold.describe() if c.threshold else "",
            "check": c.check, "source": c.source, "source_tier": c.source_tier, "tier_flag": c.tier_flag,
            "confidence": c.confidence,
            "stated_value": c.stated_value, "computed_value": computed.value, "unit": c.unit,
            "tolerance": c.tolerance.describe(), "computation": c.computation,
            "detail": computed.detail, "source_url": c.source_url, "our_test": c.our_test,
            "release": context.label,
        })
    ledger = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    ledger.attrs["parts"] = SharedDict(parts)
    return ledger


class SharedDict(dict):
    """A dict that ``copy.deepcopy`` returns as it is.

    pandas deep-copies a frame's ``attrs`` into every frame derived from it (each filter,
    column pick, row), so heavy read-only metadata kept there (the parts of every claim, the
    per-release ledgers) made every step on a ledger copy it all again: 0.6 s of notebook 05.
    The ledger's metadata is never changed after it is made, so derived frames share it.
    """

    def __deepcopy__(self, memo):
        return self


class SharedList(list):
    """A list that ``copy.deepcopy`` returns as it is (see :class:`SharedDict`)."""

    def __deepcopy__(self, memo):
        return self


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.1f}"


def explain_move(a: dict[str, float], b: dict[str, float], label_a: str, label_b: str, top: int = 4) -> str:
    """Which parts differ between two releases' computations of one claim, in words."""
    pieces = []
    for key in sorted(set(a) | set(b), key=lambda k: -abs(a.get(k, 0.0) - b.get(k, 0.0))):
        va, vb = a.get(key), b.get(key)
        if va is not None and vb is not None and math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-9):
            continue
        if vb is None:
            pieces.append(f"{key} in {label_a} only")
        elif va is None:
            pieces.append(f"{key} in {label_b} only")
        else:
            pieces.append(f"{key} {_num(vb)} -> {_num(va)}")
        if len(pieces) >= top:
            break
    return "; ".join(pieces)


def release_columns(label: str) -> tuple[str, str]:
    """The ledger's column names for one release."""
    return f"computed [{label}]", f"verdict [{label}]"


def _across(primary: Mapping, other: Mapping, parts_p: dict, parts_o: dict,
            label_p: str, label_o: str) -> str:
    if primary["verdict"] == other["verdict"] and primary["computed"] == other["computed"]:
        return ""
    head = (f"{label_o}: {other['computed']} ({other['verdict']}); "
            f"{label_p}: {primary['computed']} ({primary['verdict']})")
    if "not checkable" in (primary["verdict"], other["verdict"]):
        side = other if other["verdict"] == "not checkable" else primary
        return f"{head}. Not checkable in {side['release']}: {side['reason']}"
    moved = explain_move(parts_p, parts_o, label_p, label_o)
    return f"{head}. Moved by: {moved}" if moved else f"{head}. Same parts; rounding or spread moved the value."


def evaluate_releases(claims: list[Claim], contexts: list[ClaimContext], *, readings: bool = True) -> pd.DataFrame:
    """The ledger on every release at hand, side by side (primary release first).

    Returns the primary context's ledger plus, for every context, ``computed [label]`` and
    ``verdict [label]`` columns, and ``across_releases`` (empty where every release agrees).
    ``attrs["releases"]`` lists the labels in order, ``attrs["coverage"]`` their coverage
    sentences, ``attrs["per_release"]`` each release's own ledger. ``readings``: as :func:`evaluate`.
    """
    ledgers = [evaluate(claims, ctx, readings=readings) for ctx in contexts]
    main = ledgers[0].copy()
    labels = [ctx.label for ctx in contexts]
    for label, led in zip(labels, ledgers):
        col_c, col_v = release_columns(label)
        main[col_c] = led["computed"].to_numpy()
        main[col_v] = led["verdict"].to_numpy()
    notes = []
    rows = [led.to_dict("records") for led in ledgers]
    for i, primary in enumerate(rows[0]):
        cid = primary["id"]
        lines = [_across(primary, other[i], ledgers[0].attrs["parts"][cid], led.attrs["parts"][cid],
                         labels[0], label)
                 for label, led, other in zip(labels[1:], ledgers[1:], rows[1:])]
        notes.append(" | ".join(line for line in lines if line))
    main["across_releases"] = notes
    main.attrs = {"releases": labels, "coverage": [ctx.register_label for ctx in contexts],
                  "per_release": SharedList(ledgers), "parts": ledgers[0].attrs["parts"]}
    return main


def verdict_counts(ledger: pd.DataFrame, column: str = "verdict") -> dict[str, int]:
    """Number of claims per verdict, in the fixed order of :data:`VERDICTS`."""
    counts = ledger[column].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERDICTS}


def counts_by_release(ledger: pd.DataFrame) -> pd.DataFrame:
    """Claims per verdict class (rows) and release (columns) of an :func:`evaluate_releases` ledger."""
    labels = ledger.attrs.get("releases") or [ledger["release"].iloc[0] if len(ledger) else ""]
    data = {"verdict": list(VERDICTS)}
    for label in labels:
        col = release_columns(label)[1]
        data[label] = list(verdict_counts(ledger, col if col in ledger else "verdict").values())
    return pd.DataFrame(data)


def ledger_view(ledger: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader needs: the claim, the stated value, the rule, each release's value
    and verdict, the reason and what moved between releases."""
    releases = ledger.attrs.get("releases", [])
    per_release = [c for label in releases for c in release_columns(label)]
    cols = ["id", "claim", "stated", "rule", *per_release, "robustness", "reason", "threshold",
            "source_tier", "tier_flag", "across_releases", "detail"]
    return ledger[[c for c in cols if c in ledger]]


def summary_sentence(ledger: pd.DataFrame) -> str:
    """One sentence for the index: the counts per class on each release."""
    table = counts_by_release(ledger)
    parts = []
    for label in table.columns[1:]:
        counts = dict(zip(table["verdict"], table[label]))
        where = "without a SIPRI register" if label == "no SIPRI register" else f"on {label}"
        parts.append(f"{where}: {class_counts_text(counts)}")
    fragile = int(ledger["robustness"].astype(str).str.startswith("fragile").sum()) if "robustness" in ledger else 0
    tail = (f" On {table.columns[1]}, {fragile} verdict{'s' * (fragile != 1)} "
            f"{'flip' if fragile != 1 else 'flips'} under another reasonable reading (see robustness).")
    return f"Of {len(ledger)} claims, " + "; ".join(parts) + "." + (tail if fragile else "")


def class_counts_text(counts: Mapping[str, int]) -> str:
    """``8 reproduced, 14 transcribed, ...``: the counts per class in :data:`VERDICTS` order."""
    words = {"differs": "differ"}
    return ", ".join(f"{counts.get(v, 0)} {words.get(v, v)}" for v in VERDICTS)
