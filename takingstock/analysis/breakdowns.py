"""Country-of-origin and era breakdowns of the processed catalogue (vectorised).

What is counted
---------------
Every breakdown sums the processed catalogue's ``count`` column: the ``quantity`` of a row
where the source gives one, else 1. What one unit *is* depends on the catalogue:

* ``amnesty_2015`` (the report's catalogue): one row per **item type** x country of
  manufacture, with no quantities; a share is a share of *documented item types*, not of
  weapons in the field. Twenty Kalashnikovs and one MANPADS type weigh the same.
* ``car_2014_ammunition``: **cartridges** examined by Conflict Armament Research in 2014
  (1,730, with the unattributed remainder kept as an explicit "unknown" row).
* ``car_2017_weapons``: **weapons** documented by CAR (1,832); most counts are derived by us
  from the published shares (``count_basis = derived``) and are good to about one weapon.
* a user's own catalogue: whatever its rows are (one row per item, ``quantity`` 1).

Shares are therefore **not comparable across catalogues**: 25% of item types, 25% of a sample
of cartridges and 25% of a sample of weapons measure different things, from different places
and dates. Notebooks show each catalogue on its own and name the unit in every title.

Rules
-----
* ``share`` columns are percentages (0-100) of the catalogue's total count, **unknown
  included** in the total; the "unknown" row is shown, never dropped.
* The number of distinct countries counts distinct canonical states with a real ISO code
  (current or former). "unknown" and made-up ``X..`` codes (non-state producers such as the
  Islamic State's improvised weapons, joint Franco-German designs, "various") are **not**
  counted; ``distinct_countries`` says what it left out.
* Successor folding (``fold_successors=True``) replaces former states by their successors
  (Soviet Union -> Russia...) through the crosswalk, bloc included, before counting.
* Blocs: the crosswalk's Cold-War bloc of the state; rows of unknown origin get the bloc
  ``"unknown"`` (not the crosswalk's filler bloc for the "unknown" entry).
* Published vs recomputed: for rows with ``share_published``, we recompute the share from the
  counts (count / catalogue total) and show both, with the difference in percentage points.
* EU membership is the 28 member states of 2017 (the year of the CAR 2017 report),
  ``EU_MEMBERS_2017``; former states (Czechoslovakia, East Germany) are not members.
* Year range: rows are kept when their midpoint year ``year_mid`` lies in the range; with a
  bound set, rows of unknown year cannot be placed and are left out. The filter records what
  it left out in ``frame.attrs["year_filter"]`` and ``year_filter_note`` says it in words.

Listings that explain rows (:func:`rows_by`)
--------------------------------------------
A table that says *why* some rows are left out (no era of design, no SIPRI deal) is published
one line per distinct explanation (a designation and its reason), not one line per catalogue
row: ``rows`` and ``count`` (units) say how many it explains, ``record_ids`` names them (the
first :data:`LISTED_IDS` in file order, then how many more). A catalogue of 10^6 rows gives a
table of as many lines as it has distinct designations; the processed catalogue keeps every
row with its reason.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from takingstock.data.countries import Crosswalk, is_state_code, load_crosswalk

UNKNOWN = "unknown"
OTHER = "other"
ROLES = ("manufacture", "design")

# Units counted per catalogue id (for titles); anything else counts "items".
UNITS = {
    "amnesty_2015": "item types",
    "car_2014_ammunition": "cartridges",
    "car_2017_weapons": "weapons",
}

# The 28 member states of the European Union in 2017, ISO 3166-1 alpha-3 code -> canonical
# crosswalk name. The one list of the project: ``claims`` and any other module import it.
EU_MEMBERS_2017_BY_ISO = {
    "AUT": "Austria", "BEL": "Belgium", "BGR": "Bulgaria", "HRV": "Croatia", "CYP": "Cyprus",
    "CZE": "Czechia", "DNK": "Denmark", "EST": "Estonia", "FIN": "Finland", "FRA": "France",
    "DEU": "Germany", "GRC": "Greece", "HUN": "Hungary", "IRL": "Ireland", "ITA": "Italy",
    "LVA": "Latvia", "LTU": "Lithuania", "LUX": "Luxembourg", "MLT": "Malta", "NLD": "Netherlands",
    "POL": "Poland", "PRT": "Portugal", "ROU": "Romania", "SVK": "Slovakia", "SVN": "Slovenia",
    "ESP": "Spain", "SWE": "Sweden", "GBR": "United Kingdom",
}
#: Their canonical names (what ``group_share`` matches) and their ISO codes.
EU_MEMBERS_2017 = tuple(EU_MEMBERS_2017_BY_ISO.values())
EU_MEMBERS_2017_ISO = tuple(EU_MEMBERS_2017_BY_ISO)


class BreakdownError(ValueError):
    """The frame lacks a column a breakdown needs, or a parameter is out of range."""


def _cols(role: str) -> tuple[str, str, str]:
    if role not in ROLES:
        raise BreakdownError(f"role must be one of {ROLES}, got {role!r}")
    return f"{role}_state", f"{role}_iso", f"{role}_bloc"


def _need(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BreakdownError(f"{what}: processed catalogue lacks column(s) {missing}")


#: How many record ids a line of :func:`rows_by` names before saying how many more it explains.
LISTED_IDS = 10


def line_codes(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, pd.Series]:
    """``(code, first)``: each row's line (its distinct combination of ``keys``, numbered in
    order of first appearance, missing values a value of their own) and, per line, the
    position of its first row."""
    code = frame.groupby(list(keys), sort=False, dropna=False, observed=True).ngroup().to_numpy()
    return code, pd.Series(np.arange(len(frame))).groupby(code).first()


def rows_by(frame: pd.DataFrame, keys: Sequence[str], *, ids: str = "record_id", count: str | None = "count",
            listed: int = LISTED_IDS) -> pd.DataFrame:
    """One line per distinct combination of ``keys``, in order of first appearance.

    Returns ``keys`` then ``rows`` (how many rows of ``frame`` have those values), ``count``
    (the sum of ``frame[count]``, the units; left out when ``count`` is None) and
    ``record_ids``: the first ``listed`` values of ``frame[ids]`` of those rows, in frame
    order, ``"; "``-separated, followed by ``"; and N more"`` when there are more. Missing
    key values form their own line.
    """
    keys = list(keys)
    need = keys + [ids] + ([count] if count else [])
    _need(frame, need, "rows_by")
    code, first = line_codes(frame, keys)
    out = frame[keys].iloc[first.to_numpy()].reset_index(drop=True)
    out["rows"] = np.bincount(code, minlength=len(first)) if len(frame) else np.zeros(0, dtype=np.int64)
    if count:
        out["count"] = pd.Series(pd.to_numeric(frame[count]).to_numpy()).groupby(code).sum().to_numpy()
    # the first ``listed`` rows of each line only: their ids are the only ones turned into text
    head = np.flatnonzero(pd.Series(code).groupby(code).cumcount().to_numpy() < listed)
    names = (pd.Series(frame[ids].iloc[head].astype(str).to_numpy(dtype=object)).groupby(code[head])
             .agg("; ".join).reindex(first.index).to_numpy())
    more = out["rows"].to_numpy() - listed
    out["record_ids"] = [n if m <= 0 else f"{n}; and {m:,} more" for n, m in zip(names, more)]
    return out


def unit_of(catalogue: str) -> str:
    """The unit one ``count`` stands for in a catalogue ("item types", "cartridges"...)."""
    return UNITS.get(str(catalogue), "items")


def catalogue_ids(df: pd.DataFrame) -> list[str]:
    """The catalogue ids present, in order of first appearance."""
    _need(df, ["catalogue"], "catalogue_ids")
    values = df["catalogue"]
    if _text_categorical(values):  # in order of appearance, without a string per row
        return list(dict.fromkeys(str(c) for c in values.unique()))
    return [str(c) for c in pd.unique(values.astype(str).to_numpy(dtype=object))]


def select_catalogue(df: pd.DataFrame, catalogue: str) -> pd.DataFrame:
    """Rows of one catalogue; raise naming the ids present if it is not there."""
    ids = catalogue_ids(df)
    if catalogue not in ids:
        raise BreakdownError(f"catalogue {catalogue!r} is not in the processed catalogue; present: {ids}")
    rows = _text_equals(df["catalogue"], catalogue)
    return df.copy(deep=False) if rows.all() else df[rows]  # one catalogue: no copy of its rows


def _text_categorical(values: pd.Series) -> bool:
    """Whether ``values`` is a categorical of text (as :func:`takingstock.data.cleaning.read_processed` reads)."""
    return isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(values.cat.categories)


def _text_equals(values: pd.Series, text: str) -> np.ndarray:
    """``values.astype(str) == text`` as a boolean array; for a categorical, compared once per
    category rather than once per row (a missing value equals no text, as after ``astype(str)``)."""
    if not _text_categorical(values):
        return (values.astype(str) == text).to_numpy(dtype=bool)
    per_category = np.array([str(c) == text for c in values.cat.categories] + [False], dtype=bool)
    return per_category[values.cat.codes.to_numpy()]  # code -1 (missing) picks the last entry


def catalogues_to_show(processed: pd.DataFrame, catalogue: str = "all", *, fold: bool = False,
                       year_from: int = 0, year_to: int = 0, crosswalk=None) -> dict[str, pd.DataFrame]:
    """The catalogues a notebook shows, as the parameters ask: ``{catalogue id: rows}``.

    Args:
        processed: the processed catalogue (all catalogues).
        catalogue: one catalogue id, or ``"all"`` for each catalogue present, in order.
        fold: count former states as their successors (:func:`fold_successors`).
        year_from, year_to: midpoint-year bounds (0 = no bound; :func:`filter_years`).
        crosswalk: the crosswalk used to fold (a ``Crosswalk``, a path, or None for the
            committed one); pass the run's ``raw_dir/country_crosswalk.csv``.

    A catalogue the year range leaves empty is still returned (empty, with its
    ``year_filter`` note); callers skip it (every breakdown also accepts an empty frame).
    """
    if fold:
        processed = fold_successors(processed, crosswalk)
    ids = catalogue_ids(processed) if catalogue == "all" else [catalogue]
    return {c: filter_years(select_catalogue(processed, c), year_from, year_to) for c in ids}


def selected_catalogues(processed: pd.DataFrame, catalogue: str = "all", fold: bool = False, year_from: int = 0,
                        year_to: int = 0, crosswalk=None) -> dict[str, pd.DataFrame]:
    """:func:`catalogues_to_show`, announced (:func:`announce_selection`): the catalogues a
    notebook shows, each named with what it holds, those a year range leaves empty left out."""
    return announce_selection(catalogues_to_show(processed, catalogue, fold=fold, year_from=year_from,
                                                 year_to=year_to, crosswalk=crosswalk))


def catalogue_rows(processed: pd.DataFrame, catalogue: str = "all") -> pd.DataFrame:
    """The rows of one catalogue id, or of every catalogue for ``"all"``, as one frame."""
    frames = list(catalogues_to_show(processed, catalogue).values())
    return frames[0] if len(frames) == 1 else pd.concat(frames)


def announce_selection(data: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Print what each selected catalogue holds; return only the catalogues with rows left.

    A year range can leave a catalogue empty (the CAR samples give no years): it is named as
    not shown rather than drawn as empty tables and 0% shares.
    """
    kept = {}
    for c, d in data.items():
        print(f"{c}: {len(d)} rows, {d['count'].sum():,} {unit_of(c)}. {year_filter_note(d)}")
        if d.empty:
            print(f"{c}: nothing left in this year range; not shown below.")
        else:
            kept[c] = d
    return kept


def fold_successors(df: pd.DataFrame, crosswalk=None) -> pd.DataFrame:
    """Return a copy with former states replaced by their successors (state, iso and bloc).

    Uses ``countries.Crosswalk.lookup(..., fold_successors=True)`` on the canonical names of
    both roles (each distinct name resolved once). ``crosswalk``: a ``Crosswalk``, a path to
    one, or None for the committed ``data/raw/country_crosswalk.csv``.
    """
    if not isinstance(crosswalk, Crosswalk):
        crosswalk = load_crosswalk(crosswalk)
    out = df.copy()
    for role in ROLES:
        state, iso, bloc = _cols(role)
        if state not in out:
            continue
        names = out[state].astype("string").fillna(UNKNOWN)
        folded = crosswalk.lookup(names.where(names != UNKNOWN, ""), fold_successors=True)
        out[state] = folded["state"].to_numpy()
        out[iso] = folded["iso"].to_numpy()
        out[bloc] = folded["bloc"].to_numpy()
    return out


def filter_years(df: pd.DataFrame, year_from: int = 0, year_to: int = 0) -> pd.DataFrame:
    """Keep rows whose midpoint year lies in [year_from, year_to]; 0 means no bound.

    With any bound set, rows of unknown year are left out (they cannot be placed); how many
    rows and how much ``count`` were left out is stored in ``attrs["year_filter"]``.
    """
    year_from, year_to = int(year_from or 0), int(year_to or 0)
    if year_from and year_to and year_from > year_to:
        raise BreakdownError(f"year_from {year_from} is after year_to {year_to}")
    if not year_from and not year_to:
        out = df.copy(deep=False)  # copy-on-write: the caller's frame is never changed through it
        out.attrs["year_filter"] = None
        return out
    _need(df, ["year_mid", "count"], "filter_years")
    mid = pd.to_numeric(df["year_mid"], errors="coerce")
    keep = mid.notna()
    if year_from:
        keep &= mid >= year_from
    if year_to:
        keep &= mid <= year_to
    keep = keep.fillna(False).to_numpy(dtype=bool)
    out = df[keep].copy()
    out.attrs["year_filter"] = {
        "year_from": year_from or None,
        "year_to": year_to or None,
        "rows_kept": int(keep.sum()),
        "rows_left_out": int((~keep).sum()),
        "rows_unknown_year": int(mid.isna().sum()),
        "count_left_out": float(df.loc[~keep, "count"].sum()),
    }
    return out


def year_filter_note(df: pd.DataFrame) -> str:
    """One sentence saying what ``filter_years`` kept and left out ("" without a filter)."""
    info = df.attrs.get("year_filter")
    if not info:
        return ""
    lo = info["year_from"] or "any year"
    hi = info["year_to"] or "any year"
    return (
        f"Year range {lo} to {hi} (midpoint year of manufacture): {info['rows_kept']} rows kept, "
        f"{info['rows_left_out']} left out, of which {info['rows_unknown_year']} have no known year."
    )


def _shares(table: pd.DataFrame) -> pd.DataFrame:
    total = table["count"].sum()
    table["share"] = table["count"] / total * 100 if total else np.nan
    return table


def _sort_unknown_last(table: pd.DataFrame, label: str) -> pd.DataFrame:
    lab = table[label].astype(str)
    order = np.select([lab == UNKNOWN, lab.str.startswith(OTHER)], [2, 1], 0)
    return (
        table.assign(_o=order)
        .sort_values(["_o", "count", label], ascending=[True, False, True], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def by_country(df: pd.DataFrame, role: str = "manufacture") -> pd.DataFrame:
    """Counts and shares by country of manufacture or of design, "unknown" kept (last).

    Returns:
        DataFrame[state, iso, bloc, rows, count, share] sorted by count (unknown last);
        ``share`` in percent of the total count.
    """
    state, iso, bloc = _cols(role)
    _need(df, [state, iso, bloc, "count"], f"by_country({role})")
    d = pd.DataFrame(
        {
            "state": df[state].astype("string").fillna(UNKNOWN).to_numpy(),
            "iso": df[iso].astype("string").to_numpy(),
            "bloc": df[bloc].astype("string").to_numpy(),
            "count": pd.to_numeric(df["count"]).to_numpy(),
        }
    )
    table = d.groupby("state", sort=False, dropna=False).agg(
        iso=("iso", "first"), bloc=("bloc", "first"), rows=("count", "size"), count=("count", "sum")
    ).reset_index()
    table.loc[table["state"] == UNKNOWN, "bloc"] = UNKNOWN
    return _sort_unknown_last(_shares(table), "state")


def counted_as(df: pd.DataFrame, role: str = "manufacture") -> dict[str, str]:
    """``{state: label}`` for the states whose rows a source counted together with another
    (a raw name with ``/``, e.g. CAR's "Soviet Union/Russia", which the crosswalk files under
    the Soviet Union): the label says what was counted, e.g. "Soviet Union/Russia (combined in
    the source's count)", or "Soviet Union (with Soviet Union/Russia, combined in the source's
    count)" where only some rows are combined. States counted as named are left out."""
    state, _iso, _bloc = _cols(role)
    raw = f"country_of_{role}"
    if raw not in df.columns:
        return {}
    d = pd.DataFrame({"state": df[state].astype("string").to_numpy(), "raw": df[raw].astype("string").to_numpy()})
    out = {}
    for name, part in d.dropna().groupby("state", sort=False):
        combined = sorted({r for r in part["raw"] if "/" in r and r != name})
        if not combined:
            continue
        together = ", ".join(combined)
        out[str(name)] = (f"{together} (combined in the source's count)" if len(part["raw"].unique()) == len(combined)
                          else f"{name} (with {together}, combined in the source's count)")
    return out


def distinct_countries(df: pd.DataFrame, role: str = "manufacture") -> dict:
    """The number of distinct countries of ``role``, with what was left out of the count.

    Returns:
        ``{"n": int, "countries": [...], "excluded": [...]}``: ``excluded`` lists the
        non-country entries met (``unknown``, and states with made-up ``X..`` codes).
    """
    state, iso, _ = _cols(role)
    _need(df, [state, iso], f"distinct_countries({role})")
    pairs = pd.DataFrame({"s": df[state].astype("string").fillna(UNKNOWN), "i": df[iso].astype("string").fillna("")})
    pairs = pairs.drop_duplicates()
    real = (pairs["s"] != UNKNOWN) & is_state_code(pairs["i"]).to_numpy()
    countries = sorted(pairs.loc[real, "s"].unique().tolist())
    excluded = sorted(pairs.loc[~real, "s"].unique().tolist())
    return {"n": len(countries), "countries": countries, "excluded": excluded}


def distinct_countries_any(df: pd.DataFrame) -> dict:
    """Distinct countries named as country of design **or** of manufacture (same rules)."""
    both = pd.concat(
        [pd.DataFrame({"manufacture_state": df[f"{r}_state"], "manufacture_iso": df[f"{r}_iso"]}) for r in ROLES],
        ignore_index=True,
    )
    return distinct_countries(both, "manufacture")


def by_bloc(df: pd.DataFrame, role: str = "manufacture") -> pd.DataFrame:
    """Counts and shares by Cold-War bloc of the country of ``role`` (unknown kept, last).

    ``countries`` counts the states of each bloc as :func:`distinct_countries` does: non-state
    entries (made-up ``X..`` codes) and "unknown" add to ``count`` but not to ``countries``.
    """
    table = by_country(df, role)
    # Only states count as countries (not "unknown", the Islamic State, joint designs: X.. codes).
    table["_state"] = ((table["state"] != UNKNOWN) & is_state_code(table["iso"]).to_numpy()).astype("int64")
    out = table.groupby("bloc", sort=False).agg(countries=("_state", "sum"), count=("count", "sum")).reset_index()
    return _sort_unknown_last(_shares(out), "bloc")


def top_n(table: pd.DataFrame, n: int = 10, label: str = "state") -> pd.DataFrame:
    """Keep the ``n`` largest known rows of a breakdown; fold the rest into one "other" row.

    "unknown" is never folded into "other": it stays its own row, last. The "other" row's
    label says how many it holds (``other (7 countries)``); shares are recomputed over the
    same total, so they still add up to 100.
    """
    if n < 1:
        raise BreakdownError(f"top_n needs n >= 1, got {n}")
    t = _sort_unknown_last(table, label)
    unknown = t[t[label].astype(str) == UNKNOWN]
    known = t[t[label].astype(str) != UNKNOWN]
    head, rest = known.iloc[:n], known.iloc[n:]
    parts = [head]
    if len(rest):
        other = {label: f"{OTHER} ({len(rest)} {'countries' if label == 'state' else 'more'})",
                 "count": rest["count"].sum()}
        for col in ("iso", "bloc"):
            if col in t and col != label:
                other[col] = "" if col == "iso" else OTHER
        if "rows" in t:
            other["rows"] = rest["rows"].sum()
        parts.append(pd.DataFrame([other]))
    parts.append(unknown)
    parts = [p for p in parts if len(p)]
    if not parts:  # an empty breakdown (e.g. a year range that leaves a catalogue empty)
        return _shares(t.iloc[0:0].copy())
    out = pd.concat(parts, ignore_index=True)
    out = out.reindex(columns=t.columns)
    return _shares(out)


def category_matrix(df: pd.DataFrame, role: str = "manufacture", n: int = 10) -> pd.DataFrame:
    """Category x country matrix of counts; columns are the top ``n`` countries, other, unknown.

    Rows (categories) are sorted by their total count; a ``total`` column is added. An empty
    frame gives an empty matrix (no rows, only the ``total`` column).
    """
    state, _, _ = _cols(role)
    _need(df, [state, "category", "count"], "category_matrix")
    if df.empty:
        return pd.DataFrame({"total": pd.Series(dtype="int64")},
                            index=pd.Index([], dtype="string", name="category"))
    top = top_n(by_country(df, role), n)
    keep = set(top["state"].astype(str))
    names = df[state].astype("string").fillna(UNKNOWN)
    other_label = next((s for s in top["state"].astype(str) if s.startswith(OTHER)), None)
    col = names.where(names.isin(keep), other_label or OTHER)
    m = pd.crosstab(df["category"].astype("string").to_numpy(), col.to_numpy(),
                    values=pd.to_numeric(df["count"]).to_numpy(), aggfunc="sum").fillna(0)
    order = [s for s in top["state"].astype(str) if s in m.columns]
    m = m.reindex(columns=order).astype("int64")
    m["total"] = m.sum(axis=1)
    m = m.sort_values("total", ascending=False, kind="stable")
    m.index.name = "category"
    m.columns.name = None
    return m


def published_vs_recomputed(df: pd.DataFrame, role: str = "manufacture") -> pd.DataFrame:
    """For rows with a published share, the share recomputed from the counts beside it.

    Returns:
        DataFrame[catalogue, record_id, state, count, count_basis, total, share,
        share_published, difference_pp] where ``share`` = count / catalogue total x 100 and
        ``difference_pp`` = share - share_published (percentage points).
    """
    state, _, _ = _cols(role)
    _need(df, ["catalogue", "record_id", state, "count", "count_basis", "share_published"], "published_vs_recomputed")
    totals = df.groupby("catalogue")["count"].transform("sum")
    pub = pd.to_numeric(df["share_published"], errors="coerce")
    mask = pub.notna().to_numpy()
    out = pd.DataFrame(
        {
            "catalogue": df["catalogue"].astype(str).to_numpy()[mask],
            "record_id": df["record_id"].astype(str).to_numpy()[mask],
            "state": df[state].astype("string").fillna(UNKNOWN).to_numpy()[mask],
            "count": pd.to_numeric(df["count"]).to_numpy()[mask],
            "count_basis": df["count_basis"].astype(str).to_numpy()[mask],
            "total": totals.to_numpy()[mask],
            "share_published": pub.to_numpy()[mask],
        }
    )
    out.insert(6, "share", out["count"] / out["total"] * 100)
    out["difference_pp"] = out["share"] - out["share_published"]
    return out.sort_values(["catalogue", "count"], ascending=[True, False]).reset_index(drop=True)


def group_share(df: pd.DataFrame, members: Sequence[str], role: str = "manufacture") -> dict:
    """Count and share of the rows whose country of ``role`` is in ``members``.

    Returns ``{"count", "total", "share", "members_present"}`` (share in percent).
    """
    state, _, _ = _cols(role)
    _need(df, [state, "count"], "group_share")
    names = df[state].astype("string").fillna(UNKNOWN)
    counts = pd.to_numeric(df["count"])
    inside = names.isin(list(members)).to_numpy()
    total = float(counts.sum())
    count = float(counts[inside].sum())
    return {
        "count": count,
        "total": total,
        "share": count / total * 100 if total else float("nan"),
        "members_present": sorted(names[inside].unique().tolist()),
    }


def eu_share(df: pd.DataFrame, role: str = "manufacture") -> dict:
    """``group_share`` for the EU's 28 member states of 2017 (``EU_MEMBERS_2017``)."""
    return group_share(df, EU_MEMBERS_2017, role)


def by_decade(df: pd.DataFrame) -> pd.DataFrame:
    """Counts and shares by decade of manufacture (``decade`` column), unknown kept and last.

    Decades sort in time order; shares are of the total including unknown.
    """
    _need(df, ["decade", "count"], "by_decade")
    d = pd.DataFrame({"decade": df["decade"].astype("string").fillna(UNKNOWN).to_numpy(),
                      "count": pd.to_numeric(df["count"]).to_numpy()})
    out = d.groupby("decade").agg(rows=("count", "size"), count=("count", "sum")).reset_index()
    out["_k"] = np.where(out["decade"] == UNKNOWN, 10**6, pd.to_numeric(out["decade"].str[:4], errors="coerce"))
    out = out.sort_values("_k").drop(columns="_k").reset_index(drop=True)
    return _shares(out)


def by_period(df: pd.DataFrame, periods: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts and shares by historical period (order of the periods table), unknown last.

    Every period of the table is listed, with 0 where the catalogue has none.
    """
    _need(df, ["period_id", "period", "count"], "by_period")
    d = pd.DataFrame({"period_id": df["period_id"].astype("string").fillna(UNKNOWN).to_numpy(),
                      "period": df["period"].astype("string").fillna(UNKNOWN).to_numpy(),
                      "count": pd.to_numeric(df["count"]).to_numpy()})
    out = d.groupby(["period_id", "period"]).agg(rows=("count", "size"), count=("count", "sum")).reset_index()
    if periods is not None:
        frame = pd.DataFrame({"period_id": list(periods["period_id"]) + [UNKNOWN],
                              "period": list(periods["label"]) + [UNKNOWN]}).astype("string")
        out = frame.merge(out, on=["period_id", "period"], how="outer", sort=False)
        out[["rows", "count"]] = out[["rows", "count"]].fillna(0)
        if pd.api.types.is_integer_dtype(df["count"]):
            out["count"] = out["count"].astype("int64")
        order = {p: i for i, p in enumerate(frame["period_id"])}
        out = out.sort_values("period_id", key=lambda s: s.map(order)).reset_index(drop=True)
    else:
        out = _sort_unknown_last(out, "period_id")
    out["rows"] = out["rows"].astype("int64")
    return _shares(out)


def unknown_share(table: pd.DataFrame, label: str) -> float:
    """Share (percent) of the "unknown" row of a breakdown table (0.0 when there is none)."""
    row = table[table[label].astype(str) == UNKNOWN]
    return float(row["share"].sum()) if len(row) else 0.0

