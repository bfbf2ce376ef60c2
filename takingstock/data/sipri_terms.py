"""SIPRI's terms of use, the credit every use of its data carries, and what to say without data.

**Terms.** Credit "SIPRI Arms Transfers Database" (https://www.sipri.org/databases/armstransfers).
Every calculation made from the register here (spreading, sums, shares, matches, checksums) is
ours and must not be attributed to SIPRI. No commercial use without SIPRI's agreement.
:data:`SIPRI_CREDIT`, :data:`SIPRI_SOURCE_LINE` and :data:`SIPRI_TERMS` are the only SIPRI
credit texts of the project. This module needs no pandas: the runner and the publisher import
it without loading the reader.
"""

from __future__ import annotations

from pathlib import Path

from takingstock.core import paths

__all__ = ["SIPRI_URL", "SIPRI_CREDIT", "SIPRI_SOURCE_LINE", "SIPRI_TERMS", "NO_REGISTER", "missing_register_message"]

#: SIPRI's landing page for the database (every credit below points here).
SIPRI_URL = "https://www.sipri.org/databases/armstransfers"
#: How to credit SIPRI where the register was used (SIPRI's own wording, with our disclaimer).
SIPRI_CREDIT = (
    f"Information from the SIPRI Arms Transfers Database, {SIPRI_URL}; "
    "calculations by taking-stock, not SIPRI."
)
#: A source line for figures and tables: credit, disclaimer, and what TIV is.
SIPRI_SOURCE_LINE = (
    f"Source: SIPRI Arms Transfers Database ({SIPRI_URL}); "
    "calculations by taking-stock, not SIPRI. TIV is SIPRI's volume measure, not money."
)
#: SIPRI's terms of use in short, stored beside every downloaded export.
SIPRI_TERMS = (
    f"Data: SIPRI Arms Transfers Database ({SIPRI_URL}). "
    "Credit SIPRI; calculations made from the data are not SIPRI's; no commercial use "
    "without SIPRI's agreement. Do not commit this file."
)
#: Why a finding that needs the register is not checkable in a run without one: the reason the
#: claims ledger and the follow-up sections give, and the one the end-of-run note counts.
NO_REGISTER = "no SIPRI register in this run"


def missing_register_message(sipri_dir: str | Path = paths.SIPRI_RAW) -> str:
    """What a notebook prints when no register is at hand: what is missing and how to get it."""
    return (f"No SIPRI trade register in {sipri_dir}: the SIPRI sections are skipped; the rest of "
            "the pipeline does not need them. Get the register with `python pipeline.py "
            f"fetch-sipri`, or download the trade register (CSV) from {SIPRI_URL} and place it "
            "in data/raw/sipri/ (the README says how to point a run at another file).")
