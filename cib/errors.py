"""Exception hierarchy; the CLI maps every `CibError` to one clear line and a non-zero exit."""

from __future__ import annotations

__all__ = ["CibError", "LoaderError", "RecordError", "SchemaError", "StoreError"]


class CibError(Exception):
    """Base class of every error cib raises on purpose."""


class LoaderError(CibError):
    """A whole input file cannot be read (unknown format, unreadable, truncated document).

    Examples
    --------
    >>> str(LoaderError("export.json", 12, "invalid JSON"))
    'export.json: record 12: invalid JSON'
    """

    def __init__(self, path: str, record: int | None, reason: str) -> None:
        self.path, self.record, self.reason = path, record, reason
        where = f"{path}: record {record}" if record is not None else path
        super().__init__(f"{where}: {reason}")


class RecordError(CibError):
    """One input record cannot be mapped; it is quarantined with this reason."""


class SchemaError(CibError):
    """A frame lacks a column the schema requires, or a column has the wrong type."""


class StoreError(CibError):
    """The workspace or the graph database failed; the message never contains credentials."""
