"""``python -m takingstock.analysis.claims``: the claims guard (same as ``pipeline.py check-claims``)."""

import sys

from .guard import check_main

sys.exit(check_main())
