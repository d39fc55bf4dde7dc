"""Version 1 of the lookup API: codes, identifiers, names and dates in JSON, in bulk, with an
OpenAPI description and a code checker for whole CSV files. Mounted at ``/api/v1/``."""
