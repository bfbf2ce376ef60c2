"""The Arms Trade Treaty (ATT) status of a state on a date or in a year, from sourced data.

Method
------
``data/raw/att_status.csv`` holds, per state, the dates of the treaty's acts the sources give
(transcribed from the UN depositary record, chapter XXVI-8, and from governments' and the
press's reports; each row with its URLs and a confidence): signature, the deposit of its
instrument of ratification, acceptance, approval or accession ("consent"), and the notice that a
signatory does not intend to become a party (the United States, 18 July 2019). A date may be
partial (``2014-12``, ``2017``) where the source gives no day; ``?`` as a consent date means a
source says the state consented but gives no date; a row of confidence ``none`` had no source.

:func:`status_on` gives one of :data:`STATUSES` on a date:

* ``party`` - its consent was deposited on or before the date (a partial date counts from its
  *last* day: ``2014-12`` from 31 December 2014, so a state is never made a party early), or
  the date's year is on or after ``party_by``. The deposit, not the later entry into force for
  that state, is what counts: the instrument binds the state to the treaty's object from then.
* ``signature withdrawn`` - it signed, then notified the depositary it will not become a party.
* ``signatory`` - it signed and has not (yet) consented.
* ``outside`` - no signature or consent recorded by the sources read for the row.
* ``unknown`` - the state is not in the table, its row had no source, the sources say it
  consented (``?``, or a ``party_by`` year later than the date) without a date we could use, or
  it ratified later and the date of its (earlier) signature was not found.

Before the treaty opened for signature (3 June 2013) every state is ``outside``.

:func:`status_in_year` is the status on 31 December of a year: a delivery in year *Y* is judged
by the supplier's status at the end of *Y* (SIPRI dates deliveries by year only), so a state
that ratified in April 2014 counts as a party for its 2014 deliveries. :func:`with_status` adds
the status *for the year of each row* (each delivery year), never today's.

Caveats: each row records what its sources say up to ``checked_through``; an act after that
date is missing, and a status for a later year is "as the table records it".
:func:`stale_rows` lists the rows whose sources stop before a given year, for the pages to say
so. Former states (the Soviet Union, Yugoslavia) ended before the treaty (2013): their status is
their successor's (the crosswalk's ``successor``), which :func:`origin_states` applies.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import pandas as pd

from takingstock.core import paths
from takingstock.core.tabular import read_text_table
from takingstock.data.countries import is_state_code

__all__ = ["STATUSES", "AttError", "att_file", "load_att", "status_on", "status_in_year", "with_status",
           "status_table", "stale_rows", "origin_states", "ATT_FILE", "SIGNATURE_CLOSED",
           "SIGNATURE_OPENED"]

ATT_FILE = paths.RAW / "att_status.csv"
#: The statuses, in the order tables show them.
STATUSES = ("party", "signatory", "signature withdrawn", "outside", "unknown")
#: The treaty was open for signature until it entered into force (article 20): afterwards a
#: state can only accede.
SIGNATURE_CLOSED = _dt.date(2014, 12, 24)
#: The treaty opened for signature on 3 June 2013: before it every state is outside.
SIGNATURE_OPENED = _dt.date(2013, 6, 3)
_COLUMNS = ["state", "iso", "signature_date", "consent_date", "consent_kind", "signature_withdrawn_date",
            "party_by", "checked_through", "confidence", "source_urls", "notes"]
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_CONFIDENCE = {"high", "medium", "low", "none"}
_KINDS = {"", "ratification", "acceptance", "approval", "accession"}


def att_file(raw_dir: str | Path | None = None) -> Path:
    """The ATT table of a run: ``raw_dir/att_status.csv`` when that folder has one, else the
    committed one (a user's raw folder may bring its own)."""
    own = Path(raw_dir) / "att_status.csv" if raw_dir is not None else None
    return own if own is not None and own.is_file() else ATT_FILE


class AttError(ValueError):
    """The ATT table is malformed (names file, row and column)."""


def _last_day(text: str) -> _dt.date:
    """The last day a (possibly partial) ISO date can mean: ``2014-12`` -> 2014-12-31."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return _dt.date(*parts)
    if len(parts) == 2:
        y, m = parts
        return _dt.date(y + (m == 12), m % 12 + 1, 1) - _dt.timedelta(days=1)
    return _dt.date(parts[0], 12, 31)


def load_att(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the ATT table; one row per ISO code, text columns as strings.

    Adds ``signed``, ``consented``, ``withdrawn`` (the last day each date can mean, or NaT).

    Raises:
        AttError: a missing column, a date not in ``YYYY[-MM[-DD]]`` form (or ``?`` for consent),
            an unknown confidence or consent kind, a repeated ISO code, a ``party_by`` that is
            not a year, or a row of confidence ``none`` that still gives a date.
    """
    path = Path(path) if path is not None else ATT_FILE
    table = read_text_table(path, _COLUMNS, AttError)
    for i, row in table.iterrows():
        where = f"{path}, row {i + 2}"
        for col in ("signature_date", "consent_date", "signature_withdrawn_date", "checked_through"):
            value = row[col].strip()
            if value and not _DATE.match(value) and not (col == "consent_date" and value == "?"):
                raise AttError(f"{where}, column {col!r}: {value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
            if value and value != "?":
                try:
                    _last_day(value)
                except ValueError as exc:
                    raise AttError(f"{where}, column {col!r}: {value!r} is not a date ({exc})") from exc
        if row["party_by"].strip() and not row["party_by"].strip().isdigit():
            raise AttError(f"{where}, column 'party_by': {row['party_by']!r} is not a year")
        if row["confidence"] not in _CONFIDENCE:
            raise AttError(f"{where}, column 'confidence': {row['confidence']!r} not one of {sorted(_CONFIDENCE)}")
        if row["consent_kind"] not in _KINDS:
            raise AttError(f"{where}, column 'consent_kind': {row['consent_kind']!r} not one of {sorted(_KINDS - {''})}")
        if row["confidence"] == "none" and any(row[c] for c in ("signature_date", "consent_date", "party_by")):
            raise AttError(f"{where}: confidence 'none' (no source) but a date is given")
    dup = table["iso"][table["iso"].duplicated()]
    if len(dup):
        raise AttError(f"{path}: iso {dup.iloc[0]!r} repeated")

    def days(col: str) -> pd.Series:
        return pd.to_datetime(table[col].map(lambda v: _last_day(v) if v and v != "?" else None))

    return table.assign(signed=days("signature_date"), consented=days("consent_date"),
                        withdrawn=days("signature_withdrawn_date"))


def _row_status(row, day: pd.Timestamp) -> str:
    if day < pd.Timestamp(SIGNATURE_OPENED):
        return "outside"
    if row is None or row["confidence"] == "none":
        return "unknown"
    if pd.notna(row["consented"]) and row["consented"] <= day:
        return "party"
    party_by = int(row["party_by"]) if row["party_by"] else None
    if party_by is not None and day.year >= party_by:
        return "party"
    if pd.notna(row["withdrawn"]) and row["withdrawn"] <= day:
        return "signature withdrawn"
    if row["consent_date"] == "?" or party_by is not None:
        return "unknown"  # the sources say it consented, at a date we do not have
    if pd.notna(row["signed"]) and row["signed"] <= day:
        return "signatory"
    if pd.isna(row["signed"]) and pd.notna(row["consented"]) and row["consent_kind"] != "accession":
        return "unknown"  # a ratification follows a signature whose date we do not have
    return "outside"


def status_on(att: pd.DataFrame, iso: str, day: _dt.date | str) -> str:
    """The ATT status (:data:`STATUSES`) of the state ``iso`` on ``day``."""
    hit = att[att["iso"] == iso]
    return _row_status(None if hit.empty else hit.iloc[0], pd.Timestamp(day))


def status_in_year(att: pd.DataFrame, iso: str, year: int) -> str:
    """The ATT status of ``iso`` on 31 December of ``year`` (how a delivery year is judged)."""
    return status_on(att, iso, _dt.date(int(year), 12, 31))


def with_status(frame: pd.DataFrame, att: pd.DataFrame, *, iso: str = "supplier_iso",
                year: str = "year", column: str = "att_status") -> pd.DataFrame:
    """``frame`` with ``column``: the status of the state in ``iso`` at the end of the row's
    ``year`` (each delivery judged in its own year). Worked out once per distinct pair."""
    pairs = frame[[iso, year]].drop_duplicates()
    found = {(c, int(y)): status_in_year(att, c, y) for c, y in pairs.itertuples(index=False)}
    keys = zip(frame[iso], frame[year].astype(int))
    return frame.assign(**{column: pd.Categorical([found[k] for k in keys], categories=list(STATUSES))})


def status_table(att: pd.DataFrame, isos, when: dict[str, _dt.date | str]) -> pd.DataFrame:
    """One row per state of ``isos`` (in order): ``state, iso``, a status column per label of
    ``when`` (``{"December 2015": date(2015, 12, 4), ...}``), the dates and the confidence."""
    known = att.set_index("iso")
    rows = []
    for code in dict.fromkeys(isos):
        row = known.loc[code] if code in known.index else None
        rows.append({"state": row["state"] if row is not None else code, "iso": code,
                     **{label: _row_status(row, pd.Timestamp(day)) for label, day in when.items()},
                     "signature": row["signature_date"] if row is not None else "",
                     "ratification or accession": row["consent_date"] if row is not None else "",
                     "signature withdrawn": row["signature_withdrawn_date"] if row is not None else "",
                     "confidence": row["confidence"] if row is not None else "not in the table"})
    return pd.DataFrame(rows)


def stale_rows(att: pd.DataFrame, isos, year: int) -> pd.DataFrame:
    """The rows of ``isos`` not parties at the end of ``year`` whose sources stop before it (or
    that have none): their status for ``year`` is as the table records it, and a later
    signature or accession would be missing. Parties are not listed: a withdrawal from the
    treaty (its article 24) is not a column of the table, and the sources read record none."""
    sel = att[att["iso"].isin(list(isos))]
    checked = sel["checked_through"].map(lambda v: int(v[:4]) if v else 0)
    party = sel["iso"].map(lambda code: status_in_year(att, code, year) == "party")
    return sel.loc[(checked < year) & ~party, ["state", "iso", "checked_through", "confidence"]].reset_index(drop=True)


def origin_states(catalogue: pd.DataFrame, crosswalk) -> pd.DataFrame:
    """The states of design or manufacture of processed catalogue rows, each with the state
    whose ATT status stands for it: ``origin, origin_iso, state, iso`` (a former state -> its
    successor, e.g. the Soviet Union -> Russia; non-state and unknown origins are left out).

    ``catalogue`` needs ``design_iso`` and ``manufacture_iso`` (the processed catalogue's);
    ``crosswalk`` is :func:`takingstock.data.countries.load_crosswalk`'s.
    """
    codes = pd.concat([catalogue[c] for c in ("design_iso", "manufacture_iso") if c in catalogue]).astype("string")
    codes = codes[is_state_code(codes).to_numpy()].dropna().unique()
    table = crosswalk.table.drop_duplicates("iso").set_index("iso")
    rows = []
    for code in codes:
        rec = table.loc[code]
        if rec["kind"] != "state":
            continue
        succ = crosswalk.fold(crosswalk.resolve(rec["state"]))
        rows.append({"origin": rec["state"], "origin_iso": code, "state": succ.state, "iso": succ.iso})
    return (pd.DataFrame(rows, columns=["origin", "origin_iso", "state", "iso"]).drop_duplicates()
            .sort_values(["state", "origin"]).reset_index(drop=True))
