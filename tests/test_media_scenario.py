"""A video campaign caught through co_media alone: accounts re-upload re-edited copies (re-encoded,
letterboxed, greyed, watermarked, trimmed, shrunk) of a few generated clips, with unrelated captions and no
links; background accounts post their own clips, a few re-share one campaign clip once, and a crowd of
ordinary readers posts text, links and photos of its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from cib.cli import cli
from cib.store import ParquetStore
from tests.media_gen import clip_frames, reedit, telegram_export, write_video

WORDS = ("river morning bread station garden window letter summer market bridge violin coffee school winter "
         "forest bicycle teacher harbour lantern meadow").split()
EDIT_SETS = [[], ["letterbox"], ["grey"], ["watermark"], ["shrink"], ["letterbox", "grey"], ["watermark", "grey"]]


def _caption(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(WORDS, size=int(rng.integers(5, 10))).tolist())


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    rng = np.random.default_rng(2024)
    root = tmp_path_factory.mktemp("video-campaign")
    export = root / "export"
    (export / "video_files").mkdir(parents=True)
    messages: list[dict[str, object]] = []
    campaign_accounts = [f"user{100 + i}" for i in range(8)]
    t0 = 1_709_280_000
    for clip in range(4):
        for i, account in enumerate(campaign_accounts):
            edits = EDIT_SETS[int(rng.integers(len(EDIT_SETS)))]
            trim = float(rng.choice([0.0, 1.0, 2.0]))
            name = f"video_files/{account}-{clip}.mp4"
            write_video(export / name, reedit(10 + clip, edits, trim_s=trim),
                        bitrate=int(rng.choice([300_000, 600_000])) + 7_000 * i)  # never the same bytes
            messages.append({"date_unixtime": str(t0 + clip * 86_400 + int(rng.integers(0, 2400))),
                             "date": "2024-03-01T00:00:00", "from": account, "from_id": account,
                             "text": _caption(rng), "file": name, "media_type": "video_file"})
    background = [f"user{200 + i}" for i in range(16)]
    for n, account in enumerate(background):
        for k in range(2):
            name = f"video_files/{account}-{k}.mp4"
            write_video(export / name, clip_frames(500 + 2 * n + k, seconds=4.0))
            messages.append({"date_unixtime": str(t0 + int(rng.integers(0, 4 * 86_400))), "date": "2024-03-01T00:00:00",
                             "from": account, "from_id": account, "text": _caption(rng), "file": name,
                             "media_type": "video_file"})
        if n < 4:  # one organic re-share of a campaign clip, near the campaign's own posts
            name = f"video_files/{account}-share.mp4"
            write_video(export / name, reedit(10 + n, ["shrink"]))
            messages.append({"date_unixtime": str(t0 + n * 86_400 + 600), "date": "2024-03-01T00:00:00",
                             "from": account, "from_id": account, "text": _caption(rng), "file": name,
                             "media_type": "video_file"})
    # an ordinary crowd of text-only readers around them: the null model measures "chance" on the collection
    # itself, and a collection that is nothing but the campaign would make the campaign look like chance
    # (the null is per signal, so the crowd posts pictures of its own too: small distinct photos)
    from PIL import Image

    (export / "photos").mkdir()
    for r in range(240):
        for k in range(3):
            message = {"date_unixtime": str(t0 + int(rng.integers(0, 4 * 86_400))), "date": "2024-03-01T00:00:00",
                       "from": f"reader{r}", "from_id": f"user{1000 + r}",
                       "text": _caption(rng) + f" https://example.org/{r}/{k}"}
            if k == 0:
                photo = f"photos/reader{r}.png"
                pixels = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)  # blown up: smooth, distinct
                Image.fromarray(pixels).resize((96, 96), Image.Resampling.BILINEAR).save(export / photo)
                message["photo"] = photo
            messages.append(message)
    rng.shuffle(messages)  # type: ignore[arg-type]
    telegram_export(export, messages)
    ws = root / "ws"
    runner = CliRunner()
    for args in (["load", str(export / "result.json"), "-w", str(ws), "--silent"], ["score", "-w", str(ws), "--silent"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
    return {"ws": ws, "campaign": {f"telegram:{a}" for a in campaign_accounts},
            "background": {f"telegram:{a}" for a in background}}


def test_video_campaign_is_flagged_through_co_media_alone(campaign: dict[str, object]) -> None:
    store = ParquetStore(campaign["ws"])  # type: ignore[arg-type]
    clusters, members = store.scores("clusters"), store.scores("members")
    flagged = set(members.join(clusters.filter(pl.col("flagged")).select("cluster_id"), on="cluster_id")["account_uid"])
    truth: set[str] = campaign["campaign"]  # type: ignore[assignment]
    assert truth <= flagged, sorted(truth - flagged)
    assert not flagged & campaign["background"]  # type: ignore[operator]
    evidence = store.scores("evidence").filter(pl.col("src").is_in(list(truth)) & pl.col("dst").is_in(list(truth)))
    assert evidence.height and set(evidence["signal"]) == {"co_media"}
    # the uploads are all different bytes: only perceptual (vPDQ / PDQ) objects connect them
    assert evidence.filter(pl.col("object").str.starts_with("media:sha256:")).height == 0
    assert evidence.filter(pl.col("object").str.starts_with("vpdq:")).height > 0


def test_takedown_writes_media_signals_of_flagged_accounts(campaign: dict[str, object], tmp_path: Path) -> None:
    out = tmp_path / "signals.txt"
    result = CliRunner().invoke(cli, ["export", "takedown", "-w", str(campaign["ws"]), "-o", str(tmp_path / "t.csv"),
                                      "--media-signals", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    kinds = [line.split(" ", 1)[0] for line in lines]
    assert kinds.count("video_md5") == 32 and 0 < kinds.count("vpdq") <= 32  # identical frame lists merge
    assert set(kinds) == {"video_md5", "vpdq"}
