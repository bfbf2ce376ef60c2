"""The sections of the notebooks: one function per heading, each returning a declared finding.

A section function takes data the notebook has loaded (a catalogue's rows, the SIPRI deals,
the ledger) and the run's parameters, computes with the named, tested functions of
:mod:`takingstock.breakdowns`, :mod:`takingstock.supply`, :mod:`takingstock.designs` and
:mod:`takingstock.claims`, and returns a :class:`takingstock.findings.Finding`: the tables with
their captions, the figures with their titles, source lines and alt text, and the headlines.
Where the data cannot support the section (a window the recipient lacks, an export that does
not hold what it needs) it returns :func:`takingstock.findings.skipped` with the reason.

* :mod:`.origin` - notebook 02, where the arsenal was designed and made;
* :mod:`.eras` - notebook 03, when it was made and designed, and when arms reached the recipient;
* :mod:`.supply` - notebook 04, who supplied the recipient, when, and the paper trail;
* :mod:`.ledger` - notebook 05, the claims ledger.

Computations live in the domain modules; a section only chooses, words and draws.
"""
