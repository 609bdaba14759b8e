"""cib — coordinated-inauthentic-behaviour graph analyzer.

Public API: the schema, the stores and the errors; the CLI (`cib.cli`) composes them.
"""

import os

# Polars allocates through jemalloc and sets its decay to 500 ms for dirty and 1,000 ms for "muzzy" pages; the
# load's commit (one sort of every post) then peaks several hundred MiB above what it needs. Returning muzzy
# pages at once cost no measurable time on the 1M-post load (benchmarks/load_speed.py) and keeps its peak RSS
# under 2 GB. Polars appends this to its own setting when it is first imported, so it must be set before that;
# a value the user set wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "muzzy_decay_ms:0")

from cib.errors import CibError, LoaderError, RecordError, SchemaError, StoreError
from cib.schema import ACCOUNTS, CLUSTERS, EDGES, EXPORT, LINKS, MEDIA, MEMBERS, POSTS, conform

__all__ = [
    "ACCOUNTS",
    "CLUSTERS",
    "EDGES",
    "EXPORT",
    "LINKS",
    "MEDIA",
    "MEMBERS",
    "POSTS",
    "CibError",
    "LoaderError",
    "RecordError",
    "SchemaError",
    "StoreError",
    "conform",
]

__version__ = "0.1.0"
