"""What the claims' computations may read: the processed catalogue and each SIPRI release at hand.

A :class:`ClaimContext` holds the processed catalogue (``None`` when step 01 has not run) and at
most one SIPRI export with its :class:`takingstock.data.coverage.Coverage`. The ledger is computed
once per export at hand (:func:`build_contexts`): the run context's registers
(:class:`takingstock.data.runcontext.RunContext`), every ``*.csv`` in the SIPRI folder or the one
file a run names. The first context is the *primary* release, whose verdicts head the
ledger: the newest release date, and among exports of the same release the one that covers
the most (the whole register before a one-recipient export).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from takingstock.core import paths
from takingstock.data.cleaning import read_processed
from takingstock.data.coverage import Coverage
from takingstock.data.runcontext import RunContext
from takingstock.data.sipri import deal_years
from takingstock.data.weapon_types import load_weapon_types
from takingstock.analysis.supply import select_recipients

__all__ = ["ClaimContext", "build_context", "build_contexts"]


#: The deal columns :attr:`ClaimContext.deal_years` keeps: those the computations read of the
#: deal-years (who and what, TIV; the recipient columns ``select_recipients`` matches on) and
#: those :func:`takingstock.data.sipri.deal_years` spreads over the years. The whole register's
#: other columns would be copied into every deal-year for nothing.
DEAL_YEAR_COLUMNS = ("deal_id", "recipient", "recipient_state", "recipient_kind", "supplier", "supplier_state",
                     "supplier_kind", "supplier_bloc", "supplier_iso", "delivery_years", "number_delivered",
                     "tiv_delivered")


@dataclass
class ClaimContext:
    """The data one ledger column is computed from. Any part is ``None`` when absent.

    Attributes:
        catalogue: the processed catalogue (all catalogues, ``catalogue`` column).
        deals: the SIPRI export's deals.
        coverage: what the export holds; required with ``deals``.
        label: the column's name in the ledger (the release date, or the file name).
        weapon_types, periods: the weapon-types reference and the historical periods.
    """

    catalogue: pd.DataFrame | None = None
    deals: pd.DataFrame | None = None
    coverage: Coverage | None = None
    label: str = ""
    weapon_types: pd.DataFrame | None = None
    periods: pd.DataFrame | None = None
    _deals_to: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.deals is not None and self.coverage is None:
            raise ValueError("ClaimContext: deals need their coverage (takingstock.data.coverage.Coverage)")

    @cached_property  # of the columns the computations read only (DEAL_YEAR_COLUMNS)
    def deal_years(self) -> pd.DataFrame:
        """:func:`takingstock.data.sipri.deal_years` of ``deals``, spread once for every computation."""

        return deal_years(self.deals[[c for c in DEAL_YEAR_COLUMNS if c in self.deals]])

    def deals_to(self, recipients, *, years: bool = False) -> pd.DataFrame:
        """The deals (with ``years``: the deal-years, :attr:`deal_years`) to ``recipients``
        (:func:`takingstock.analysis.supply.select_recipients`), selected once per context and recipient
        list: most claims name the same recipient. Shared between computations: never changed."""

        key = (years, recipients if isinstance(recipients, str) else tuple(recipients))
        if key not in self._deals_to:
            self._deals_to[key] = select_recipients(self.deal_years if years else self.deals, recipients)
        return self._deals_to[key]

    @property
    def register_label(self) -> str:
        """The export in words (empty without one)."""
        return self.coverage.describe() if self.coverage is not None else ""

    def catalogue_part(self, catalogue_id: str) -> pd.DataFrame | None:
        """Rows of one catalogue id (``None`` when there is no catalogue or no such rows)."""
        if self.catalogue is None:
            return None
        part = self.catalogue[self.catalogue["catalogue"] == catalogue_id]
        return part if len(part) else None


def _load_catalogue(processed_dir: str | Path) -> pd.DataFrame | None:
    cat_path = paths.processed_file(processed_dir, "catalogue")
    # text columns as categoricals, as the notebooks read it (at 10^6 rows ~120 MB, not ~700 MB)
    return read_processed(cat_path) if cat_path.exists() else None


def _label(cov: Coverage, taken: set[str]) -> str:
    base = cov.release_date.isoformat() if cov.release_date else Path(cov.source).stem
    if cov.release_date and (base in taken or not cov.all_recipients):
        base = f"{base} {Path(cov.source).stem}"
    return base


def build_contexts(run: RunContext, use_register: bool = True) -> list[ClaimContext]:
    """One context per SIPRI export at hand in ``run`` (primary first), or one without a register.

    Args:
        run: the run context: its processed catalogue (missing: catalogue claims are not
            checkable; the ledger judges step 01's output, it does not clean catalogues itself)
            and its registers (``run.registers``: the one given, or every export in its SIPRI
            folder, newest release first).
        use_register: ``False`` computes without any register (every SIPRI claim not checkable).

    Raises:
        takingstock.data.sipri_format.SipriFormatError: an export is damaged or not a SIPRI export.
    """
    catalogue = _load_catalogue(run.processed_dir)
    refs = {"weapon_types": load_weapon_types(run.weapon_types_file), "periods": run.period_table()}
    found = []
    for path in (run.registers if use_register else ()):
        register = run.read_register(path)
        found.append((register, Coverage.from_register(register)))
    if not found:
        return [ClaimContext(catalogue=catalogue, label="no SIPRI register", **refs)]
    found.sort(key=lambda rc: (rc[1].release_date is not None, rc[1].release_date or 0,
                               rc[1].all_recipients, rc[1].n_deals), reverse=True)
    contexts, taken = [], set()
    for register, cov in found:
        label = _label(cov, taken)
        taken.add(label)
        contexts.append(ClaimContext(catalogue=catalogue, deals=register.deals, coverage=cov, label=label, **refs))
    return contexts


def build_context(run: RunContext, use_register: bool = True) -> ClaimContext:
    """The primary context of :func:`build_contexts` (the newest, widest export)."""
    return build_contexts(run, use_register)[0]
