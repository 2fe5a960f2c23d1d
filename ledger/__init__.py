"""Forecast Ledger: a tamper-evident ledger of analytic forecasts.

Every stage of the flow is a module usable without the CLI:
``models`` (what a prediction is), ``store`` (the DuckDB ledger; its schema in
``migrations``, its hash chain in ``chain``),
``predictions`` (prediction files), ``io`` (import/export), ``scoring``,
``extract``, ``review`` and ``report``.
"""

__version__ = "0.1.0"
