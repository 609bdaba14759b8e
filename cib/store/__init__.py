"""Graph stores: the embedded Parquet workspace (default) and Neo4j, behind one `GraphStore` interface."""

from cib.store.base import GraphStore, derive_links, derive_media
from cib.store.parquet import ParquetStore, default_workspace

__all__ = ["GraphStore", "ParquetStore", "default_workspace", "derive_links", "derive_media"]
