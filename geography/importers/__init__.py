"""Importers that build the registry from the curated files in ``fixtures/``.

Parsing and the decisions about each source live here; ``geography.loader`` runs them and
hands the result to ``registry.services``; the ``load_reference_data`` command only reads
options and prints. Each module handles one family of sources and notes the editorial
decisions it makes, with the evidence for them.
"""
