"""HTML report: offline, escaped, one page per cluster."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cib.cli import cli

PAYLOAD = '<img src=x onerror="window.__xss=1;alert(1)">'
SCRIPT = "</script><script>window.__xss=2</script>"


def hostile_export(path: Path) -> None:
    """Four accounts with attacker-controlled handles, names and captions, coordinating on three links."""
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    users = [{"id": str(10**18 + i), "username": f"{PAYLOAD}{i}", "name": f"{SCRIPT} n{i}",
              "created_at": "2024-12-30T00:00:00.000Z"} for i in range(4)]
    data = []
    for item in range(3):
        for i in range(4):
            data.append({"id": str(2 * 10**18 + item * 10 + i), "author_id": users[i]["id"],
                         "created_at": (t0 + timedelta(hours=item, seconds=7 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                         "text": f"{PAYLOAD} {SCRIPT} javascript:alert(1) caption number {item} is shared here",
                         "entities": {"urls": [{"url": "https://t.co/x", "expanded_url": f"https://evil.example/{item}"}]}})
    for k in range(300):  # ordinary background accounts: shared links are rare (IDF > 0) and chance is small
        users.append({"id": str(3 * 10**18 + k), "username": f"reader{k}", "name": "Reader"})
        data.append({"id": str(4 * 10**18 + k), "author_id": users[-1]["id"], "text": f"hello {k} from an ordinary reader",
                     "created_at": (t0 + timedelta(minutes=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "entities": {"urls": [{"url": "https://t.co/y", "expanded_url": f"https://ok.example/{k}"}]}})
    pages = [data[i:i + 50] for i in range(0, len(data), 50)]  # API pages of 50 tweets with their authors
    path.write_text("".join(json.dumps({"data": page, "includes": {"users": [
        u for u in users if u["id"] in {t["author_id"] for t in page}]}}) + "\n" for page in pages))


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    hostile_export(base / "export.jsonl")
    runner = CliRunner()
    for args in (["load", str(base / "export.jsonl"), "-w", str(base / "ws"), "--silent"],
                 ["score", "-w", str(base / "ws"), "--silent"],
                 ["report", "-w", str(base / "ws"), "-o", str(base / "report")]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    return base / "report"


def test_every_attacker_string_is_escaped(hostile_report: Path) -> None:
    pages = list(hostile_report.glob("*.html"))
    assert len(pages) >= 3  # index, overview, >= 1 cluster
    for page in pages:
        text = page.read_text("utf-8")
        assert "<img src=x" not in text and "<script>window.__xss" not in text, page.name
    cluster = next(p for p in pages if p.name.startswith("cluster-"))
    text = cluster.read_text("utf-8")
    assert "\\u0026lt;img src=x onerror=" in text  # escaped tooltip HTML, inside \u-escaped JSON
    assert "</script><script>" not in text


def test_no_external_resources(scenario_ws: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", "-w", str(scenario_ws["ws"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    for page in out.glob("*.html"):
        text = page.read_text("utf-8")
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", text), page.name
        assert "cdn.jsdelivr" not in text and "cdnjs" not in text


def test_index_lists_each_cluster_with_a_timeline(scenario_ws: dict[str, Path], tmp_path: Path) -> None:
    import polars as pl

    out = tmp_path / "r"
    CliRunner().invoke(cli, ["report", "-w", str(scenario_ws["ws"]), "-o", str(out)])
    clusters = pl.read_parquet(scenario_ws["ws"] / "scores" / "clusters.parquet")
    index = (out / "index.html").read_text("utf-8")
    for cid in clusters["cluster_id"]:
        assert f'href="cluster-{cid}.html"' in index and (out / f"cluster-{cid}.html").exists()
    assert index.count("<svg class=timeline") == clusters.height
