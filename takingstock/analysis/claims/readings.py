"""Alternative readings of a claim, and whether its verdict survives them.

A claim's words rarely fix one computation. "Supplied Iraq in 2005-2014" may mean a delivery
in those years, an order, or either; "the decade before the report" may be 2004-2013 or
2006-2015; a TIV total may spread each deal's TIV over its delivery years or count the whole
deal once it delivers in the window; "importers" may be states only or every recipient. Each
claim lists in ``claims.yml`` (``readings``) the kinds of alternative that are reasonable for
it, among those its computation can compute (``Spec.readings``):

* ``window``  - every year window of the claim (``years``) shifted one year earlier and later;
* ``basis``   - delivery / order / either, the other two beside the claim's own;
* ``tiv``     - TIV spread evenly over delivery years / the whole TIV of each deal delivered in
  the window;
* ``parties`` - states only / every party the register names (non-state recipients or
  suppliers).

:func:`robustness` recomputes the claim under each alternative, one change at a time, and says
*robust* (every alternative gives the same verdict; the values they give are listed) or
*fragile: flips to X under Y* naming each alternative that changes the verdict and its value. An alternative the data at hand cannot
compute (a shifted window outside the export's years) is left out and named.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["alternatives", "robustness", "ROBUST", "NO_READINGS"]

ROBUST = "robust"
NO_READINGS = "no alternative reading declared"

_BASIS_WORDS = {"delivery": "deliveries", "order": "orders", "either": "orders or deliveries"}
#: The default of ``parties`` for each computation that reads it (what the claim's own reading is).
_PARTIES_DEFAULT = {"count_suppliers": "states"}


def alternatives(computation: str, kinds: tuple[str, ...], params: dict) -> list[tuple[str, dict]]:
    """``(label, params)`` for every alternative reading of ``kinds`` (one change each)."""
    out: list[tuple[str, dict]] = []
    first, last = params["years"] if "years" in params else (None, None)
    for kind in kinds:
        if kind == "window":
            for step in (-1, 1):
                f, l = first + step, last + step
                out.append((f"window {f}-{l}", {**params, "years": [f, l]}))
        elif kind == "basis":
            own = params.get("basis", "delivery")
            out += [(f"{_BASIS_WORDS[b]} in {first}-{last}", {**params, "basis": b})
                    for b in ("delivery", "order", "either") if b != own]
        elif kind == "tiv":
            whole = params.get("tiv", "spread") == "whole"
            out.append(("TIV spread over delivery years" if whole else "whole-deal TIV",
                        {**params, "tiv": "spread" if whole else "whole"}))
        elif kind == "parties":
            own = params.get("parties", _PARTIES_DEFAULT.get(computation, "all"))
            alt = "all" if own == "states" else "states"
            out.append(("every party, non-state ones included" if alt == "all" else "states only",
                        {**params, "parties": alt}))
    return out


def robustness(verdict: str, alternatives_judged: list[tuple[str, str, str]]) -> str:
    """The robustness label of ``verdict`` from ``(label, verdict, value shown)`` per alternative.

    ``not checkable`` alternatives (the data does not cover them) neither confirm nor flip: they
    are named apart.
    """
    if not alternatives_judged:
        return NO_READINGS
    flips: dict[str, list[str]] = {}
    uncovered = []
    for label, alt, shown in alternatives_judged:
        if alt == "not checkable":
            uncovered.append(label)
        elif alt != verdict:
            flips.setdefault(alt, []).append(f"{label} ({shown})")
    tail = f" ({', '.join(uncovered)}: not covered)" if uncovered else ""
    if not flips:
        n = len(alternatives_judged) - len(uncovered)
        values = list(dict.fromkeys(shown for label, alt, shown in alternatives_judged if alt != "not checkable"))
        return (f"{ROBUST} under {n} alternative reading{'s' * (n != 1)} (values: {'; '.join(values)}){tail}"
                if n else f"untested{tail}")
    return "fragile: " + "; ".join(f"flips to {v} under {', '.join(ls)}" for v, ls in flips.items()) + tail


def judge_alternatives(computation: str, kinds: tuple[str, ...], params: dict,
                       run: Callable[[dict], tuple[str, str]]) -> list[tuple[str, str, str]]:
    """``(label, verdict, value shown)`` of each alternative, ``run(params)`` giving the last two."""
    return [(label, *run(alt)) for label, alt in alternatives(computation, kinds, params)]
