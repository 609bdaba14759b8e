"""HTML report: offline, escaped, one page per cluster."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
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
    assert "&lt;img src=x onerror=&quot;window.__xss=1" in text  # the members table shows it as text
    assert "\\u003cimg src=x onerror=" in text  # the graph data: \u-escaped JSON, shown with textContent
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
    out = tmp_path / "r"
    CliRunner().invoke(cli, ["report", "-w", str(scenario_ws["ws"]), "-o", str(out)])
    clusters = pl.read_parquet(scenario_ws["ws"] / "scores" / "clusters.parquet")
    index = (out / "index.html").read_text("utf-8")
    for cid in clusters["cluster_id"]:
        assert f'href="cluster-{cid}.html"' in index and (out / f"cluster-{cid}.html").exists()
    assert index.count("<svg class=timeline") == clusters.height


def _frames(extra: bool) -> dict[str, pl.DataFrame]:
    """A tiny scored cluster of three accounts, with or without the detector's optional columns."""
    t0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
    uids = ["x:1", "x:2", "x:3"]
    clusters = pl.DataFrame({"cluster_id": ["c-1"], "rank": [1], "score": [0.9], "flagged": [True], "size": [3],
                             "platforms": [["x"]], "signals": [["co_url"]],
                             "components": ['{"strength": 0.9, "authentic": 0.2}'], "explanation": ["why"],
                             "first_seen": [t0], "last_seen": [t0 + timedelta(hours=30)]})
    members = pl.DataFrame({"cluster_id": ["c-1"] * 3, "account_uid": uids})
    edges = pl.DataFrame({"src": ["x:1", "x:1"], "dst": ["x:2", "x:3"], "signals": [["co_url"], ["co_url"]],
                          "weight": [0.8, 0.4], "n_shared": [3, 3], "median_gap_s": [10.0, 20.0]})
    accounts = pl.DataFrame({"uid": uids, "platform": ["x"] * 3, "handle": ["lead", "f1", "f2"],
                             "profile_url": ["https://x.com/lead", "javascript:alert(1)", None],
                             "created_at": [t0] * 3, "followers": [10, 20, None]})
    posts = pl.DataFrame({"uid": ["p1", "p2", "p3"], "account_uid": uids, "text": ["same words"] * 3,
                          "created_at": [t0, t0 + timedelta(seconds=30), t0 + timedelta(hours=30)]})
    evidence = pl.DataFrame({"src": ["x:1", "x:1"], "dst": ["x:2", "x:3"], "signal": ["co_url"] * 2,
                             "object": ["url:https://a.example/x"] * 2, "post_a": ["p1", "p1"],
                             "post_b": ["p2", "p3"], "gap_s": [30.0, 108000.0], "idf": [4.0, 4.0]})
    if extra:
        clusters = clusters.with_columns(cluster_class=pl.lit("inauthentic"), conductance=pl.lit(0.125))
        members = members.with_columns(role=pl.Series(["leader", "follower", "follower"]),
                                       k_core=pl.Series([2, 1, 1]))
        evidence = evidence.with_columns(chance=pl.lit(0.0042))
    return {"clusters": clusters, "members": members, "edges": edges, "accounts": accounts, "posts": posts,
            "evidence": evidence}


def test_optional_detector_columns_are_shown_when_present_and_omitted_when_absent(tmp_path: Path) -> None:
    from reports import write_report

    with_cols = (tmp_path / "a" / "cluster-c-1.html", _frames(True))
    without = (tmp_path / "b" / "cluster-c-1.html", _frames(False))
    for path, frames in (with_cols, without):
        write_report(path.parent, **frames)
    rich, plain = with_cols[0].read_text("utf-8"), without[0].read_text("utf-8")
    assert '<span class="badge b-inauthentic">inauthentic</span>' in rich and "conductance" in rich
    assert ">role</th>" in rich and "b-leader" in rich and ">k-core</th>" in rich
    assert "expected by chance 0.0042" in rich and "thick black border = leader" in rich
    for absent in (">role</th>", ">k-core</th>", "expected by chance", "conductance", "b-inauthentic"):
        assert absent not in plain
    assert '<span class="badge b-flagged">flagged</span>' in plain
    # presentation facts computed here: degree/strength from edges, posts, gap to the first share
    assert '<td class="num" data-v="2">2</td>' in plain  # x:1 has two ties inside the cluster
    assert "+1 d 6 h" in plain and "+30 s" in plain
    assert 'href="javascript:' not in plain and "bar mitigating" in plain


def test_report_requires_scored_columns(tmp_path: Path) -> None:
    from cib.errors import SchemaError
    from reports import write_report

    frames = _frames(False)
    frames["evidence"] = frames["evidence"].drop("object")
    with pytest.raises(SchemaError, match="evidence frame lacks column"):
        write_report(tmp_path, **frames)


def test_pages_stay_within_the_size_budget(scenario_ws: dict[str, Path], tmp_path: Path) -> None:
    from reports.html import PAGE_BUDGET

    out = tmp_path / "r"
    assert CliRunner().invoke(cli, ["report", "-w", str(scenario_ws["ws"]), "-o", str(out)]).exit_code == 0
    sizes = {p.name: p.stat().st_size for p in out.glob("*.html")}
    assert sizes and max(sizes.values()) < PAGE_BUDGET, sizes
    assert not any("vis.Network" in p.read_text("utf-8")[:5000] for p in out.glob("*.html"))  # one shared script
    assert (out / "assets" / "vis-network.min.js").stat().st_size > 100_000


def test_timeline_has_a_labelled_utc_axis() -> None:
    from reports._timeline import axis_ticks, timeline_svg

    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    posts = pl.DataFrame({"account_uid": ["a", "b"], "created_at": [t0, t0 + timedelta(days=9)]})
    svg = timeline_svg(posts, [("a", "a"), ("b", "b")])
    assert "time (UTC)" in svg and svg.count(">2025-01-") >= 4 and svg.count("h2v") == 2
    ticks, fmt = axis_ticks(t0, t0 + timedelta(minutes=40))
    assert fmt == "%H:%M" and ticks[0] == t0 and all(t.minute % 5 == 0 for t in ticks)
    assert timeline_svg(posts.head(0), [("a", "a")]) == ""


def test_thumbnails_are_bounded_and_stay_inside_the_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    from reports import _assets

    export = tmp_path / "export"
    export.mkdir()
    Image.new("RGB", (640, 480), "red").save(export / "a.jpg")
    Image.new("RGB", (64, 64), "blue").save(tmp_path / "outside.png")
    (export / "broken.jpg").write_bytes(b"not a picture")
    thumbs = _assets.Thumbnailer(tmp_path / "report")
    (tmp_path / "report").mkdir()
    made = thumbs.thumbs(str(export / "a.jpg"), str(export))
    assert made
    with Image.open(tmp_path / "report" / made[0]) as small:
        assert small.size[0] <= _assets.THUMB_SIZE[0]
    assert thumbs.thumbs(str(export / "a.jpg"), str(export)) == made  # cached
    assert thumbs.thumbs(str(tmp_path / "outside.png"), str(export)) == []
    assert thumbs.skipped[str(tmp_path / "outside.png")] == "outside the export folder"
    assert thumbs.thumbs(str(export / "../outside.png"), str(export)) == []
    assert thumbs.thumbs(str(export / "broken.jpg"), str(export)) == []
    assert thumbs.skipped[str(export / "broken.jpg")].startswith("cannot be decoded")
    assert thumbs.thumbs(str(export / "missing.jpg"), str(export)) == []
    Image.new("RGB", (8, 8)).save(export / "nobase.png")
    assert thumbs.thumbs(str(export / "nobase.png"), None) == []
    monkeypatch.setattr(_assets, "MAX_PIXELS", 1000)
    Image.new("RGB", (100, 100), "green").save(export / "big.png")
    assert thumbs.thumbs(str(export / "big.png"), str(export)) == []
    assert "pixel" in thumbs.skipped[str(export / "big.png")] or "decoded" in thumbs.skipped[str(export / "big.png")]
    thumbs.budget = 0
    Image.new("RGB", (10, 10)).save(export / "late.png")
    assert thumbs.thumbs(str(export / "late.png"), str(export)) == []


def test_video_thumbnails_are_sampled_key_frames(tmp_path: Path) -> None:
    import av
    import numpy as np

    from reports import _assets

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.gop_size = 5
        for i in range(60):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 4, dtype=np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    (tmp_path / "r").mkdir()
    made = _assets.Thumbnailer(tmp_path / "r").thumbs(str(path), str(tmp_path))
    assert 1 <= len(made) <= _assets.VIDEO_FRAMES
    assert len(made) == _assets.VIDEO_FRAMES  # a 6 s clip with a key frame every 0.5 s gives all three


def test_telegram_username_reaches_the_takedown_row(tmp_path: Path) -> None:
    chat = {"name": "News", "type": "public_channel", "id": 777, "username": "news_daily",
            "messages": [{"id": 5, "type": "message", "date_unixtime": "1706788800", "from": "News",
                          "from_id": "channel777", "text": "hello"}]}
    (tmp_path / "result.json").write_text(json.dumps(chat), "utf-8")
    result = CliRunner().invoke(cli, ["load", str(tmp_path / "result.json"), "-w", str(tmp_path / "ws"), "--silent"])
    assert result.exit_code == 0, result.output
    accounts = pl.read_parquet(tmp_path / "ws" / "accounts.parquet")
    posts = pl.read_parquet(tmp_path / "ws" / "posts.parquet")
    assert accounts.row(0, named=True)["handle"] == "news_daily"
    assert accounts.row(0, named=True)["profile_url"] == "https://t.me/news_daily"
    assert posts.row(0, named=True)["post_url"] == "https://t.me/news_daily/5"
