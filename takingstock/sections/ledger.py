"""Notebook 05's sections: the claims ledger on every SIPRI export at hand.

The ledger is :func:`takingstock.claims.evaluate_releases`; the sections only choose what to
show: what each export covers, the counts per verdict class and release, every claim with its
values on each release and what moved, and each group of claims with what its computation found.
"""

from __future__ import annotations

import pandas as pd

from takingstock import claims, sipri
from takingstock.findings import Finding, Table
from takingstock.runcontext import RunContext


def compute(run: RunContext) -> pd.DataFrame:
    """The ledger of the run's claims on every export at hand, written to ``processed_dir``."""
    contexts = claims.build_contexts(run)
    ledger = claims.evaluate_releases(claims.load_claims(run.claims_file), contexts)
    claims.write_ledger(ledger, run.ledger_file)
    return ledger


def source(ledger: pd.DataFrame) -> str:
    """The ledger tables' source line: the claims' sources, and SIPRI's credit when an export was used."""
    used = any(ledger.attrs.get("coverage") or [])
    return ("Source: the claims and their sources in data/raw/claims.yml; computed values from the processed "
            "catalogue" + (f" and the SIPRI exports at hand. {sipri.SIPRI_SOURCE_LINE}" if used else "."))


def coverage(run: RunContext, ledger: pd.DataFrame) -> Finding:
    """One sentence per export: what it declares and holds."""
    notes = [s for s in ledger.attrs["coverage"] if s]
    return Finding(notes=notes or [f"{run.missing_register()} SIPRI claims are not checkable."])


def verdict_counts(ledger: pd.DataFrame) -> Finding:
    """Claims per verdict class and release; the primary release's counts are the headlines."""
    counts = claims.counts_by_release(ledger)
    caption = "Claims per verdict class, for each SIPRI release at hand"
    fragile = int(ledger["robustness"].astype(str).str.startswith("fragile").sum())
    return Finding(tables=[Table("claims_verdicts", counts, caption)], source=source(ledger),
                   headlines=[*zip(counts["verdict"], counts.iloc[:, 1].astype(str)),
                              ("fragile: another reasonable reading flips the verdict", str(fragile))])


def every_claim(ledger: pd.DataFrame) -> Finding:
    """Every claim: stated and computed values, each release's verdict, what moved."""
    caption = "Claims ledger: stated vs computed values and verdicts on each release"
    return Finding(tables=[Table("claims_ledger", claims.ledger_view(ledger), caption)], source=source(ledger))


def by_group(ledger: pd.DataFrame) -> Finding:
    """One table per group of claims, with what each computation found (shown, not saved)."""
    cols = ["id", "stated", "computed", "verdict", "robustness", "detail", "reason"]
    return Finding(tables=[Table(group, part[cols], group, save=False)
                           for group, part in ledger.groupby("group", sort=False)])


def parameters(run: RunContext, ledger: pd.DataFrame) -> dict:
    """What the summary records of the run."""
    return {"processed_dir": str(run.processed_dir), "raw_dir": str(run.raw_dir),
            "sipri_register": str(run.sipri_register or ""), "claims_path": str(run.claims_file),
            "releases": ", ".join(ledger.attrs["releases"])}
