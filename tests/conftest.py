"""Shared fixtures: sample paths, a loaded scenario workspace, a real Neo4j server, Chromium."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CIB_SHARED") or ROOT.parent / "shared")
SAMPLES = SHARED / "samples"
DATA = ROOT / "tests" / "data"
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# Skips allowed under CI=true: test node id -> the platform limitation that makes the test impossible on a CI
# machine. Every entry must also be listed in README "Tests, coverage and mutation testing". Any other skip
# (a `pytest.skip`, a skip/skipif marker, a module-level skip) is turned into a failure under CI=true.
CI_ALLOWED_SKIPS: dict[str, str] = {}


def _skip_reason(longrepr: object) -> str:
    """The reason of a skip report (pytest stores ``(path, line, "Skipped: reason")``).

    >>> _skip_reason(("t.py", 3, "Skipped: no model"))
    'no model'
    """
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return text.removeprefix("Skipped: ")


def _fail_skip_in_ci(report: pytest.CollectReport | pytest.TestReport) -> None:
    if IN_CI and report.skipped and not hasattr(report, "wasxfail") and report.nodeid not in CI_ALLOWED_SKIPS:
        reason = _skip_reason(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI=true, which allows no skip except the platform limitations in "
                           f"tests/conftest.py CI_ALLOWED_SKIPS: {reason}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI=true a skipped test (setup or call) is reported as failed unless CI_ALLOWED_SKIPS lists it."""
    report = yield
    _fail_skip_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector
                               ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Under CI=true a module skipped at collection (``allow_module_level=True``) is a failure too."""
    report = yield
    _fail_skip_in_ci(report)
    return report


def need(condition: bool, reason: str) -> None:
    """Skip locally when a real part is missing; in CI that is a failure, never a skip."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


def need_module(name: str) -> ModuleType:
    """Import `name`; a missing module is a local skip and a CI failure (never `pytest.importorskip`)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        need(False, f"python module {name} is not installed ({exc})")
        raise


@pytest.fixture(scope="session")
def samples() -> Path:
    need(SAMPLES.is_dir(), f"shared samples not found at {SAMPLES} (set CIB_SHARED)")
    return SAMPLES


@pytest.fixture(scope="session")
def peers() -> Path:
    """Peer-tool outputs (coordination-network-toolkit, CooRTweet) in ``$CIB_SHARED/peers``."""
    path = SHARED / "peers"
    need(path.is_dir(), f"peer-tool outputs not found at {path} (set CIB_SHARED)")
    return path


@pytest.fixture(scope="session")
def playwright_api() -> ModuleType:
    return need_module("playwright.sync_api")


@pytest.fixture(scope="session")
def scenario_ws(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small generated scenario, loaded and scored on the embedded store (shared by several tests)."""
    from click.testing import CliRunner

    from cib.cli import cli
    from cib.scenario import generate

    base = tmp_path_factory.mktemp("scenario")
    generate(base / "scenario", seed=11, accounts=200)
    runner = CliRunner()
    ws = base / "ws"
    for args in (["load", str(base / "scenario"), "-w", str(ws), "--silent"], ["score", "-w", str(ws), "--silent"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    return {"root": base, "scenario": base / "scenario", "ws": ws}


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from neo4j_server import Server
    finally:
        sys.path.pop(0)
    need(shutil.which("java") is not None and shutil.which("mvn") is not None, "java and mvn are needed for Neo4j")
    try:
        server = Server()
    except Exception as exc:  # noqa: BLE001 - reported as skip locally, failure in CI
        need(False, f"Neo4j could not start: {exc}")
        raise
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture()
def neo4j_store(neo4j_server: str) -> Iterator[object]:
    """A Neo4jStore on an emptied database."""
    from cib.store.neo4j import Neo4jStore

    with Neo4jStore.from_env(neo4j_server) as store:
        store.driver.execute_query("MATCH (n) DETACH DELETE n")
        yield store


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    need(path is not None, "Debian chromium is not installed")
    return str(path)
