"""docker-compose.yml: the password rule is checked before Neo4j starts, and nothing restarts forever.

Docker is not available in CI, so the check's own shell command is run here with ``sh`` exactly as the
container would run it (compose's ``$$`` escape undone).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

COMPOSE = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text("utf-8")


def _check_command() -> str:
    block = COMPOSE.split("password-check:", 1)[1].split("\n  neo4j:", 1)[0]
    line = re.search(r"^\s+- '(.+)'$", block, re.MULTILINE)
    assert line, "password-check has no command"
    return line.group(1).replace("$$", "$")


@pytest.mark.parametrize(("password", "ok"), [("1234567", False), ("", False), ("12345678", True),
                                               ("pässwörd-lång", True)])
def test_password_rule_is_checked_before_start(password: str, ok: bool) -> None:
    result = subprocess.run(["sh", "-c", _check_command()], env={"CIB_NEO4J_PASSWORD": password},
                            capture_output=True, text=True, check=False)
    assert (result.returncode == 0) is ok
    if not ok:
        assert result.stderr.strip() == f"CIB_NEO4J_PASSWORD is {len(password)} characters; Neo4j 5 needs at least 8"


def test_server_waits_for_the_check_and_never_loops() -> None:
    neo4j = COMPOSE.split("\n  neo4j:", 1)[1].split("\n  neo4j-import:", 1)[0]
    assert "condition: service_completed_successfully" in neo4j
    assert re.search(r"restart: on-failure:\d", neo4j) and "unless-stopped" not in COMPOSE
    assert '"127.0.0.1:7474:7474"' in neo4j  # the Browser, on localhost only


def test_import_service_reads_the_args_file_cib_writes() -> None:
    block = COMPOSE.split("\n  neo4j-import:", 1)[1]
    assert 'profiles: ["import"]' in block and "@/import/import.args" in block and "neo4j-data:/data" in block
