"""Tests of ``takingstock.analysis.sipri_deals``: the run's recipients' deals in its primary
export, or the sentence saying why a SIPRI section is left out (no export, an export that does
not hold the recipients, no deal to a misspelt recipient), on the invented fixture."""

from __future__ import annotations

from pathlib import Path

from takingstock.analysis.sipri_deals import recipient_deals
from takingstock.data.runcontext import RunContext
from takingstock.data.sipri_terms import SIPRI_SOURCE_LINE

FIXTURE = Path(__file__).parent / "fixtures" / "sipri" / "invented_register.csv"


def _run(tmp_path: Path, register: Path | None, recipients: list[str]) -> RunContext:
    params = {"raw_dir": str(tmp_path / "raw"), "output_dir": str(tmp_path / "out"), "recipients": recipients}
    if register is not None:
        params["sipri_register"] = str(register)
    return RunContext.from_params(params)


def test_the_recipients_deals_of_a_whole_export(tmp_path):
    got = recipient_deals(_run(tmp_path, FIXTURE, ["Iraq"]))
    assert got.why == "" and got.who == "Iraq"
    assert sorted(got.deals["recipient"].unique()) == ["Iraq"] and len(got.deals) == 5
    assert len(got.everyone) == 8  # the comparison recipients' deals too
    assert got.source == f"{SIPRI_SOURCE_LINE} SIPRI release of 2024-02-02."
    assert got.lacks(["Iran", "Iraq"]) == "" and got.coverage.all_recipients
    win, why = got.gate("any", comparison="")
    assert win is None and why.startswith("No other recipient to compare with is set")


def test_without_an_export_the_sections_say_how_to_get_one(tmp_path):
    run = _run(tmp_path, None, ["Iraq"])
    got = recipient_deals(run)
    assert got.register is None and got.coverage is None and got.deals.empty
    assert got.why == run.missing_register() and "fetch-sipri" in got.why
    assert got.gate("any") == (None, got.why) and got.describe() == got.why


def test_an_export_for_another_recipient_is_not_checkable(tmp_path):
    lines = FIXTURE.read_bytes().decode("latin-1").splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.startswith("Recipient,"))
    preamble = [line.replace("to All countries", "to Iraq") for line in lines[:header]]
    iraq = [line for line in lines[header + 1:] if line.startswith("Iraq,")]
    subset = tmp_path / "iraq.csv"
    subset.write_bytes("".join(preamble + [lines[header]] + iraq).encode("latin-1"))
    got = recipient_deals(_run(tmp_path, subset, ["Iran"]))
    assert got.deals.empty and len(got.everyone) == 5
    assert got.why == ("Not checkable: this export holds deals to Iraq only; Iran is not in it. "
                       "The sections on SIPRI's deals are left out.")


def test_a_misspelt_recipient_gets_the_closest_names(tmp_path):
    got = recipient_deals(_run(tmp_path, FIXTURE, ["Irak"]))
    assert got.deals.empty
    assert got.why == "SIPRI records no deals to Irak in this export (did you mean 'Iraq', 'Iran'?)."
