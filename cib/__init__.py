"""cib — coordinated-inauthentic-behaviour graph analyzer.

Public API: the schema, the stores and the errors; the CLI (`cib.cli`) composes them.
"""

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
