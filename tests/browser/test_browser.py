"""Report pages in real headless Chromium: clean, offline, and the tables say exactly what the workspace says."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from cib.cli import cli
from reports._facts import MAX_OBJECTS, MAX_POSTS_PER_OBJECT

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

pytestmark = pytest.mark.browser

_FACTS = """() => ({
    xss: window.__xss || null,
    nodes: window.network ? Object.keys(window.network.body.nodes).length : null,
    drawn: window.network ? Object.keys(window.network.getPositions()).length : null,
    canvas: (() => { const c = document.querySelector('canvas'); return c ? [c.width, c.height] : null; })(),
    members: Array.from(document.querySelectorAll('#members tbody tr')).map(tr => tr.getAttribute('data-account')),
    evidence: Array.from(document.querySelectorAll('#evidence tbody.evgroup')).map(tb => ({
        signal: tb.getAttribute('data-signal'), object: tb.getAttribute('data-object'),
        total: Number(tb.getAttribute('data-posts')),
        posts: Array.from(tb.querySelectorAll('tr.evpost')).map(tr => tr.getAttribute('data-post'))})),
    images: Array.from(document.images).map(i => ({src: i.currentSrc, ok: i.complete && i.naturalWidth > 0})),
})"""


class Visit:
    """One page in Chromium, with every console error, page error, dialog and non-local request recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console.{m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda err: self.problems.append(f"pageerror: {err}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url)
                     if not r.url.startswith(("file://", "data:")) else None)
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_function("window.__reportReady === true", timeout=15_000)
        for img in self.page.query_selector_all("img"):  # lazy images: bring each into view so it loads
            img.scroll_into_view_if_needed()
        self.page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=15_000)
        self.facts: dict[str, Any] = self.page.evaluate(_FACTS)

    def click_node(self, uid: str) -> tuple[str, list[tuple[str, bool]]]:
        """Click `uid`'s node on the canvas; return the node the graph selected and every row's (account, lit)."""
        self.page.evaluate("() => document.getElementById('graph').scrollIntoView({block: 'center'})")
        self.page.evaluate("id => window.network.focus(id, {scale: 1.5, animation: false})", uid)
        x, y = self.page.evaluate("""id => {
            const p = window.network.canvasToDOM(window.network.getPositions([id])[id]);
            const r = document.querySelector('#graph canvas').getBoundingClientRect();
            return [r.left + p.x, r.top + p.y]; }""", uid)
        self.page.mouse.click(x, y)
        selected = self.page.evaluate("() => window.network.getSelectedNodes()")
        rows = self.page.evaluate("""() => Array.from(document.querySelectorAll('[data-account]'))
            .map(el => [el.getAttribute('data-account'), el.classList.contains('hl')])""")
        return (selected[0] if selected else ""), [(a, lit) for a, lit in rows]

    def close(self, shot: Path | None = None) -> None:
        if shot is not None:
            self.page.screenshot(path=str(shot))
        self.page.close()


@pytest.fixture(scope="module")
def browser(chromium: str, playwright_api):  # noqa: ANN001, ANN201
    with playwright_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        yield instance
        instance.close()


def _workspace_evidence(ws: Path, uids: list[str]) -> dict[tuple[str, str], set[str]]:
    """Shared object -> the set of member posts that shared it, straight from the workspace's evidence table."""
    ev = pl.read_parquet(ws / "scores" / "evidence.parquet").filter(
        pl.col("src").is_in(uids) & pl.col("dst").is_in(uids))
    out: dict[tuple[str, str], set[str]] = {}
    for signal, obj, a, b in ev.select("signal", "object", "post_a", "post_b").iter_rows():
        out.setdefault((signal, obj), set()).update((a, b))
    return out


def test_report_pages_are_clean_and_match_the_workspace(browser, scenario_ws: dict[str, Path],  # noqa: ANN001
                                                         tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", "-w", str(scenario_ws["ws"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    members = pl.read_parquet(scenario_ws["ws"] / "scores" / "members.parquet")
    ARTIFACTS.mkdir(exist_ok=True)
    index = Visit(browser, out / "index.html")
    assert index.problems == [] and index.requests == []
    index.page.select_option("select[name=platform]", "telegram")
    shown = index.page.evaluate("() => document.querySelectorAll('#clusters tbody tr:not([hidden])').length")
    clusters = pl.read_parquet(scenario_ws["ws"] / "scores" / "clusters.parquet")
    assert shown == clusters.filter(pl.col("platforms").list.contains("telegram")).height
    index.close(ARTIFACTS / "report-index.png")
    thumbnails = 0
    for (cid,), group in sorted(members.group_by("cluster_id"), key=lambda kv: str(kv[0][0])):
        page = out / f"cluster-{cid}.html"
        visit = Visit(browser, page)
        facts = visit.facts
        assert visit.problems == [] and visit.requests == [], (page.name, visit.problems, visit.requests)
        uids = sorted(group["account_uid"].to_list())
        assert facts["nodes"] == len(uids) and facts["drawn"] == len(uids) and facts["canvas"][0] > 0
        assert sorted(facts["members"]) == uids  # exactly the members, each once
        truth = _workspace_evidence(scenario_ws["ws"], uids)
        shown_objects = {(g["signal"], g["object"]): g for g in facts["evidence"]}
        assert len(shown_objects) == len(facts["evidence"]) == min(len(truth), MAX_OBJECTS)
        assert set(shown_objects) <= set(truth)
        for key, g in shown_objects.items():
            assert g["total"] == len(truth[key]), key
            assert set(g["posts"]) <= truth[key] and len(g["posts"]) == min(len(truth[key]), MAX_POSTS_PER_OBJECT)
        for img in facts["images"]:
            assert img["ok"] and img["src"].startswith((out / "thumbs").as_uri()), img
        thumbnails += len(facts["images"])
        if cid == min(members["cluster_id"]):  # sort and filter the members table once
            _sort_and_filter(visit, len(uids))
        target = uids[len(uids) // 2]
        selected, rows = visit.click_node(target)
        assert selected in uids
        lit = {a for a, on in rows if on}
        assert lit == {selected} and [a for a, _ in rows].count(selected) == sum(on for _, on in rows)
        visit.close(ARTIFACTS / f"report-{cid}.png")
    assert thumbnails > 0  # the scenario's Telegram farm reposts pictures: they must be shown
    overview = Visit(browser, out / "overview.html")
    assert overview.facts["nodes"] == members["account_uid"].n_unique() and overview.problems == []
    assert overview.requests == []
    overview.close(ARTIFACTS / "report-overview.png")


def _sort_and_filter(visit: Visit, n: int) -> None:
    page = visit.page
    column = page.evaluate("""() => Array.from(document.querySelectorAll('#members thead th'))
        .findIndex(th => th.textContent === 'posts in data')""")
    values = "c => Array.from(document.querySelectorAll('#members tbody tr')).map(tr => Number(tr.cells[c].dataset.v))"
    page.click(f"#members thead th:nth-child({column + 1})")
    ascending = page.evaluate(values, column)
    assert ascending == sorted(ascending) and len(ascending) == n
    page.click(f"#members thead th:nth-child({column + 1})")
    assert page.evaluate(values, column) == sorted(ascending, reverse=True)
    first = page.evaluate("() => document.querySelector('#members tbody tr').cells[0].textContent")
    page.fill("input[data-filter=members]", first)
    visible = page.evaluate("() => Array.from(document.querySelectorAll('#members tbody tr')).filter(r => !r.hidden)"
                            ".map(r => r.textContent)")
    assert all(first.lower() in v.lower() for v in visible) and 1 <= len(visible) < n
    page.fill("input[data-filter=members]", "")


def test_hostile_strings_do_not_execute(browser, tmp_path: Path) -> None:  # noqa: ANN001
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    try:
        from test_report import PAYLOAD, hostile_export
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
        visit = Visit(browser, page)
        if page.name.startswith("cluster-"):  # the hostile labels were drawn, not dropped
            cid = page.name[len("cluster-"):-len(".html")]
            facts = visit.facts
            assert facts["nodes"] == facts["drawn"] == members.filter(pl.col("cluster_id") == cid).height > 0
            uid = visit.facts["members"][0]
            visit.click_node(uid)  # highlight + tooltip paths run with the hostile handles
            visit.page.mouse.move(5, 5)
            text = visit.page.evaluate("() => document.querySelector('#members').textContent")
            assert PAYLOAD in text  # shown literally, as text
        xss = visit.page.evaluate("() => window.__xss || null")
        assert xss is None and visit.problems == [] and visit.requests == [], (page.name, visit.problems)
        visit.close()
    if ARTIFACTS.is_dir():
        shutil.copy(pages[0], ARTIFACTS / "hostile-page.html")
