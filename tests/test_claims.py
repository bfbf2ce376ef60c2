"""Tests of the claims ledger: loading, each verdict kind, the computations, the guard.

Fixture deals and catalogue rows below are invented for these tests (not SIPRI data).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from takingstock.analysis import claims
from takingstock.analysis.claims import computations
from takingstock.core import paths
from takingstock.data.coverage import Coverage
from takingstock.data.runcontext import RunContext

REGISTER_NAME = "sipri_trade_register_all_2026-05-18_alexarui.csv"


# ----------------------------------------------------------------------------- invented data


def _deal(i, recipient, supplier, order_year, years, tiv, designation="Widget-1", n=1,
          bloc="NATO", kind="state", description="widget", category="other", iso=None):
    return {
        "deal_id": f"d{i}", "recipient": recipient, "supplier": supplier,
        "recipient_state": recipient, "supplier_state": supplier, "supplier_bloc": bloc,
        "supplier_iso": iso or supplier[:3].upper(),
        "supplier_kind": kind, "order_year": order_year, "number_ordered": n,
        "number_delivered": n, "designation": designation, "description": description,
        "category": category, "delivery_years": years, "tiv_delivered": tiv, "source_line": 12 + i,
    }


def _ctx(deals: pd.DataFrame, catalogue: pd.DataFrame | None = None) -> claims.ClaimContext:
    """A context whose invented register is declared whole (every supplier and recipient)."""
    return claims.ClaimContext(catalogue=catalogue, deals=deals, coverage=Coverage.whole(deals),
                               label="invented")


@pytest.fixture()
def deals() -> pd.DataFrame:
    rows = [
        _deal(1, "Iraq", "Atlantis", 1979, [1980, 1981], 100.0, bloc="Warsaw Pact"),
        _deal(2, "Iraq", "Borduria", 1985, [1986], 50.0),
        _deal(3, "Iran", "Borduria", 1984, [1985], 20.0),
        _deal(4, "Iran", "Atlantis", 1990, [1990], 10.0),   # outside the window
        _deal(5, "Iraq", "Rebels*", 1982, [1982], 5.0, kind="non-state"),
        _deal(6, "Ruritania", "Atlantis", 1983, [1983, 1984, 1985, 1986], 800.0),
        _deal(7, "Iraq", "Atlantis", 2008, [2010], 30.0, designation="M-1A1 Abrams", n=140,
              description="tank", category="armoured vehicles"),
        _deal(8, "Iraq", "Atlantis", 2012, [2013], 10.0, designation="Stinger", n=200,
              description="portable surface-to-air missile", category="missiles"),
        _deal(9, "Iraq", "Atlantis", 2005, [2006, 2007], 40.0),
    ]
    frame = pd.DataFrame(rows)
    frame["order_year"] = frame["order_year"].astype("Int64")
    frame["number_ordered"] = frame["number_ordered"].astype("Int64")
    return frame


@pytest.fixture()
def catalogue() -> pd.DataFrame:
    names = {"SUN": "Soviet Union", "CHN": "China", "ROU": "Romania", "DEU": "Germany",
             "USA": "United States", "XNS": "non-state", "GBR": "United Kingdom"}

    def row(cat, iso, count, year_mid=None, design_iso=None, category="rifle", designation="x"):
        return {"catalogue": cat, "manufacture_iso": iso, "design_iso": design_iso or iso,
                "manufacture_state": names.get(iso, "unknown"),
                "design_state": names.get(design_iso or iso, "unknown"),
                "count": count, "year_mid": year_mid, "category": category,
                "designation": designation, "year_from": year_mid, "source_row": 1}
    return pd.DataFrame([
        row("car_2014_ammunition", "SUN", 30), row("car_2014_ammunition", "CHN", 50),
        row("car_2014_ammunition", None, 20),
        row("car_2017_weapons", "ROU", 10), row("car_2017_weapons", "DEU", 15),
        row("car_2017_weapons", "CHN", 75),
        row("amnesty_2015", "USA", 1, 1975.0, designation="A"),
        row("amnesty_2015", "CHN", 1, 1985.0, designation="B"),
        row("amnesty_2015", "XNS", 1, 2014.0, category="improvised", designation="C"),
        row("amnesty_2015", "GBR", 1, 1914.0, designation="D"),
    ])


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "claims.yml"
    p.write_text("claims:\n" + textwrap.indent(textwrap.dedent(body), ""), encoding="utf-8")
    return p


CLAIM = """\
- id: {id}
  group: G
  claim: A test claim.
  stated: {{value: {value}, unit: {unit}, text: "t"}}
  source: {{name: S, url: "https://example.org", confidence: N, ids: [ai-pr-2015]}}
  dataset: D
  computation: {computation}
  params: {params}
  tolerance: {tolerance}
  reason_if_differs: Because the fixture says so.
  settle_with: better data
"""


def _claim(**kw) -> str:
    base = dict(id="c1", value=1, unit="count", computation="catalogue_total",
                params="{catalogue: car_2014_ammunition}", tolerance="{kind: absolute, value: 0}")
    base.update(kw)
    return CLAIM.format(**base)


# ----------------------------------------------------------------------------- loading


def test_committed_claims_file_loads_and_covers_the_issue():
    loaded = claims.load_claims(paths.RAW / "claims.yml")
    ids = {c.id for c in loaded}
    for needed in ("origin-states-25", "bulk-1970s-1990s", "iraq-suppliers-1980-88",
                   "iraq-iran-common-suppliers-1980-88", "iraq-world-share-1980s",
                   "embargo-cut-1991-2002", "flood-after-2003", "us-abrams-140-2011-13",
                   "us-f16-2011-13", "us-stinger-681-2011-13", "us-hawk-2011-13",
                   "us-salw-500m-2014", "car2014-ussr-russia-28", "car2017-china-43",
                   "car2017-eu-third", "car2017-china-russia-half"):
        assert needed in ids
    assert len(loaded) >= 40


@pytest.mark.parametrize("mutation, field", [
    (dict(computation="no_such_function"), "computation"),
    (dict(tolerance="{kind: roughly}"), "tolerance"),
    (dict(value='"many"'), "stated.value"),
    (dict(id="Bad Id"), "id"),
])
def test_bad_claim_names_id_and_field(tmp_path, mutation, field):
    path = _write(tmp_path, _claim(**mutation))
    with pytest.raises(claims.ClaimsError) as err:
        claims.load_claims(path)
    assert f"field {field!r}" in str(err.value)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("computation, params, field", [
    ("units_ordered", "{recipient: Iraq, supplier: X, designation: Hawk, years: [2011, 2013]}",
     "params.category"),
    ("count_suppliers", "{recipient: Iraq, years: no-such-window}", "params.years"),
    ("count_suppliers", "{recipient: Iraq, years: [1990, 1980]}", "params.years"),
    ("count_group_suppliers", "{recipient: Iraq, years: [1980, 1988], group: nato-2099}", "params.group"),
    ("supplier_tiv_share", "{recipient: Iraq, years: [1980, 1988]}", "params.suppliers|bloc"),
    ("catalogue_total", "{}", "params.catalogue"),
    ("recipient_tiv_total", "{recipient: Iraq, years: [1980]}", "params.years"),
])
def test_missing_param_caught_at_load_naming_claim_and_field(tmp_path, computation, params, field):
    path = _write(tmp_path, _claim(computation=computation, params=params))
    with pytest.raises(claims.ClaimsError) as err:
        claims.load_claims(path)
    assert f"claim 'c1', field {field!r}" in str(err.value)


def test_every_computation_declares_its_params_and_needs():
    specs = claims.COMPUTATIONS
    assert specs["units_ordered"].params == ("recipient", "supplier", "designation", "category", "years")
    assert specs["recipient_world_share"].needs == ("register", "recipient", "world", "years")
    assert specs["count_common_suppliers"].needs == ("register", "recipient", "other", "years")
    # Every register computation needs the register; every catalogue one its catalogue.
    for name, spec in specs.items():
        if "recipient" in spec.params:
            assert "register" in spec.needs and "recipient" in spec.needs, name
        if "catalogue" in spec.params:
            assert spec.needs == ("catalogue",), name


def test_windows_and_groups_are_resolved_from_data():
    loaded = {c.id: c for c in claims.load_claims()}
    assert loaded["iraq-suppliers-1980-88"].params["years"] == [1980, 1988]
    assert loaded["iraq-world-share-1980s"].params["years"] == [1980, 1989]
    assert loaded["iraq-suppliers-decade-30"].params["years"] == [2005, 2014]
    members = loaded["iraq-p5-suppliers-decade"].params["group_members"]
    assert members["SUN"] == members["RUS"] == "Russia" and len(set(members.values())) == 5
    from takingstock.analysis import breakdowns
    eu = loaded["car2017-eu-third"].params["group_members"]
    assert tuple(eu) == breakdowns.EU_MEMBERS_2017_ISO  # notebook 02's EU and the ledger's agree


def test_a_data_error_is_not_blamed_on_the_claims_file(tmp_path, catalogue):
    # A catalogue without its `count` column is a data problem: the KeyError propagates
    # instead of being reported as a missing claim parameter.
    cl = claims.load_claims(_write(tmp_path, _claim()))
    with pytest.raises(KeyError, match="count") as err:
        claims.evaluate(cl, claims.ClaimContext(catalogue=catalogue.drop(columns="count")))
    assert not isinstance(err.value, claims.ClaimsError)


def test_transcribed_is_its_own_class(tmp_path, catalogue):
    body = (_claim(id="typed", value=100) + "  check: transcribed\n"
            "  transcribed_from: the rows were typed in from the claim's source\n"
            + _claim(id="typed-off", value=90) + "  check: transcribed\n"
            "  transcribed_from: the same\n")
    ledger = claims.evaluate(claims.load_claims(_write(tmp_path, body)), claims.ClaimContext(catalogue=catalogue))
    v = dict(zip(ledger["id"], ledger["verdict"]))
    assert v == {"typed": "transcribed", "typed-off": "differs"}
    assert "typed in from the claim's source" in ledger.set_index("id").loc["typed", "reason"]
    with pytest.raises(claims.ClaimsError, match="field 'transcribed_from'"):
        claims.load_claims(_write(tmp_path, _claim() + "  check: transcribed\n"))


def test_duplicate_id_rejected(tmp_path):
    path = _write(tmp_path, _claim() + _claim())
    with pytest.raises(claims.ClaimsError, match="claim 'c1', field 'id': duplicate"):
        claims.load_claims(path)


# ----------------------------------------------------------------------------- verdicts


def test_each_verdict_kind(tmp_path, catalogue):
    body = (_claim(id="ok", value=100) + _claim(id="wide", value=90)
            + _claim(id="gone", params="{catalogue: nowhere}")
            + _claim(id="never", value="null", computation="not_checkable"))
    ledger = claims.evaluate(claims.load_claims(_write(tmp_path, body)),
                             claims.ClaimContext(catalogue=catalogue))
    v = dict(zip(ledger["id"], ledger["verdict"]))
    assert v == {"ok": "reproduced", "wide": "differs", "gone": "not checkable",
                 "never": "not checkable"}
    off = ledger.set_index("id").loc["wide"]
    assert off["computed_value"] == 100 and off["stated_value"] == 90
    assert off["reason"] == "Because the fixture says so."
    assert "better data" in ledger.set_index("id").loc["never", "reason"]
    assert claims.verdict_counts(ledger) == {"reproduced": 1, "transcribed": 0, "differs": 1,
                                             "not comparable": 0, "not checkable": 2}
    assert list(ledger.columns[:8]) == ["id", "group", "claim", "stated", "computed", "verdict",
                                        "robustness", "reason"]


@pytest.mark.parametrize("kind, value, stated, computed, ok", [
    ("absolute", 1, 12, 12.9, True), ("absolute", 1, 12, 13.1, False),
    ("relative", 0.1, 100, 109, True), ("relative", 0.1, 100, 111, False),
    ("at_least", 0, 34, 34, True), ("at_least", 0, 34, 22, False),
    ("greater_than", 0, 50, 50, False), ("at_most", 0, 50, 0, True),
    ("less_than", 0, 50, 50, False),
])
def test_tolerance_kinds(kind, value, stated, computed, ok):
    assert claims.Tolerance(kind, value).accepts(stated, computed) is ok


# ----------------------------------------------------------------------------- computations


def test_supplier_counts_follow_the_delivery_rule(deals):
    ctx = _ctx(deals)
    p = {"recipient": "Iraq", "other": "Iran", "years": [1980, 1988]}
    # Atlantis and Borduria delivered to Iraq in the window; the rebel group is not a state.
    assert computations.count_suppliers(ctx, p).value == 2
    # Only Borduria delivered to Iran inside 1980-88 (Atlantis's Iran deal came in 1990).
    assert computations.count_common_suppliers(ctx, p).value == 1
    # By order year only Borduria (1985) counts: Atlantis's Iraq deal was ordered in 1979.
    assert computations.count_suppliers(ctx, {**p, "basis": "order"}).value == 1
    none = claims.compute(claims.load_claims()[7], claims.ClaimContext())
    assert none.value is None and none.missing == "no SIPRI register in this run"
    # The ledger uses supply.window_suppliers (notebook 04's function) and states its rule.
    from takingstock.analysis import supply
    detail = computations.count_common_suppliers(ctx, p).detail
    assert detail.startswith(supply.window_rule("delivery", 1980, 1988))
    assert detail.endswith("Both sides: Borduria")


def test_world_share_uses_every_recipient(deals):
    ctx = _ctx(deals)
    share = computations.recipient_world_share(ctx, {"recipient": "Iraq", "years": [1980, 1989]})
    # Iraq 100 + 50 + 5 = 155; Iran 20; Ruritania 800 -> 155 / 975.
    assert share.value == pytest.approx(100 * 155 / 975)


def test_tiv_shares_and_periods(deals):
    ctx = _ctx(deals)
    wp = computations.supplier_tiv_share(ctx, {"recipient": "Iraq", "years": [1980, 1988], "bloc": "Warsaw Pact"})
    assert wp.value == pytest.approx(100 * 100 / 155)
    total = computations.recipient_tiv_total(ctx, {"recipient": "Iraq", "years": [1980, 1988]})
    assert total.value == pytest.approx(155)
    cut = computations.period_tiv_share(ctx, {"recipient": "Iraq", "years": [1991, 2002], "baseline": [1980, 1989]})
    assert cut.value == 0
    # After 2003: 40 + 30 + 10 = 80 TIV over 2003-2014 (12 years) vs 155 over the 1980s (10).
    flood = computations.period_tiv_share(ctx, {"recipient": "Iraq", "years": [2003, 2014], "baseline": [1980, 1989]})
    assert flood.value == pytest.approx(100 * (80 / 12) / (155 / 10))


def test_units_ordered_reports_orders_outside_the_window(deals):
    ctx = _ctx(deals)
    p = {"recipient": "Iraq", "supplier": "Atlantis", "years": [2011, 2013]}
    abrams = computations.units_ordered(ctx, {**p, "designation": "Abrams", "category": "armoured vehicles"})
    assert abrams.value == 0 and "140 ordered 2008" in abrams.detail
    assert computations.units_ordered(ctx, {**p, "designation": "Stinger", "category": "missiles"}).value == 200
    # A release that rewords the description (portable SAM) keeps the category: same count.
    reworded = deals.assign(description=deals["description"].replace(
        "portable surface-to-air missile", "portable SAM"))
    assert computations.units_ordered(_ctx(reworded), {**p, "designation": "Stinger", "category": "missiles"}).value == 200
    # A description the category mapping lacks is not guessed: not checkable, naming it.
    unmapped = deals.assign(category=deals["category"].where(deals["deal_id"] != "d8", "unmapped"))
    got = computations.units_ordered(_ctx(unmapped), {**p, "designation": "Stinger", "category": "missiles"})
    assert got.value is None and "mapping lacks" in got.missing


def test_units_ordered_does_not_count_a_black_hawk_as_a_hawk(deals):
    # Invented: a transport helicopter whose name contains "Hawk", and a Skyhawk jet.
    extra = pd.DataFrame([
        _deal(20, "Iraq", "Atlantis", 2012, [2014], 60.0, designation="UH-60M Black Hawk", n=24,
              description="transport helicopter", category="aircraft"),
        _deal(21, "Iraq", "Atlantis", 2012, [2014], 10.0, designation="A-4 Skyhawk", n=6,
              description="fighter/ground-attack aircraft", category="aircraft"),
        _deal(22, "Iraq", "Atlantis", 2013, [2015], 20.0, designation="MIM-23B I-Hawk", n=50,
              description="surface-to-air missile", category="missiles"),
    ])
    both = pd.concat([deals, extra], ignore_index=True)
    ctx = _ctx(both)
    hawk = {"recipient": "Iraq", "supplier": "Atlantis", "years": [2011, 2013],
            "designation": r"\bHawk\b", "category": ["missiles", "air defence systems"]}
    got = computations.units_ordered(ctx, hawk)
    assert got.value == 50 and "Black Hawk" not in got.detail
    # Without the missile I-Hawk deal there is no Hawk at all, whatever the helicopter is called.
    ctx = _ctx(both[both["deal_id"] != "d22"])
    assert computations.units_ordered(ctx, hawk).value == 0
    # The committed claim's params leave the helicopter out too.
    committed = {c.id: c for c in claims.load_claims()}["us-hawk-2011-13"].params
    assert computations.units_ordered(ctx, {**committed, "supplier": "Atlantis"}).value == 0


def test_units_ordered_selects_recipients_like_supply(deals):
    # A deal whose SIPRI recipient name differs from the crosswalk state still counts
    # (supply.select_recipients matches either, case-folded).
    odd = deals.copy()
    odd.loc[odd["deal_id"] == "d8", "recipient"] = "Iraq (Kurdistan)"
    ctx = _ctx(odd)
    p = {"recipient": "iraq", "supplier": "Atlantis", "years": [2011, 2013],
         "designation": r"\bStinger\b", "category": "missiles"}
    assert computations.units_ordered(ctx, p).value == 200


def test_catalogue_computations(catalogue):
    ctx = claims.ClaimContext(catalogue=catalogue)
    assert computations.catalogue_total(ctx, {"catalogue": "car_2014_ammunition"}).value == 100
    assert computations.catalogue_share(ctx, {"catalogue": "car_2014_ammunition", "isos": ["SUN", "RUS"]}).value == 30
    # require_all: a state with no row makes the claim not checkable rather than zero.
    missing = computations.catalogue_share(ctx, {"catalogue": "car_2014_ammunition", "isos": ["CHN", "SRB"],
                                           "require_all": True})
    assert missing.value is None and "SRB" in missing.missing
    eu = computations.catalogue_share(ctx, {"catalogue": "car_2017_weapons",
                                      "group_members": claims.load_groups()["eu-2017"]})
    assert eu.value == 25
    # X-codes (non-state) are not origin states.
    assert computations.count_origin_states(ctx, {"catalogue": "amnesty_2015"}).value == 3
    assert computations.count_origin_states(ctx, {"catalogue": "car_2014_ammunition",
                                            "role": "manufacture"}).value == 2
    assert computations.earliest_year(ctx, {"catalogue": "amnesty_2015"}).value == 1914
    bulk = computations.share_made_between(ctx, {"catalogue": "amnesty_2015", "years": [1970, 1999],
                                           "exclude": ["improvised"], "min_dated": 3})
    assert bulk.value == pytest.approx(100 * 2 / 3)
    few = computations.share_made_between(ctx, {"catalogue": "amnesty_2015", "years": [1970, 1999],
                                          "min_dated": 10})
    assert few.value is None


# ----------------------------------------------------------------------------- the guard


def _ledger_csv(tmp_path: Path, verdicts: dict[str, str], computed: dict[str, str] | None = None) -> Path:
    computed = computed or {}
    frame = pd.DataFrame({"id": list(verdicts), "verdict": list(verdicts.values()),
                          "computed": [computed.get(k, "1") for k in verdicts],
                          "reason": ["r"] * len(verdicts)})
    p = tmp_path / "ledger.csv"
    frame.to_csv(p, index=False)
    return p


def test_guard_unchanged_exits_zero(tmp_path):
    accepted = tmp_path / "accepted.csv"
    accepted.write_text("id,verdict,computed\na,reproduced,1\nb,differs,2\n", encoding="utf-8")
    ledger = _ledger_csv(tmp_path, {"a": "reproduced", "b": "differs"}, {"b": "2"})
    assert claims.check_main(["--ledger", str(ledger), "--accepted", str(accepted)]) == 0


def test_guard_changed_verdict_exits_nonzero_naming_the_claim(tmp_path, capsys):
    accepted = tmp_path / "accepted.csv"
    accepted.write_text("id,verdict,computed\na,reproduced,1\nb,differs,2\n", encoding="utf-8")
    ledger = _ledger_csv(tmp_path, {"a": "differs", "b": "differs", "new": "reproduced"}, {"b": "2"})
    assert claims.check_main(["--ledger", str(ledger), "--accepted", str(accepted)]) == 1
    err = capsys.readouterr().err
    assert "a: accepted 'reproduced', now 'differs'" in err
    assert "new: new claim" in err and "  - b:" not in err


def test_guard_accept_rewrites_the_file(tmp_path):
    accepted = tmp_path / "accepted.csv"
    ledger = _ledger_csv(tmp_path, {"a": "differs"})
    assert claims.check_main(["--ledger", str(ledger), "--accepted", str(accepted), "--accept"]) == 0
    assert claims.read_accepted(accepted) == {"a": "differs"}
    assert claims.check_main(["--ledger", str(ledger), "--accepted", str(accepted)]) == 0


def test_guard_catches_a_value_moved_within_tolerance(tmp_path, capsys):
    # Same verdicts, but a's value moved 7.3% -> 7.6%: still within a ±1 tolerance, and listed.
    accepted = tmp_path / "accepted.csv"
    accepted.write_text("id,verdict,computed\na,reproduced,7.3%\nb,differs,2\n", encoding="utf-8")
    ledger = _ledger_csv(tmp_path, {"a": "reproduced", "b": "differs"}, {"a": "7.6%", "b": "2"})
    args = ["--ledger", str(ledger), "--accepted", str(accepted)]
    assert claims.check_main(args) == 1
    err = capsys.readouterr().err
    assert "a: computed value moved 7.3% -> 7.6% (verdict still 'reproduced')" in err
    assert "  - b:" not in err
    # --accept records the new value; the guard is then quiet.
    assert claims.check_main(args + ["--accept"]) == 0
    assert claims.read_accepted_rows(accepted) == {"a": ("reproduced", "7.6%"), "b": ("differs", "2")}
    assert claims.check_main(args) == 0


def test_guard_bad_register_exits_two_with_the_message(tmp_path, capsys):
    bad = tmp_path / "register.csv"
    bad.write_text("this is not a SIPRI export\n1,2,3\n", encoding="utf-8")
    cl = _write(tmp_path, _claim())
    code = claims.check_main(["--claims", str(cl), "--accepted", str(tmp_path / "acc.csv"),
                              "--processed-dir", str(tmp_path), "--sipri-register", str(bad)])
    assert code == 2
    assert str(bad.name) in capsys.readouterr().err


def test_build_context_looks_for_the_register_in_the_runs_sipri_folder(tmp_path):
    (tmp_path / "sipri").mkdir()
    ctx = claims.build_context(RunContext(raw_dir=tmp_path, processed_dir=tmp_path))
    assert ctx.deals is None and ctx.catalogue is None and ctx.register_label == ""
    assert ctx.label == "no SIPRI register"


def test_guard_bad_accepted_file_names_row_and_column(tmp_path, capsys):
    accepted = tmp_path / "accepted.csv"
    accepted.write_text("id,verdict,computed\na,maybe,1\n", encoding="utf-8")
    ledger = _ledger_csv(tmp_path, {"a": "differs"})
    assert claims.check_main(["--ledger", str(ledger), "--accepted", str(accepted)]) == 2
    assert "row 1, column 'verdict'" in capsys.readouterr().err


def test_guard_recomputes_from_data_and_catches_a_moved_verdict(tmp_path, catalogue):
    proc = tmp_path / "processed"
    proc.mkdir()
    catalogue.to_parquet(proc / "catalogue.parquet")
    cl = _write(tmp_path, _claim(id="total", value=100))
    accepted = tmp_path / "accepted.csv"
    args = ["--claims", str(cl), "--accepted", str(accepted), "--processed-dir", str(proc),
            "--sipri-register", "none"]
    assert claims.check_main(args + ["--accept"]) == 0
    assert claims.check_main(args) == 0
    # A data change that moves the number: one cartridge more.
    catalogue.loc[0, "count"] = 31
    catalogue.to_parquet(proc / "catalogue.parquet")
    assert claims.check_main(args) == 1


def test_ledger_origin_and_eu_counts_are_the_breakdowns_counts(catalogue):
    from takingstock.analysis import breakdowns

    ctx = claims.ClaimContext(catalogue=catalogue)
    amnesty = catalogue[catalogue["catalogue"] == "amnesty_2015"]
    assert (computations.count_origin_states(ctx, {"catalogue": "amnesty_2015"}).value
            == breakdowns.distinct_countries_any(amnesty)["n"] == 3)
    car17 = catalogue[catalogue["catalogue"] == "car_2017_weapons"]
    eu = computations.catalogue_share(ctx, {"catalogue": "car_2017_weapons",
                                      "group_members": claims.load_groups()["eu-2017"]})
    assert eu.value == breakdowns.eu_share(car17)["share"] == 25
    assert "Germany, Romania" in eu.detail


def test_claims_without_a_source_figure_label_our_threshold():
    loaded = {c.id: c for c in claims.load_claims()}
    embargo, flood = loaded["embargo-cut-1991-2002"], loaded["flood-after-2003"]
    # The release gives no figure: the stated text says so and the threshold is labelled ours.
    for c in (embargo, flood):
        assert "no figure" in c.stated_text and c.our_test.startswith("ours:")
    # "cut" = at most a tenth of the 1980s level; "flooded again" = at least a quarter of it.
    assert (embargo.stated_value, embargo.tolerance.kind) == (10, "at_most")
    assert (flood.stated_value, flood.tolerance.kind) == (25, "at_least")
    assert embargo.params["baseline"] == flood.params["baseline"] == [1980, 1989]
    # "at least 25" in the release: at_least, with the release's words.
    origin = loaded["origin-states-25"]
    assert origin.stated_text == "at least 25 countries" and origin.tolerance.kind == "at_least"
    assert origin.confidence == "PR"


