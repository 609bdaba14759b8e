"""Every command documents itself: an Example in its help, and help text on every option."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from cib.cli import cli


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, prefix + name + " "))
    return found


@pytest.mark.parametrize("name,command", _commands(cli))
def test_help_and_examples(name: str, command: click.Command) -> None:
    if not isinstance(command, click.Group):
        assert "Example:" in (command.help or ""), name
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version"):
            assert param.help, f"{name} --{param.name} has no help"


def test_importing_cib_loads_no_plugins_or_heavy_modules() -> None:
    code = ("import sys, cib, cib.cli; bad = [m for m in ('loaders', 'reports', 'neo4j', 'pyvis', 'networkx') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
