"""Report pages in real headless Chromium: no console errors, no network, the expected number of nodes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from cib.cli import cli

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

pytestmark = pytest.mark.browser


def _visit(browser, url: str, shot: Path | None = None) -> dict:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file://", "data:")) else None)
    page.goto(url, wait_until="load")
    page.wait_for_timeout(600)
    info = page.evaluate("""() => ({
        xss: window.__xss || null,
        nodes: (typeof network !== 'undefined' && network) ? Object.keys(network.body.nodes).length : null,
        drawn: (typeof network !== 'undefined' && network) ? Object.keys(network.getPositions()).length : null,
        canvas: (() => { const c = document.querySelector('canvas'); return c ? [c.width, c.height] : null; })(),
    })""")
    if shot is not None:
        page.screenshot(path=str(shot))
    page.close()
    return {**info, "problems": problems, "requests": requests}


@pytest.fixture(scope="module")
def browser(chromium: str, playwright_api):  # noqa: ANN001, ANN201
    with playwright_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        yield instance
        instance.close()


def test_report_pages_load_clean(browser, scenario_ws: dict[str, Path], tmp_path: Path) -> None:  # noqa: ANN001
    out = tmp_path / "report"
    assert CliRunner().invoke(cli, ["report", "-w", str(scenario_ws["ws"]), "-o", str(out)]).exit_code == 0
    members = pl.read_parquet(scenario_ws["ws"] / "scores" / "members.parquet")
    ARTIFACTS.mkdir(exist_ok=True)
    index = _visit(browser, (out / "index.html").as_uri(), ARTIFACTS / "report-index.png")
    assert index["problems"] == [] and index["requests"] == []
    for cid, group in members.group_by("cluster_id"):
        page = out / f"cluster-{cid[0]}.html"
        info = _visit(browser, page.as_uri(), ARTIFACTS / f"report-{cid[0]}.png")
        assert info["problems"] == [] and info["requests"] == [], (page.name, info)
        assert info["nodes"] == group.height and info["drawn"] == group.height
        assert info["canvas"] and info["canvas"][0] > 0
    overview = _visit(browser, (out / "overview.html").as_uri(), ARTIFACTS / "report-overview.png")
    assert overview["nodes"] == members["account_uid"].n_unique() and overview["problems"] == []


def test_hostile_strings_do_not_execute(browser, tmp_path: Path) -> None:  # noqa: ANN001
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from test_report import hostile_export
    finally:
        sys.path.pop(0)
    hostile_export(tmp_path / "export.jsonl")
    runner = CliRunner()
    for args in (["load", str(tmp_path / "export.jsonl"), "-w", str(tmp_path / "ws"), "--silent"],
                 ["score", "-w", str(tmp_path / "ws"), "--silent"],
                 ["report", "-w", str(tmp_path / "ws"), "-o", str(tmp_path / "r")]):
        assert runner.invoke(cli, args).exit_code == 0
    pages = sorted((tmp_path / "r").glob("*.html"))
    assert any(p.name.startswith("cluster-") for p in pages)
    members = pl.read_parquet(tmp_path / "ws" / "scores" / "members.parquet")
    for page in pages:
        info = _visit(browser, page.as_uri())
        assert info["xss"] is None and info["problems"] == [] and info["requests"] == [], (page.name, info)
        if page.name.startswith("cluster-"):  # the hostile labels were drawn, not dropped
            cid = page.name[len("cluster-"):-len(".html")]
            assert info["nodes"] == info["drawn"] == members.filter(pl.col("cluster_id") == cid).height > 0
    shutil.copy(pages[0], ARTIFACTS / "hostile-page.html") if ARTIFACTS.is_dir() else None
