"""The test harness itself: a missing real part (shared data, a module) skips locally and fails under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import importlib.util, sys
import pytest
spec = importlib.util.spec_from_file_location("harness_conftest", sys.argv[1])
conftest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conftest)
for label, call in (("need", lambda: conftest.need(False, "probe reason")),
                    ("need_module", lambda: conftest.need_module("cib_no_such_module"))):
    try:
        call()
        print(label, "passed")
    except pytest.fail.Exception as exc:
        print(label, "failed", exc)
    except pytest.skip.Exception as exc:
        print(label, "skipped", exc)
print("shared", conftest.SHARED)
"""


@pytest.mark.parametrize("ci,outcome", [("true", "failed"), ("", "skipped")])
def test_need_fails_in_ci_and_skips_elsewhere(ci: str, outcome: str, tmp_path: Path) -> None:
    env = {**os.environ, "CI": ci, "CIB_SHARED": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "tests" / "conftest.py")], capture_output=True,
                         text=True, env=env, check=True)
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"need {outcome}") and "probe reason" in lines[0]
    assert lines[1].startswith(f"need_module {outcome}") and "cib_no_such_module" in lines[1]
    assert lines[2] == f"shared {tmp_path}"


def test_peer_oracle_fails_in_ci_without_the_peer_data(tmp_path: Path) -> None:
    """The README's peer-oracle figure must never be skipped quietly: CIB_SHARED is honoured, CI fails."""
    env = {**os.environ, "CI": "true", "CIB_SHARED": str(tmp_path)}
    node = "tests/test_signals.py::test_peer_oracle_reproduces_coordination_network_toolkit"
    run = subprocess.run([sys.executable, "-m", "pytest", node, "-q", "-p", "no:cacheprovider", "-p", "no:cov"],
                         capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert run.returncode == 1, run.stdout
    assert f"required in CI: peer-tool outputs not found at {tmp_path / 'peers'}" in run.stdout
