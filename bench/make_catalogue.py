#!/usr/bin/env python3
"""Write a synthetic item catalogue (the raw catalogue schema of docs/CONTRACTS.md) for benchmarks.

The rows are invented. Their spread imitates what a field catalogue of captured arms looks like:
most items Soviet or Chinese, then other Warsaw Pact states, NATO members and a long tail of
other states (names from data/raw/country_crosswalk.csv when it exists); manufacture years
clustered in the 1960s-1990s with a tail to the 2010s; rifles and ammunition far more common
than missiles or vehicles. The same seed gives the same file.

    python bench/make_catalogue.py 100000 /tmp/catalogue_synthetic.csv [--seed 2015]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from takingstock.core import atomic, paths  # noqa: E402

# (name, weight) for the head of the distribution; the tail is spread over the crosswalk.
HEAD = [
    ("Soviet Union", 30), ("China", 20), ("Russia", 8), ("Yugoslavia", 5), ("Romania", 4),
    ("Bulgaria", 3), ("Hungary", 2), ("Czechoslovakia", 2), ("East Germany", 2), ("Poland", 2),
    ("United States", 4), ("Iraq", 3), ("Iran", 2), ("Belgium", 1), ("Germany", 1),
    ("Serbia", 1), ("Sudan", 1), ("Syria", 1), ("Egypt", 1), ("France", 1),
]
CATEGORIES = [
    ("rifle", 40), ("ammunition", 20), ("machine gun", 8), ("pistol", 5), ("RPG/recoilless", 6),
    ("sniper/anti-materiel rifle", 3), ("mortar", 4), ("artillery", 3), ("rocket", 3),
    ("guided anti-tank missile", 2), ("MANPADS", 1), ("armoured vehicle", 2), ("improvised", 2),
    ("other", 1),
]
ACQUISITION = ["iraqi capture", "syrian capture", "syrian opposition supply", "illicit trade", "unknown", ""]
CONFIDENCE = ["R", "PR", "N"]


def country_names(crosswalk: Path) -> list[str]:
    """Canonical state names from the crosswalk (kind == state), or the head list alone."""
    head = [n for n, _ in HEAD]
    if not crosswalk.exists():
        return head
    table = pd.read_csv(crosswalk, dtype=str, keep_default_na=False)
    states = table.loc[table["kind"] == "state", "state"].drop_duplicates().tolist()
    known = set(table["name"].str.strip().str.lower())
    head = [n for n in head if n.lower() in known]
    return head + [s for s in states if s not in head]


def make_catalogue(rows: int, seed: int = 2015, crosswalk: Path = paths.RAW / "country_crosswalk.csv",
                   source_id: str = "ai-report-2015") -> pd.DataFrame:
    """Return ``rows`` synthetic catalogue rows (raw schema), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    names = country_names(crosswalk)
    head = dict(HEAD)
    weights = np.array([head.get(n, 0.05) for n in names], dtype=float)
    weights /= weights.sum()
    manufacture = rng.choice(names, size=rows, p=weights)
    same_design = rng.random(rows) < 0.7
    design = np.where(same_design, manufacture, rng.choice(names, size=rows, p=weights))
    cats, cw = zip(*CATEGORIES)
    category = rng.choice(cats, size=rows, p=np.array(cw) / sum(cw))
    year_from = np.clip(rng.normal(1978, 14, rows).round(), 1940, 2015).astype(int)
    year_to = np.minimum(year_from + rng.integers(0, 8, rows), 2015)
    known_year = rng.random(rows) < 0.8
    frame = pd.DataFrame({
        "record_id": [f"syn-{i:07d}" for i in range(1, rows + 1)],
        "category": category,
        "designation": [f"synthetic {c} type {k}" for c, k in zip(category, rng.integers(1, 40, rows))],
        "country_of_design": np.where(rng.random(rows) < 0.9, design, ""),
        "country_of_manufacture": np.where(rng.random(rows) < 0.95, manufacture, ""),
        "year_from": np.where(known_year, year_from.astype(str), ""),
        "year_to": np.where(known_year, year_to.astype(str), ""),
        "acquisition": rng.choice(ACQUISITION, size=rows),
        "quantity": np.where(category == "ammunition", rng.integers(1, 500, rows), 1).astype(str),
        "count_basis": "item",
        "share_published": "",
        "confidence": rng.choice(CONFIDENCE, size=rows, p=[0.5, 0.3, 0.2]),
        "source_ids": source_id,
        "notes": "synthetic row for benchmarks",
    })
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("path", type=Path, help="output CSV, e.g. /tmp/raw/catalogue_synthetic.csv")
    parser.add_argument("--seed", type=int, default=2015)
    args = parser.parse_args(argv)
    frame = make_catalogue(args.rows, args.seed)
    with atomic.atomic_path(args.path) as tmp:
        frame.to_csv(tmp, index=False, quoting=csv.QUOTE_MINIMAL)
    print(f"wrote {len(frame):,} rows to {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
