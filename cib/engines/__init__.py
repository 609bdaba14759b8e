"""Scoring engines: one specification per stage (cib.signals, cib.scoring), two executions.

- ``polars`` (default): one machine, `cib.scoring.score` on the workspace's Parquet.
- ``spark``: the same stages on Apache Spark (`cib.engines.spark`), for data that does not fit one machine;
  needs the ``spark`` extra (``pip install 'cib[spark]'``).

Both return a `cib.scoring.ScoreResult` that the CLI writes into the workspace the same way, so ``cib report``
and ``cib export`` do not know which engine ran.

>>> ENGINES
('polars', 'spark')
"""

from __future__ import annotations

__all__ = ["ENGINES"]

ENGINES = ("polars", "spark")
