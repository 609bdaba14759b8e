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


def _script_module(name: str = "coverage_gate"):  # noqa: ANN202
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_gate_fails_a_module_below_the_bar(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import doctest
    import json

    gate = _script_module()
    assert doctest.testmod(gate).failed == 0

    def report(lines: int) -> Path:
        path = tmp_path / f"cov{lines}.json"
        files = {"cib/a.py": {"summary": {"covered_lines": lines, "num_statements": 100, "covered_branches": 3,
                                          "num_branches": 4}},
                 "tests/test_a.py": {"summary": {"covered_lines": 0, "num_statements": 100}}}
        path.write_text(json.dumps({"files": files}))
        return path

    assert gate.main([str(report(90))]) == 0
    out = capsys.readouterr().out
    assert "note: cib/a.py: 90.0 % of lines, within 2 points of the bar" in out
    assert "1 modules, 90.0 % of 100 lines, 75.0 % of 4 branches; lowest cib/a.py 90.0 %; 0 below 90 %" in out
    assert gate.main([str(report(92))]) == 0 and "within" not in capsys.readouterr().out
    assert gate.main([str(report(89)), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "FAIL: cib/a.py: 89.0 % of lines < 90 % (11 of 100 lines missed, branches 75.0 %" in err
    assert gate.main([str(report(89)), "--min", "85"]) == 0
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"files": {}}))
    assert gate.main([str(empty)]) == 1


SKIPPING_TESTS = '''
import sys
import pytest

def test_skips_in_body():
    pytest.skip("model not installed")

@pytest.mark.skip(reason="marked skip")
def test_skip_marker():
    pass

@pytest.mark.skipif(sys.platform != "nowhere", reason="skipif marker")
def test_skipif_marker():
    pass

def test_passes():
    pass

def test_allowed():
    pytest.skip("probe platform limitation")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False
'''


def _run_skipping_suite(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    """The real tests/conftest.py (plus one allowed skip) over tests that skip in every way pytest offers."""
    conftest = (ROOT / "tests" / "conftest.py").read_text("utf-8")
    allowed = 'CI_ALLOWED_SKIPS["test_probe.py::test_allowed"] = "probe limitation"\n'
    (tmp_path / "conftest.py").write_text(conftest + "\n" + allowed, "utf-8")
    (tmp_path / "test_probe.py").write_text(SKIPPING_TESTS, "utf-8")
    (tmp_path / "test_module_skip.py").write_text(
        'import pytest\npytest.skip("module skipped", allow_module_level=True)\n', "utf-8")
    env = {**os.environ, "CI": ci}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-p", "no:cov",
                           "-o", "addopts=", "--continue-on-collection-errors", "--rootdir", str(tmp_path), str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, check=False)


def test_every_skip_fails_under_ci_except_the_allowed_ones(tmp_path: Path) -> None:
    run = _run_skipping_suite(tmp_path, "true")
    out = run.stdout
    assert run.returncode == 1, out
    assert "FAILED test_probe.py::test_skips_in_body" in out
    for node in ("test_probe.py::test_skip_marker", "test_probe.py::test_skipif_marker"):  # markers act in setup
        assert f"ERROR {node}" in out
    assert "ERROR test_module_skip.py" in out and "module skipped" in out
    assert "skipped under CI=true" in out and "model not installed" in out and "marked skip" in out
    assert "PASSED test_probe.py::test_passes" in out
    assert "XFAIL test_probe.py::test_expected_failure" in out
    assert "SKIPPED [1] test_probe.py" in out and "probe platform limitation" in out
    assert "1 failed, 1 passed, 1 skipped, 1 xfailed, 3 errors" in out


def test_skips_stay_skips_outside_ci(tmp_path: Path) -> None:
    run = _run_skipping_suite(tmp_path, "")
    assert run.returncode == 0, run.stdout
    assert "1 passed, 5 skipped, 1 xfailed" in run.stdout and "module skipped" in run.stdout


def test_mutation_report_names_survivors_and_refuses_an_unknown_file(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import doctest
    import json

    report = _script_module("mutation_report")
    assert doctest.testmod(report).failed == 0
    (tmp_path / "cib").mkdir()
    codes = {"m__mutmut_1": 1, "m__mutmut_2": 0, "m__mutmut_3": None, "m__mutmut_4": 33}
    (tmp_path / "cib" / "a.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    assert report.main(["--root", str(tmp_path), "--survivors", "cib/a.py"]) == 0
    assert capsys.readouterr().out.split() == ["m__mutmut_2", "m__mutmut_4"]
    assert report.main(["--root", str(tmp_path), "--survivors", "mutants/cib/a.py.meta"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.startswith("mutants/cib/a.py.meta: no mutmut results under ")
