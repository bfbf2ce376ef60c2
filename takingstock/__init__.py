"""taking-stock: rebuild the evidence behind Amnesty International's *Taking Stock* (2015).

The package holds every rule of the pipeline; the notebooks in ``notebooks/`` are thin
narratives that call it. See ``README.md`` for the method and ``docs/CONTRACTS.md`` for the
shapes of the data that pass between steps.
"""

__version__ = "0.1.0"
