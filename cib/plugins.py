"""The plugin manager: built-in loaders plus any registered under the ``cib`` entry-point group.

Entry points are loaded lazily, on first use, never at import time; a plugin that fails to import raises.
"""

from __future__ import annotations

import functools
from typing import Any

import pluggy

from cib import hookspecs

__all__ = ["get_loaders", "plugin_manager"]


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("cib")
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints("cib")
    return pm


def get_loaders() -> list[Any]:
    """Instances of every registered loader class (the built-ins register through the same entry points),
    de-duplicated, sorted by platform and class name so that detection order is stable."""
    classes: dict[str, Any] = {}
    for group in plugin_manager().hook.register_loaders():
        for cls in group or []:
            classes[f"{cls.platform}:{cls.__module__}.{cls.__qualname__}"] = cls
    return [classes[key]() for key in sorted(classes)]
