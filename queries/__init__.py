"""Cypher files, one statement each: ``schema/`` (constraints), ``ids/`` (key → internal id maps), ``write/`` (batched UNWIND writes),
``read/`` (the investigators' library).

A data package: it imports nothing from cib. The first line of every file is ``// purpose — params``.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import LiteralString, cast

__all__ = ["cypher", "describe", "names"]


def names(folder: str | None = None) -> list[str]:
    """Sorted query names (``folder/stem``), optionally of one folder.

    Examples
    --------
    >>> "schema/account_uid" in names()
    True
    """
    root = resources.files(__name__)
    found = []
    for sub in ("schema", "ids", "write", "read"):
        if folder and sub != folder:
            continue
        found += [f"{sub}/{entry.name[:-7]}" for entry in root.joinpath(sub).iterdir() if entry.name.endswith(".cypher")]
    return sorted(found)


@functools.cache
def cypher(name: str) -> LiteralString:
    """The text of query `name` (e.g. ``"read/cluster_members"``); `KeyError` lists the known names."""
    if name not in names():
        raise KeyError(f"unknown query {name!r}; known: {', '.join(names())}")
    folder, stem = name.split("/", 1)
    text = resources.files(__name__).joinpath(folder, f"{stem}.cypher").read_text("utf-8")
    return cast(LiteralString, text)


def describe(name: str) -> str:
    """The purpose line of query `name` (its first line, without ``//``)."""
    return cypher(name).splitlines()[0].lstrip("/").strip()
