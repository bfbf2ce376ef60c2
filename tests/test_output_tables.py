"""Every table a run writes follows the project's conventions (checked on the real outputs)."""

from __future__ import annotations

import pandas as pd
import pytest

from takingstock.report.tables import is_share_column


@pytest.mark.slow
def test_every_share_column_is_a_percentage(built_report):
    """Shares are percentages (0-100) everywhere: a fraction would print as "0.7%" for 70%."""
    checked = 0
    for path in sorted((built_report / "tables").glob("*.csv")):
        table = pd.read_csv(path)
        for col in [c for c in table.columns if is_share_column(c)]:
            values = pd.to_numeric(table[col], errors="coerce").dropna()
            if values.empty:
                continue
            assert values.between(0, 100).all(), f"{path.name}:{col} outside 0-100"
            # parts of a whole with every part at most 1: fractions, not percentages
            assert len(values) == 1 or values.max() > 1, f"{path.name}:{col} looks like fractions"
            checked += 1
    assert checked >= 10
