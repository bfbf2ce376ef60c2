"""What a notebook publishes: the house chart style, tables, labels and number formats, the Briefing.

Used by the notebooks; draws on ``analysis`` and ``data`` frames but never on the site or the PDF.
"""
