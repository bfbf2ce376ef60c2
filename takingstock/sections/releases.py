"""Notebook 06's sections: what changed between two SIPRI releases, and which claims moved with it.

The matching rule, the revisions and the register facts are :mod:`takingstock.releases`'; a
section only chooses, words and shows. Which two exports are compared is the run context's
choice (:meth:`takingstock.runcontext.RunContext.registers`, newest release first), unless the
notebook's ``old_release_file`` / ``new_release_file`` name them. TIV is SIPRI's volume measure,
not money; the comparisons are ours, not SIPRI's.
"""

from __future__ import annotations

from takingstock import claims, releases, sipri
from takingstock.eras import periods_for, periods_note
from takingstock.coverage import Coverage
from takingstock.figures import Figure
from takingstock.findings import Finding, Table, skipped
from takingstock.runcontext import RunContext


class Compared:
    """The two releases compared for the run's recipients, or why they cannot be."""

    def __init__(self, run: RunContext, old_file: str = "", new_file: str = ""):
        self.run, self.who, self.tag = run, ", ".join(run.recipients), run.tag()
        self.choice = releases.choose_releases(run.registers, old_file, new_file, folder=run.sipri_dir)
        self.comp, self.notes, self.not_comparable = None, [], ""
        if not self.choice.ok:
            self.notes.append(self.choice.reason)
            return
        self.comp = releases.compare(self.choice.old, self.choice.new, read=run.read_register)
        self.old_label, self.new_label = self.comp.labels
        self.coverage = [Coverage.from_register(self.comp.old), Coverage.from_register(self.comp.new)]
        self.notes += [c.describe() for c in self.coverage]
        self.sub, self.sub_revs = self.comp.for_recipients(list(run.recipients))
        self.not_comparable = next((f"{c.source}: {why}" for c in self.coverage for r in run.recipients
                                    if (why := c.lacks_recipient(r))), "")
        if not self.not_comparable and self.sub.old.empty and self.sub.new.empty:
            self.not_comparable = f"neither export has a deal to {self.who} (check the spelling: a SIPRI or crosswalk name)"
        if self.not_comparable:
            self.notes.append(f"Not comparable for {self.who}: {self.not_comparable}. "
                              f"The sections on {self.who}'s deals are skipped.")
        self.source = (f"{sipri.SIPRI_SOURCE_LINE} Releases of {self.old_label} and {self.new_label}; "
                       "matching and differences are ours.")

    @property
    def vs(self) -> str:
        return f"{self.old_label} vs {self.new_label}"

    def describe(self) -> Finding:
        return Finding(notes=self.notes)

    def gap(self, whole: bool = False) -> str:
        """Why a section cannot run (``""`` when it can); ``whole`` sections need no recipient."""
        if self.comp is None:
            return "Fewer than two releases at hand: nothing to compare."
        return "" if whole or not self.not_comparable else f"Skipped: {self.not_comparable}."


def match_levels(c: Compared) -> Finding:
    """Deals paired at each level of the rule, for the whole register and the recipients."""
    if (why := c.gap(whole=True)):
        return skipped(why)
    found = Finding(source=c.source, tables=[Table("match_levels", c.comp.matching.level_counts(),
                    f"Deals of the whole register paired at each level of the matching rule, {c.vs}")])
    if c.gap():
        return found
    found.tables.append(Table(f"{c.tag}_match_levels", c.sub.level_counts(),
                              f"Deals to {c.who} paired at each level of the matching rule, {c.vs}"))
    found.headlines += [(f"Deals to {c.who} matched between {c.old_label} and {c.new_label}", f"{len(c.sub.pairs):,}"),
                        (f"Deals to {c.who} added in {c.new_label}", f"{len(c.sub.added):,}"),
                        (f"Deals to {c.who} dropped from {c.old_label}", f"{len(c.sub.dropped):,}")]
    return found


def added_dropped(c: Compared) -> Finding:
    """The recipients' deals in one release only."""
    if (why := c.gap()):
        return skipped(why)
    added, dropped = releases.deal_list(c.sub.added), releases.deal_list(c.sub.dropped)
    return Finding(source=c.source, tables=[
        Table(f"{c.tag}_deals_added", added, f"Deals to {c.who} in the release of {c.new_label} with no partner in "
                                             f"that of {c.old_label} ({len(added)})"),
        Table(f"{c.tag}_deals_dropped", dropped, f"Deals to {c.who} in the release of {c.old_label} with no partner "
                                                 f"in that of {c.new_label} ({len(dropped)})")])


def revisions(c: Compared) -> Finding:
    """Revisions of matched deals: counts per field, then the deals whose substance changed."""
    if (why := c.gap()):
        return skipped(why)
    counts = releases.revision_counts(c.sub, c.sub_revs)
    revised = releases.revised_deals(c.sub, c.sub_revs, releases.SUBSTANTIVE_FIELDS)
    arrow = f"{c.old_label} -> {c.new_label}"
    return Finding(source=c.source, tables=[
        Table(f"{c.tag}_revision_counts", counts, f"Matched deals to {c.who} revised in each field, {arrow}"),
        Table(f"{c.tag}_revised_deals", revised, f"{len(revised)} matched deals to {c.who} whose order, numbers, "
                                                 f"deliveries, TIV, status or designation changed, {arrow}")],
        headlines=[(f"Matched deals to {c.who} revised in order, numbers, deliveries, TIV, status or designation",
                    f"{len(revised):,}")])


def tiv_by_period(c: Compared) -> Finding:
    """TIV delivered by period and supplier in each release and the change (table and figure)."""
    if (why := c.gap()):
        return skipped(why)
    periods = periods_for(c.run.recipients, c.run.period_table())
    by_period = releases.tiv_by_period_supplier(c.sub, list(c.run.recipients), periods)
    totals = releases.period_totals(by_period, periods)
    both = f"the releases of {c.old_label} and {c.new_label}"
    return Finding(source=c.source, tables=[
        Table(f"{c.tag}_tiv_by_period_totals", totals, f"TIV delivered to {c.who} per period in {both}, and the "
                                                       "change (not money)", save=False),
        Table(f"{c.tag}_tiv_by_period_supplier", by_period, f"TIV delivered to {c.who} by period and supplier in "
                                                            f"{both}, and the change (millions of TIV; not money)")],
        figures=[Figure(f"{c.tag}_tiv_change_by_period", releases.change_figure(by_period, c.who, c.source),
                        releases.change_alt(by_period, c.who))], notes=[n for n in [periods_note(periods)] if n])


def vocabulary(c: Compared) -> Finding:
    """Names in one release only, and weapon descriptions renamed or re-described."""
    if (why := c.gap(whole=True)):
        return skipped(why)
    renamed = releases.renamed_descriptions(c.comp.matching)
    n = int((renamed["kind"] == "renamed").sum())
    return Finding(source=c.source, tables=[
        Table("names_changed", releases.name_changes(c.comp.matching), f"Recipient and supplier names in one release "
                                                                        f"only, {c.vs}"),
        Table("renamed_descriptions", renamed, f"Weapon descriptions changed on matched deals, {c.vs}: {n} renamed "
                                               f"(wording retired), {len(renamed) - n} re-described")],
        headlines=[(f"Weapon descriptions renamed (wording retired in {c.new_label})", str(n))])


def register_facts(c: Compared) -> Finding:
    """What each export holds, and TIV per decade in each release."""
    if (why := c.gap(whole=True)):
        return skipped(why)
    world_gap = next(filter(None, (cov.lacks_world() for cov in c.coverage)), None)
    notes = [f"Not the whole register: {world_gap}. The facts below describe what each export holds."] if world_gap else []
    m = c.comp.matching
    return Finding(source=c.source, notes=notes, tables=[
        Table("register_facts", releases.register_facts(m), f"What each export holds, releases of {c.old_label} and "
                                                            f"{c.new_label}"),
        Table("tiv_by_decade", releases.tiv_by_decade(m), f"TIV delivered to all recipients per decade of delivery, "
                                                          f"releases of {c.old_label} and {c.new_label} (millions; not money)")],
        headlines=[(f"Deals in the register, {c.old_label} -> {c.new_label}", f"{len(m.old):,} -> {len(m.new):,}")])


def claims_moved(c: Compared) -> Finding:
    """Every claim whose verdict or value differs between the releases, and the deals behind it."""
    if (why := c.gap(whole=True)):
        return skipped(why)
    claim_list = claims.load_claims(c.run.claims_file)
    ledger = claims.evaluate_releases(claim_list, c.comp.claim_contexts())
    moved = releases.claims_that_moved(ledger, claim_list, c.comp.matching, c.comp.revs)
    c.n_moved = len(moved)
    return Finding(source=c.source, notes=[f"{len(moved)} of {len(ledger)} claims moved between {c.old_label} and "
                                           f"{c.new_label}."],
                   tables=[Table("claims_moved", moved, f"Claims whose verdict or computed value differs between the "
                                                        f"releases of {c.old_label} and {c.new_label}")],
                   headlines=[(f"Claims whose verdict or value moved, {c.old_label} -> {c.new_label}", str(len(moved)))])


def summary(c: Compared) -> str:
    """The index's sentence for notebook 06."""
    if c.comp is None:
        return c.choice.reason
    moved = getattr(c, "n_moved", 0)
    return (f"SIPRI's releases of {c.old_label} and {c.new_label} compared deal by deal"
            + (f"; {c.who}: {len(c.sub.pairs):,} deals matched, {len(c.sub.added)} added, {len(c.sub.dropped)} dropped"
               if not c.not_comparable else f"; not comparable for {c.who}: {c.not_comparable}")
            + (f"; {moved} claims moved." if moved else "; no claim moved."))


def headline_if_none(c: Compared) -> Finding:
    """The index's headline when fewer than two releases are at hand."""
    return Finding(headlines=[("SIPRI releases at hand", "fewer than two")]) if c.comp is None else Finding()


def parameters(c: Compared) -> dict:
    return {"old_release_file": str(c.choice.old or ""), "new_release_file": str(c.choice.new or ""),
            "recipients": list(c.run.recipients), "claims_path": str(c.run.claims_file)}
