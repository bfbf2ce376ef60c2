"""The claims ledger: every number *Taking Stock* states, recomputed from the data at hand.

The package has one module per job:

* :mod:`.spec` - the claims file (``data/raw/claims.yml``), the year windows
  (``data/raw/windows.csv``) and the country groups (``data/raw/country_groups.csv``) it
  refers to by id; a malformed entry stops the load naming the claim and the field.
* :mod:`.context` - what the computations read: the processed catalogue and each SIPRI export
  at hand with its coverage (:mod:`takingstock.data.coverage`).
* :mod:`.computations` - one small function per kind of check, each declaring the params it
  reads and the data it needs; the needs are checked once, before it runs.
* :mod:`.verdicts` - reproduced, transcribed, differs, not comparable, not checkable; the
  ledger per release and side by side, with what moved between releases.
* :mod:`.readings` - the alternative readings a claim declares, and whether its verdict is
  robust to them or fragile (which reading flips it, to what).
* :mod:`.guard` - ``python pipeline.py check-claims``: fail when a verdict or value moved.

Why register counts differ from the report's
--------------------------------------------
The report's "at least 34 states supplied Iraq in 1980-88, 28 of them also Iran" and "Iraq took
12% of the world arms market in the 1980s" almost certainly come from SIPRI Yearbook-era
surveys that counted every seller, private companies and small arms included, and from market
shares in money. Today's SIPRI trade register covers *major conventional weapons only*, names
*one supplier state per deal* (the state that authorised the transfer), is revised every
spring, and measures volume in trend-indicator values (TIV), which are not money. We count what
the register says under a stated rule (a state supplied Iraq in a window if at least one of its
deals to Iraq has a delivery year in the window: ``supply.window_rule``), show it beside the
report's figure, and never tune the rule towards the report. Where the claim counts more than
the register can (all arms, firms) or something else (money), ``measures`` in ``claims.yml``
says so and the verdict is *not comparable* unless the register's part already settles it; the
other readings of the rule (another window, basis, TIV spread) are recomputed and a verdict
that flips under one is labelled *fragile* (:mod:`.readings`).
The world-market share is Iraq's TIV delivered in 1980-89 over the TIV delivered to *all*
recipients in those years, with each deal's TIV spread evenly over its delivery years
(``supply.delivered_in_window``): it needs an export of the whole register.

The CAR shares are checked against the catalogue rows transcribed from CAR's published counts
and shares: their verdict is *transcribed*, which says the committed catalogue adds up to what
CAR published, not that we re-counted CAR's evidence. Calculations here are ours, not SIPRI's.
"""

from .computations import COMPUTATIONS, NEEDS, Computed, computation, missing_data
from . import followup as _followup  # noqa: F401  (registers the follow-up's computations)
from .context import ClaimContext, build_context, build_contexts
from .guard import (ACCEPTED_COLUMNS, ACCEPTED_FILE, accept_ledger, accepted_text, check_main,
                    compare_computed, compare_verdicts, ledger_report, read_accepted, read_accepted_rows)
from .readings import NO_READINGS, ROBUST, alternatives, robustness
from .spec import (CHECK_KINDS, CLAIMS_FILE, CONFIDENCE_TAGS, MEASURE_TERMS, READING_KINDS, TOLERANCE_KINDS,
                   Claim, ClaimsError, Threshold, Tolerance, load_claims, load_groups, load_windows)
from .verdicts import (LEDGER_COLUMNS, VERDICTS, bound_settles, class_counts_text, compute, counts_by_release,
                       evaluate, evaluate_releases, explain_move, format_value, judge, ledger_view,
                       release_columns, summary_sentence, verdict_counts)

from takingstock.core import atomic as _atomic
from takingstock.core import paths as _paths

LEDGER_FILE = _paths.processed_file(_paths.PROCESSED, "ledger")


def write_ledger(ledger, path=LEDGER_FILE):
    """Write the ledger CSV atomically (the per-release columns included)."""
    return _atomic.write_text(path, ledger.to_csv(index=False))

