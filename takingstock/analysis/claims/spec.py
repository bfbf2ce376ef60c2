"""The claims file (``data/raw/claims.yml``): what a claim says, and how it is read and checked.

A claim is the report's (or a study's) statement in our words, the value as stated with its
unit, where it was stated and how sure we are that the source says it (R, PR, N, derived), the
dataset that can test it, the *name* of the computation (:mod:`.computations`) and an explicit
tolerance. Two fields keep the ledger honest:

* ``check: transcribed`` marks a claim tested against data that was itself typed in from the
  same source (the CAR shares against the catalogue rows transcribed from those shares, the
  report's coverage against the catalogue rebuilt from that coverage). Agreement then says
  "the rows add up to what the source publishes", not "independent data agrees": its verdict
  is *transcribed*, never *reproduced* (see :mod:`.verdicts`).
* ``our_test`` says in words which threshold *we* chose where the source gives no figure
  ("imports decreased"), so our number is never mistaken for the source's; ``threshold``
  records its rationale, the date it was set and whether before or after the value was seen.

Three more fields feed the verdict and its robustness: ``measures`` says what the claim counts
where that is more or other than its data counts (:data:`MEASURE_TERMS`: all arms, states and
firms, money), so the ledger can say *not comparable*; ``readings`` lists the alternative
readings to recompute it under (:data:`READING_KINDS`); ``source.ids`` names the sources of
``sources.csv`` behind the stated figure, whose best tier the ledger shows
(:mod:`takingstock.data.sourcetiers`). The top-level ``partial_catalogues`` names catalogues holding
only part of what their source counted: a count over them is a lower bound.

Year windows (``years``, ``baseline``, ``span``) are either ``[first, last]`` or the id of a
window in ``data/raw/windows.csv``; country groups (``group``) are ids in
``data/raw/country_groups.csv``. Both are resolved when the file is loaded, so a wrong id stops
the load naming the claim and the field.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from takingstock.core import paths
from takingstock.data import sourcetiers
from takingstock.data.runcontext import WindowError, load_windows_table
from .computations import COMPUTATIONS

__all__ = [
    "ClaimsError", "Tolerance", "Claim", "Threshold", "load_claims", "load_windows", "load_groups",
    "TOLERANCE_KINDS", "CONFIDENCE_TAGS", "CHECK_KINDS", "CLAIMS_FILE", "WINDOWS_FILE",
    "GROUPS_FILE", "MEASURE_TERMS", "READING_KINDS", "measure_relation",
]

TOLERANCE_KINDS = ("absolute", "relative", "at_least", "greater_than", "at_most", "less_than")
CONFIDENCE_TAGS = ("R", "PR", "N", "derived")
CHECK_KINDS = ("independent", "transcribed")
#: What a claim may say it counts (``measures`` in ``claims.yml``), by dimension: each term
#: maps to the narrower terms it contains. A dataset that counts a narrower term counts *part*
#: of what the claim counts; a term neither equal nor contained is *another* quantity.
MEASURE_TERMS: dict[str, dict[str, tuple[str, ...]]] = {
    "arms": {"all arms": ("major conventional weapons", "small arms and light weapons"),
             "major conventional weapons": (), "small arms and light weapons": ()},
    "suppliers": {"states and firms": ("states",), "states": ()},
    "value": {"money": (), "TIV": ()},
}
#: The alternative readings a claim may declare (``readings`` in ``claims.yml``).
READING_KINDS = ("window", "basis", "tiv", "parties")
SET_WHEN = ("before", "after")
REQUIRED_FIELDS = ("id", "group", "claim", "stated", "source", "dataset", "computation", "tolerance")
WINDOW_KEYS = ("years", "baseline", "span")

CLAIMS_FILE = paths.RAW / "claims.yml"
SOURCES_FILE = paths.RAW / "sources.csv"
WINDOWS_FILE = paths.RAW / "windows.csv"
GROUPS_FILE = paths.RAW / "country_groups.csv"


class ClaimsError(ValueError):
    """A claims, windows, groups or accepted-verdicts file is malformed (names claim/row and field)."""


@dataclass(frozen=True)
class Tolerance:
    """How close a computed value must be to the stated one.

    ``absolute`` (|computed - stated| <= value), ``relative`` (<= value x |stated|),
    ``at_least`` (computed >= stated), ``greater_than``, ``at_most``, ``less_than``.
    Percentages are in percent (0-100): an absolute tolerance of 1 is one percentage point.
    """

    kind: str
    value: float = 0.0

    def accepts(self, stated: float, computed: float) -> bool:
        """True when ``computed`` satisfies this tolerance against ``stated``."""
        gap, eps = abs(computed - stated), 1e-9
        return {
            "absolute": lambda: gap <= self.value + eps,
            "relative": lambda: gap <= self.value * abs(stated) + eps,
            "at_least": lambda: computed >= stated - eps,
            "greater_than": lambda: computed > stated,
            "at_most": lambda: computed <= stated + eps,
            "less_than": lambda: computed < stated,
        }[self.kind]()

    def describe(self) -> str:
        """A short human-readable form, e.g. ``±1`` or ``>= stated``."""
        return {
            "absolute": f"±{self.value:g}", "relative": f"±{self.value * 100:g}%",
            "at_least": ">= stated", "greater_than": "> stated",
            "at_most": "<= stated", "less_than": "< stated",
        }[self.kind]


def measure_relation(dimension: str, claimed: str, data: str) -> str:
    """``same``, ``part`` (the data counts part of what the claim counts) or ``other``."""
    if claimed == data:
        return "same"
    return "part" if data in MEASURE_TERMS[dimension].get(claimed, ()) else "other"


@dataclass(frozen=True)
class Threshold:
    """The record of a threshold we chose (``our_test``): why, when, and whether the value
    it tests was already known when it was set."""

    rationale: str
    set_on: str
    set_when: str

    def describe(self) -> str:
        return (f"threshold set {self.set_on}, {self.set_when} the value was seen: {self.rationale}")


@dataclass(frozen=True)
class Claim:
    """One entry of ``claims.yml``, with its windows and groups resolved."""

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
    check: str = "independent"
    transcribed_from: str = ""
    measures: dict = field(default_factory=dict)
    readings: tuple = ()
    threshold: Threshold | None = None
    source_ids: tuple = ()
    source_tier: str = ""
    tier_flag: str = ""

    @property
    def rule(self) -> str:
        """The test in words: our threshold if we chose one, else the tolerance."""
        return self.our_test or f"computed {self.tolerance.describe()} ({self.stated_text})"


# --------------------------------------------------------------------------- windows, groups


def _read_rows(path: Path, needed: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in needed if c not in (reader.fieldnames or [])]
            if missing:
                raise ClaimsError(f"{path}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except FileNotFoundError as exc:
        raise ClaimsError(f"{path}: file not found") from exc


def load_windows(path: str | Path = WINDOWS_FILE) -> dict[str, tuple[int, int]]:
    """``{window_id: (first, last)}`` from the windows file (``takingstock.data.runcontext``'s reader)."""

    try:
        return {wid: (w.first, w.last) for wid, w in load_windows_table(path).items()}
    except WindowError as exc:
        raise ClaimsError(str(exc)) from exc


def load_groups(path: str | Path = GROUPS_FILE) -> dict[str, dict[str, str]]:
    """``{group_id: {iso: member}}`` from the country-groups file, in file order.

    A member may have several codes: the Soviet Union (``SUN``) stands for Russia among the
    permanent members of the Security Council, so a deal of either counts for one member.
    """
    path = Path(path)
    out: dict[str, dict[str, str]] = {}
    for n, row in enumerate(_read_rows(path, ("group_id", "member", "iso", "source_url")), start=2):
        if not row["source_url"].strip():
            raise ClaimsError(f"{path}, row {n}, column 'source_url': empty")
        out.setdefault(row["group_id"].strip(), {})[row["iso"].strip()] = row["member"].strip()
    return out


# --------------------------------------------------------------------------- claims file


def _fail(path: Path, claim_id: str, fieldname: str, message: str) -> ClaimsError:
    return ClaimsError(f"{path}: claim {claim_id!r}, field {fieldname!r}: {message}")


def _resolve_window(value: Any, windows: dict[str, tuple[int, int]], path: Path, cid: str, key: str) -> list[int]:
    if isinstance(value, str):
        if value not in windows:
            raise _fail(path, cid, f"params.{key}",
                        f"unknown window {value!r}; known: {', '.join(sorted(windows))}")
        return list(windows[value])
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(y, int) and not isinstance(y, bool) for y in value)):
        raise _fail(path, cid, f"params.{key}", f"needs [first, last] years or a window id, got {value!r}")
    if value[0] > value[1]:
        raise _fail(path, cid, f"params.{key}", f"first year {value[0]} is after the last {value[1]}")
    return list(value)


def _check_mapping(raw: dict, cid: str, path: Path) -> None:
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
    ids = source.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise _fail(path, cid, "source.ids", "a list of the sources.csv ids behind the stated figure")
    tol = raw["tolerance"]
    if not isinstance(tol, dict) or tol.get("kind") not in TOLERANCE_KINDS:
        raise _fail(path, cid, "tolerance", f"needs 'kind' in {TOLERANCE_KINDS}")
    if tol["kind"] in ("absolute", "relative") and (
            not isinstance(tol.get("value"), (int, float)) or tol["value"] < 0):
        raise _fail(path, cid, "tolerance.value", "needs a number >= 0")
    if raw.get("check", "independent") not in CHECK_KINDS:
        raise _fail(path, cid, "check", f"must be one of {CHECK_KINDS}")
    if raw.get("check") == "transcribed" and not raw.get("transcribed_from"):
        raise _fail(path, cid, "transcribed_from", "say which data was typed in from the claim's source")
    measures = raw.get("measures") or {}
    if not isinstance(measures, dict):
        raise _fail(path, cid, "measures", "must be a mapping of dimension: term")
    for dim, term in measures.items():
        if dim not in MEASURE_TERMS:
            raise _fail(path, cid, f"measures.{dim}", f"unknown dimension; known: {', '.join(MEASURE_TERMS)}")
        if term not in MEASURE_TERMS[dim]:
            raise _fail(path, cid, f"measures.{dim}",
                        f"unknown term {term!r}; known: {', '.join(MEASURE_TERMS[dim])}")
    readings = raw.get("readings") or []
    if not isinstance(readings, list) or any(r not in READING_KINDS for r in readings):
        raise _fail(path, cid, "readings", f"a list of {READING_KINDS}")
    if raw.get("our_test"):
        thr = raw.get("threshold")
        if not isinstance(thr, dict) or not all(thr.get(k) for k in ("rationale", "set_on", "set_when")):
            raise _fail(path, cid, "threshold",
                        "an our_test needs threshold: {rationale, set_on (YYYY-MM-DD), set_when (before|after)}")
        if thr["set_when"] not in SET_WHEN:
            raise _fail(path, cid, "threshold.set_when", f"must be one of {SET_WHEN}")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(thr["set_on"])):
            raise _fail(path, cid, "threshold.set_on", f"needs a YYYY-MM-DD date, got {thr['set_on']!r}")


def _parse_claim(raw: Any, index: int, path: Path, windows: dict, groups: dict,
                 partial: dict[str, str], sources) -> Claim:
    """Validate one YAML mapping and turn it into a :class:`Claim`."""

    if not isinstance(raw, dict):
        raise ClaimsError(f"{path}: entry {index + 1} is not a mapping")
    cid = str(raw.get("id") or f"#{index + 1}")
    if "id" in raw and not isinstance(raw["id"], str):
        raise _fail(path, cid, "id", "must be text (quote it: YAML reads e.g. off/no/1 otherwise)")
    _check_mapping(raw, cid, path)
    computation = raw["computation"]
    if computation not in COMPUTATIONS:
        raise _fail(path, cid, "computation",
                    f"unknown function {computation!r}; known: {', '.join(sorted(COMPUTATIONS))}")
    spec = COMPUTATIONS[computation]
    value = raw["stated"].get("value")
    if computation != "not_checkable" and value is None:
        raise _fail(path, cid, "stated.value", "a computed claim needs a numeric stated value")
    if computation == "not_checkable" and not raw.get("settle_with"):
        raise _fail(path, cid, "settle_with", "say which data would settle this claim")
    if computation != "not_checkable" and not raw.get("reason_if_differs"):
        raise _fail(path, cid, "reason_if_differs", "give the most likely reason for a gap")
    params = dict(raw.get("params") or {})
    if not isinstance(raw.get("params") or {}, dict):
        raise _fail(path, cid, "params", "must be a mapping")
    for need in spec.params:
        options = need if isinstance(need, tuple) else (need,)
        if not any(o in params for o in options):
            raise _fail(path, cid, f"params.{'|'.join(options)}",
                        f"missing ({computation} needs {' or '.join(map(repr, options))})")
    unsupported = [r for r in raw.get("readings") or [] if r not in spec.readings]
    if unsupported:
        raise _fail(path, cid, "readings", f"{computation} has no {', '.join(unsupported)} reading "
                                           f"(it has: {', '.join(spec.readings) or 'none'})")
    data_terms = spec.data_measures()
    for dim in raw.get("measures") or {}:
        if dim not in data_terms:
            raise _fail(path, cid, f"measures.{dim}", f"{computation}'s data says nothing of {dim}")
    unknown = [i for i in raw["source"]["ids"] if i not in sources.index]
    if unknown:
        raise _fail(path, cid, "source.ids", f"not in sources.csv: {', '.join(unknown)}")
    if params.get("catalogue") in partial:
        params["catalogue_partial"] = partial[params["catalogue"]]
    for key in WINDOW_KEYS:
        if key in params:
            params[key] = _resolve_window(params[key], windows, path, cid, key)
    for key in ("group", "supplier_group"):
        if key in params:
            if params[key] not in groups:
                raise _fail(path, cid, f"params.{key}",
                            f"unknown country group {params[key]!r}; known: {', '.join(sorted(groups))}")
            params[f"{key}_members"] = dict(groups[params[key]])
    tol = raw["tolerance"]
    return Claim(
        id=cid, group=str(raw["group"]), claim=str(raw["claim"]).strip(),
        stated_value=None if value is None else float(value), stated_text=str(raw["stated"]["text"]),
        unit=str(raw["stated"]["unit"]), source=str(raw["source"]["name"]),
        source_url=str(raw["source"]["url"]), confidence=str(raw["source"]["confidence"]),
        dataset=str(raw["dataset"]), computation=computation,
        tolerance=Tolerance(tol["kind"], float(tol.get("value") or 0)), params=params,
        reason_if_differs=str(raw.get("reason_if_differs") or "").strip(),
        settle_with=str(raw.get("settle_with") or "").strip(),
        our_test=str(raw.get("our_test") or "").strip(),
        check=str(raw.get("check") or "independent"),
        transcribed_from=str(raw.get("transcribed_from") or "").strip(),
        measures=dict(raw.get("measures") or {}), readings=tuple(raw.get("readings") or ()),
        source_ids=tuple(raw["source"]["ids"]),
        source_tier=sourcetiers.tier_label(raw["source"]["ids"], sources),
        tier_flag=sourcetiers.tier_flag(raw["source"]["ids"], sources),
        threshold=(Threshold(str(raw["threshold"]["rationale"]).strip(), str(raw["threshold"]["set_on"]),
                             raw["threshold"]["set_when"]) if raw.get("our_test") else None),
    )


def _beside(path: Path, default: Path) -> Path:
    """The file named like ``default`` beside ``path`` if there is one, else ``default``."""
    own = path.with_name(default.name)
    return own if own.is_file() else default


def load_claims(path: str | Path = CLAIMS_FILE, windows_path: str | Path | None = None,
                groups_path: str | Path | None = None, sources_path: str | Path | None = None) -> list[Claim]:
    """Read and validate ``claims.yml``; raise :class:`ClaimsError` naming the claim and field.

    Args:
        path: the claims file.
        windows_path, groups_path, sources_path: the windows, country-groups and sources files
            (default: beside ``path`` when there, else the committed ones: a user's raw folder
            may bring its own).
    """
    path = Path(path)
    windows = load_windows(windows_path or _beside(path, WINDOWS_FILE))
    groups = load_groups(groups_path or _beside(path, GROUPS_FILE))
    try:
        sources = sourcetiers.load_sources(sources_path or _beside(path, SOURCES_FILE))
    except sourcetiers.SourcesError as exc:
        raise ClaimsError(str(exc)) from exc
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ClaimsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
        raise ClaimsError(f"{path}: expected a top-level 'claims:' list")
    partial = doc.get("partial_catalogues") or {}
    if not isinstance(partial, dict) or not all(isinstance(v, str) and v.strip() for v in partial.values()):
        raise ClaimsError(f"{path}: 'partial_catalogues' must map a catalogue id to the reason it is partial")
    claims = [_parse_claim(raw, i, path, windows, groups, partial, sources) for i, raw in enumerate(doc["claims"])]
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            raise _fail(path, c.id, "id", "duplicate id")
        seen.add(c.id)
    return claims
