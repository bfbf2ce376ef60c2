"""Reading and checking raw data: the SIPRI register, the catalogues, countries, provenance.

A module here turns a file into a checked frame (or a clear error naming the file, row and
column) and never computes a finding; it imports only from ``takingstock.core`` and other
modules of ``takingstock.data``, never from a layer above (analysis, report, publish).
"""
