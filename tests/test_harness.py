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


def _gate_module():  # noqa: ANN202
    import importlib.util

    spec = importlib.util.spec_from_file_location("coverage_gate", ROOT / "scripts" / "coverage_gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_gate_fails_a_module_below_the_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import doctest
    import json

    gate = _gate_module()
    assert doctest.testmod(gate).failed == 0

    def report(lines: int) -> Path:
        path = tmp_path / f"cov{lines}.json"
        files = {"cib/a.py": {"summary": {"covered_lines": lines, "num_statements": 100, "covered_branches": 3,
                                          "num_branches": 4}},
                 "tests/test_a.py": {"summary": {"covered_lines": 0, "num_statements": 100}}}
        path.write_text(json.dumps({"files": files}))
        return path

    assert gate.main([str(report(90))]) == 0
    assert "cib/a.py" in capsys.readouterr().out
    assert gate.main([str(report(89)), "--quiet"]) == 1
    assert "FAIL: cib/a.py: 89.0 % of lines < 90 %" in capsys.readouterr().err
    assert gate.main([str(report(89)), "--min", "85"]) == 0
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"files": {}}))
    assert gate.main([str(empty)]) == 1
