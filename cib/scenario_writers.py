"""Writers that render a generated scenario in each platform's real export format."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["write_all"]

_TZ = [("EET", 2), ("EST", -5), ("CET", 1), ("UTC", 0)]


def write_all(g: Any, root: Path) -> dict[str, int]:
    root.mkdir(parents=True, exist_ok=True)
    counts = {}
    for platform, writer in (("x", _write_x), ("telegram", _write_telegram), ("tiktok", _write_tiktok),
                             ("facebook", _write_facebook)):
        folder = root / platform
        folder.mkdir(exist_ok=True)
        posts = sorted(g.posts[platform], key=lambda p: (p["ts"], p["id"]))
        writer(g, folder, posts)
        counts[platform] = len(posts)
    _write_images(g, root / "telegram")
    return counts


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _write_x(g: Any, folder: Path, posts: list[dict[str, Any]]) -> None:
    accounts = g.accounts["x"]

    def user(aid: str) -> dict[str, Any]:
        a = accounts[aid]
        return {"id": aid, "username": a["handle"], "name": a["name"], "created_at": _iso(a["created"]),
                "public_metrics": {"followers_count": a["followers"], "following_count": 10, "tweet_count": 100}}

    with open(folder / "tweets.jsonl", "w", encoding="utf-8") as fh:
        for start in range(0, len(posts), 100):
            page = posts[start:start + 100]
            data, users, included = [], {}, {}
            for p in page:
                tweet: dict[str, Any] = {"id": p["id"], "author_id": p["aid"], "created_at": _iso(p["ts"]),
                                         "text": p["text"], "lang": "en"}
                users[p["aid"]] = user(p["aid"])
                if "retweet" in p:
                    orig = p["retweet"]
                    tweet["text"] = f"RT @{accounts[orig['aid']]['handle']}: {orig['text'][:100]}"
                    tweet["referenced_tweets"] = [{"type": "retweeted", "id": orig["id"]}]
                    included[orig["id"]] = {"id": orig["id"], "author_id": orig["aid"], "created_at": _iso(orig["ts"]),
                                            "text": orig["text"]}
                    users[orig["aid"]] = user(orig["aid"])
                if "url" in p:
                    short = f"https://t.co/{zlib.crc32(p['url'].encode()):010d}"
                    tweet["text"] += f" {short}"
                    tweet["entities"] = {"urls": [{"url": short, "expanded_url": p["url"]}]}
                data.append(tweet)
            fh.write(json.dumps({"data": data, "includes": {"users": list(users.values()),
                                                             "tweets": list(included.values())},
                                 "meta": {"result_count": len(data)}}, ensure_ascii=False) + "\n")


def _write_telegram(g: Any, folder: Path, posts: list[dict[str, Any]]) -> None:
    accounts = g.accounts["telegram"]
    by_chat: dict[str, list[dict[str, Any]]] = {}
    for p in posts:
        by_chat.setdefault(p["aid"], []).append(p)
    chats = []
    for aid in sorted(by_chat):
        messages = []
        for n, p in enumerate(by_chat[aid], start=1):
            local = p["ts"] + timedelta(hours=2)
            text: Any = p["text"]
            if "url" in p:
                text = [p["text"] + " ", {"type": "link", "text": p["url"]}]
            msg: dict[str, Any] = {"id": n, "type": "message", "date": local.strftime("%Y-%m-%dT%H:%M:%S"),
                                   "date_unixtime": str(int(p["ts"].timestamp())), "from": accounts[aid]["name"],
                                   "from_id": f"channel{aid}", "text": text,
                                   "text_entities": ([{"type": "plain", "text": p["text"] + " "},
                                                      {"type": "link", "text": p["url"]}] if "url" in p
                                                     else [{"type": "plain", "text": p["text"]}])}
            if "forwarded_from" in p:
                msg["forwarded_from"] = p["forwarded_from"]
            if "photo" in p:
                msg["photo"] = p["photo"]
                msg["width"], msg["height"] = 256, 256
            messages.append(msg)
        chats.append({"name": accounts[aid]["name"], "type": "public_channel", "id": int(aid), "messages": messages})
    export = {"about": "Here is the data you requested.", "chats": {"about": "This page lists all chats.",
                                                                    "list": chats}}
    with open(folder / "result.json", "w", encoding="utf-8") as fh:
        json.dump(export, fh, ensure_ascii=False, indent=1)


def _write_tiktok(g: Any, folder: Path, posts: list[dict[str, Any]]) -> None:
    accounts = g.accounts["tiktok"]
    with open(folder / "zeeschuimer.ndjson", "w", encoding="utf-8") as fh:
        for n, p in enumerate(posts):
            a = accounts[p["aid"]]
            tags = [w[1:] for w in p["text"].split() if w.startswith("#")]
            item = {"id": p["id"], "desc": p["text"], "createTime": int(p["ts"].timestamp()),
                    "author": {"id": p["aid"], "uniqueId": a["handle"], "nickname": a["name"],
                               "createTime": int(a["created"].timestamp())},
                    "authorStats": {"followerCount": a["followers"]},
                    "music": {"id": p.get("sound") or p["id"], "title": "original sound", "original": "sound" not in p},
                    "textExtra": [{"hashtagName": t, "type": 1} for t in tags], "stats": {"playCount": 100}}
            fh.write(json.dumps({"nav_index": f"1:1:{n}", "item_id": p["id"], "timestamp_collected": 1774000000000,
                                 "source_platform": "tiktok.com", "source_platform_url": "https://www.tiktok.com/",
                                 "data": item, "id": n}, ensure_ascii=False) + "\n")


def _write_facebook(g: Any, folder: Path, posts: list[dict[str, Any]]) -> None:
    from cib.scenario import _csv_writer

    accounts = g.accounts["facebook"]
    header = ["Page Name", "User Name", "Facebook Id", "Page Category", "Page Admin Top Country", "Page Created",
              "Likes at Posting", "Followers at Posting", "Post Created", "Post Created Date", "Post Created Time",
              "Type", "Total Interactions", "URL", "Message", "Link", "Final Link"]
    fh, writer = _csv_writer(folder / "crowdtangle.csv", header)
    with fh:
        for p in posts:
            a = accounts[p["aid"]]
            name, hours = _TZ[int(p["aid"]) % len(_TZ)]
            local = p["ts"] + timedelta(hours=hours)
            writer.writerow([a["name"], a["handle"], p["aid"], "NEWS_SITE", "UA",
                             a["created"].strftime("%Y-%m-%d %H:%M:%S"), a["followers"], a["followers"],
                             f"{local:%Y-%m-%d %H:%M:%S} {name}", f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}",
                             "Link" if "url" in p else "Status", 10,
                             f"https://www.facebook.com/{p['aid']}/posts/{p['id']}", p["text"],
                             p.get("url", ""), p.get("url", "")])


def _write_images(g: Any, folder: Path) -> None:
    """Re-encoded variants of a few base pictures: same content, different bytes (perceptual matches)."""
    import numpy as np
    from PIL import Image, ImageEnhance, ImageFilter

    for path, base, variant in g.images:
        rng = np.random.default_rng(base)
        small = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((256, 256), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(3))
        if variant == 1:
            img = ImageEnhance.Brightness(img).enhance(1.08)
        elif variant == 2:
            img = img.crop((4, 4, 252, 252)).resize((256, 256))
        elif variant == 3:
            img = img.resize((200, 200)).resize((256, 256))
        out = folder / path
        out.parent.mkdir(parents=True, exist_ok=True)
        img.save(out, quality=85 - 5 * variant)
