"""Country names -> one canonical state, with ISO code, successor, Cold-War bloc and kind.

Methodology
-----------
Sources name the same country in many ways ("USSR", "Soviet Union", "Russian Federation",
"PRC", "Czech Rep.", "FRG", SIPRI's "Turkiye" ...). The committed table
``data/raw/country_crosswalk.csv`` maps every spelling met to one **canonical state as it
existed when the item was made or the deal was struck**. Matching is case-insensitive after
trimming spaces; nothing else is fuzzy. An unknown name is **never guessed**: it raises
:class:`UnknownCountryError`, which carries the closest known names (``difflib``) so the user
can add a row to the crosswalk or fix the spelling.

Why the Soviet Union and Russia are kept apart (the default)
    A Kalashnikov made in 1975 came from the Soviet Union, a state that no longer exists and
    whose arsenals were spread over fifteen republics. Counting it under "Russia" would make
    Russia look like the supplier of material it never exported as Russia. The same holds for
    Yugoslavia (SFRY, ISO 3166-3 ``YUG``; successor here: Serbia), Czechoslovakia (``CSK``;
    successor Czechia) and East Germany (``DDR``; successor Germany). Former states carry their
    ISO 3166-3 code.

What folding does
    ``lookup(..., fold_successors=True)`` replaces a former state by its successor (Soviet
    Union -> Russia, Yugoslavia -> Serbia, Czechoslovakia -> Czechia, East Germany -> Germany),
    including the ISO code and bloc of the successor. Use it to compare with sources that do
    that themselves (CAR 2014 counts "USSR plus Russian Federation" together).

Germany
    "West Germany", "FRG" and "Germany" are one state (``DEU``): the Federal Republic is
    legally the same state before and after 1990, and SIPRI writes ``Germany`` for West
    Germany before 1990 too. East Germany is a separate former state.

Blocs (``bloc`` column)
    The Cold-War alignment of the state, used for era analysis: ``Warsaw Pact`` (its members,
    the Soviet Union's republics, and the successor states of members such as Russia, Czechia,
    Slovakia: they inherit the bloc of their predecessor, because the stock they sell or lose
    was mostly built in that era), ``NATO`` (states that were members during the Cold War, i.e.
    by 1982; later members keep their Cold-War bloc, so Romania and Poland are ``Warsaw Pact``),
    ``China``, and ``non-aligned/other`` (everything else: Yugoslavia and its successors,
    Albania after 1968, Iraq, Iran, Cuba, ...). This is a coarse label for charts, not a
    statement about any deal. The crosswalk has a joint entry, ``France/Germany (joint)``
    (kind ``joint``, code ``XFG``, bloc NATO), for a source that names the pair as one maker;
    it is not counted as a country. The committed Amnesty catalogue does not use it: it writes
    each joint Franco-German design (MILAN, HOT) as two rows, one per partner state (France,
    Germany), so a count of item types by country of design counts each design once per
    partner (MILAN and HOT are 4 of the catalogue's 48 item-type rows, not 2).

Kinds and made-up codes
    ``kind`` is ``state``, ``non-state`` (SIPRI's trailing ``*``, the Islamic State's
    improvised items; code ``XNS``), ``organisation`` (SIPRI's ``**``; ``XIO``), ``joint``
    (``XFG``) or ``unknown`` (``unknown supplier(s)``; ``XUN``; "various": ``XVA``). Entities
    with no ISO code use ``X..`` codes: Kosovo ``XKX`` (the code in common use), Northern
    Cyprus ``XNC``, South Vietnam ``XSV``, Biafra ``XBI``, Katanga ``XKT``. North Yemen shares
    ``YEM`` with today's Yemen (ISO 3166-3 kept that code for the united state).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from takingstock.core import paths

CROSSWALK_PATH = paths.RAW / "country_crosswalk.csv"
COLUMNS = ["name", "state", "iso", "successor", "bloc", "kind"]
BLOCS = ("Warsaw Pact", "NATO", "China", "non-aligned/other")
KINDS = ("state", "non-state", "organisation", "joint", "unknown")
UNKNOWN = "unknown"


class UnknownCountryError(KeyError):
    """A country name that is not in the crosswalk; ``.suggestions`` holds the closest names."""

    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown country {name!r} (not in the country crosswalk){hint}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class CrosswalkError(ValueError):
    """The crosswalk file itself is unusable (missing column, duplicate name, bad bloc...)."""


@dataclass(frozen=True)
class CountryRecord:
    """One resolved name: the canonical state and its attributes."""

    name: str
    state: str
    iso: str
    successor: str
    bloc: str
    kind: str


#: Entities that were (or claim to be) states but have no ISO 3166 code; they use X.. codes.
NO_ISO_STATES = frozenset({"Kosovo", "Northern Cyprus", "South Vietnam", "Biafra", "Katanga"})


def _key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


class Crosswalk:
    """The country crosswalk table, indexed by the folded spelling."""

    def __init__(self, table: pd.DataFrame, source: str = "<table>"):
        self.source = source
        self.table = _validate(table, source)
        self._by_key = self.table.assign(_k=self.table["name"].map(_key)).set_index("_k")
        states = self.table.drop_duplicates("state").set_index("state")
        self._state_rows = states

    @property
    def names(self) -> list[str]:
        """Every spelling the crosswalk knows."""
        return list(self.table["name"])

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """The closest known spellings to ``name`` (difflib, case-insensitive)."""
        keys = list(self._by_key.index)
        close = difflib.get_close_matches(_key(name), keys, n=n, cutoff=0.6)
        return [self._by_key.at[k, "name"] for k in close]

    def resolve(self, name: str) -> CountryRecord:
        """Return the record for ``name``; raise :class:`UnknownCountryError` if unknown."""
        k = _key(name)
        if not k or k not in self._by_key.index:
            raise UnknownCountryError(str(name), self.suggest(str(name)))
        row = self._by_key.loc[k]
        return CountryRecord(row["name"], row["state"], row["iso"], row["successor"],
                             row["bloc"], row["kind"])

    def fold(self, record: CountryRecord) -> CountryRecord:
        """The record of ``record``'s successor state (itself for a current state)."""
        if record.successor == record.state:
            return record
        succ = self._state_rows.loc[record.successor]
        return CountryRecord(record.name, record.successor, succ["iso"], record.successor,
                             succ["bloc"], succ["kind"])

    def lookup(self, series: pd.Series, fold_successors: bool = False,
               errors: str = "raise") -> pd.DataFrame:
        """Resolve a whole column at once (each distinct value is looked up once).

        Args:
            series: names; empty strings and missing values give the ``unknown`` entry.
            fold_successors: replace former states by their successor states.
            errors: ``"raise"`` (first unknown name raises) or ``"mark"`` (unknown names get
                all-missing attributes and an ``error`` column with the message).

        Returns:
            A DataFrame on ``series``' index with columns state, iso, bloc, successor, kind
            (plus ``error`` when ``errors="mark"``).
        """
        values = series.astype("string").fillna("").str.strip()
        resolved: dict[str, dict] = {}
        for value in pd.unique(values):
            try:
                rec = self.resolve(value if value else UNKNOWN)
                if fold_successors:
                    rec = self.fold(rec)
                resolved[value] = {"state": rec.state, "iso": rec.iso, "bloc": rec.bloc,
                                   "successor": rec.successor, "kind": rec.kind, "error": ""}
            except UnknownCountryError as exc:
                if errors == "raise":
                    raise
                resolved[value] = {"state": pd.NA, "iso": pd.NA, "bloc": pd.NA,
                                   "successor": pd.NA, "kind": pd.NA, "error": str(exc)}
        table = pd.DataFrame.from_dict(resolved, orient="index")
        if table.empty:
            table = pd.DataFrame(columns=["state", "iso", "bloc", "successor", "kind", "error"])
        codes = pd.Index(table.index).get_indexer(values)
        out = table.iloc[codes].set_axis(series.index)
        out = out.astype("string")
        return out if errors == "mark" else out.drop(columns="error")


def _validate(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check the crosswalk's own integrity; return it with trimmed string cells."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise CrosswalkError(f"{source}: missing column(s) {missing}")
    t = table[COLUMNS].astype("string").fillna("")
    t = t.apply(lambda col: col.str.strip())
    problems = []
    for i, *cells in zip(t.index, *(t[col].tolist() for col in COLUMNS)):  # plain values: iterrows took 0.2 s
        line, row = i + 2, dict(zip(COLUMNS, cells))
        for col in COLUMNS:
            if not row[col]:
                problems.append(f"row {line}: column {col} is empty")
        if row["bloc"] and row["bloc"] not in BLOCS:
            problems.append(f"row {line}: bloc {row['bloc']!r} not one of {BLOCS}")
        if row["kind"] and row["kind"] not in KINDS:
            problems.append(f"row {line}: kind {row['kind']!r} not one of {KINDS}")
    keys = t["name"].map(_key)
    for k in keys[keys.duplicated()]:
        problems.append(f"name {k!r} appears more than once")
    states = set(t["state"])
    for succ in set(t["successor"]) - states:
        problems.append(f"successor {succ!r} is not itself a state in the table")
    per_state = t.drop_duplicates(["state", "iso", "successor", "bloc", "kind"])
    for s in per_state["state"][per_state["state"].duplicated()]:
        problems.append(f"state {s!r} has rows with different iso/successor/bloc/kind")
    if problems:
        raise CrosswalkError(f"{source}: " + "; ".join(problems[:20]))
    return t.reset_index(drop=True)


def iso_problems(crosswalk: Crosswalk) -> list[str]:
    """Check every ISO code of the crosswalk against ISO 3166 as pycountry ships it.

    - a current state (its own successor) must have an ISO 3166-1 alpha-3 code;
    - a former state (successor differs) must have an ISO 3166-3 code (pycountry's historic
      countries: SUN, YUG, CSK, DDR, SCG ...) or share its successor's current code (North
      Yemen -> YEM, as ISO 3166-3 kept that code for the united state);
    - our own ``X..`` codes are allowed only for kinds other than ``state``, or for entities
      with no ISO code (Kosovo, Northern Cyprus, South Vietnam, Biafra, Katanga).

    Returns:
        One message per problem (empty when every code checks out).
    """
    import pycountry  # lazy: only the maintainers' check needs it

    problems = []
    for row in crosswalk.table.drop_duplicates("state").itertuples(index=False):
        if row.iso.startswith("X"):
            if row.kind == "state" and row.state not in NO_ISO_STATES:
                problems.append(f"{row.state}: made-up code {row.iso} for a state")
            continue
        current = pycountry.countries.get(alpha_3=row.iso)
        former = pycountry.historic_countries.get(alpha_3=row.iso)
        if row.successor == row.state and current is None:
            problems.append(f"{row.state}: {row.iso} is not an ISO 3166-1 alpha-3 code")
        if row.successor != row.state and former is None and current is None:
            problems.append(f"{row.state}: former state with {row.iso}, not an ISO 3166-3 code")
    return problems


def is_state_code(iso) -> pd.Series:
    """True where ``iso`` is a real ISO 3166 alpha-3 code (current or former state).

    Our own ``X..`` codes (non-state actors, organisations, unknown, joint designs: the module
    docstring's "Kinds and made-up codes") and empty values are not states. A rule of the
    crosswalk's codes, so it lives here, where the data layer (:mod:`takingstock.data.att`) and
    the analyses can both use it. Vectorised: takes any sequence, returns a boolean Series.
    """
    codes = pd.Series(iso, dtype="string").fillna("")
    return (codes.str.len() == 3) & codes.str.isalpha() & ~codes.str.upper().str.startswith("X")


def load_crosswalk(path: str | Path | None = None) -> Crosswalk:
    """Read and check the crosswalk CSV (default ``data/raw/country_crosswalk.csv``)."""
    path = Path(path) if path is not None else CROSSWALK_PATH
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise CrosswalkError(f"{path}: country crosswalk not found") from None
    return _read_crosswalk(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _read_crosswalk(path: str, mtime_ns: int, size: int) -> Crosswalk:
    """One read and check per file version (its path, change time and size) in a process;
    callers only read the returned crosswalk."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except FileNotFoundError:
        raise CrosswalkError(f"{path}: country crosswalk not found") from None
    return Crosswalk(table, path)
