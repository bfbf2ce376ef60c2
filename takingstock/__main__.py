"""``python -m takingstock``: the ``taking-stock`` command (:mod:`takingstock.command`)."""

from takingstock.command import main

main()
