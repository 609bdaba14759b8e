"""Plugin hook specifications (pluggy): third-party packages add loaders and exporters through these."""

from __future__ import annotations

from typing import Any

import pluggy

__all__ = ["hookimpl", "hookspec", "register_exporters", "register_loaders"]

hookspec = pluggy.HookspecMarker("cib")
hookimpl = pluggy.HookimplMarker("cib")


@hookspec
def register_loaders() -> list[Any]:  # type: ignore[empty-body]
    """Return loader classes (see `cib.ingest.Loader`)."""


@hookspec
def register_exporters() -> list[Any]:  # type: ignore[empty-body]
    """Return exporter callables ``(frame, path) -> None`` keyed by their ``name`` attribute."""
