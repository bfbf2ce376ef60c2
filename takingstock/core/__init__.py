"""The ground floor: where a project's files are, how outputs are written whole, what a run records.

Nothing here knows about arms, SIPRI or notebooks' findings; every other layer may import it.
"""
