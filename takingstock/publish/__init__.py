"""The site and the PDF: pages rendered from executed notebooks, the index, the print edition.

The top of the data-to-page chain: it reads what the notebooks recorded and imports the layers
below; nothing below imports it.
"""
