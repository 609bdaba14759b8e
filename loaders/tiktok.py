"""TikTok exports.

Formats (sniffed from content):

- ``research-api-json``: Research API ``/video/query`` responses (``data.videos[]``, paged; one page per file
  or one per line). Videos without ``username`` cannot be attributed and are quarantined (request
  ``fields=...,username``).
- ``research-api-user-json``: Research API ``/user/info`` responses; they carry no username of their own,
  so a response without ``username`` is quarantined.
- ``research-api-user-jsonl``: user-info objects saved bare, one per line (``users.jsonl``: ``username``,
  ``display_name``, ``bio_description``, ``follower_count`` … with no ``data`` wrapper).
- ``research-api-comments-json``: Research API ``/video/comment/list`` responses; comments carry no author
  and are quarantined with that reason.
- ``zeeschuimer-ndjson``: Zeeschuimer/4CAT captures of TikTok web ``itemStruct`` objects.

Sounds (``music_id``) and effects are kept as platform media keys: sound farms reuse them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from cib.errors import RecordError
from cib.hookspecs import hookimpl
from cib.schema import AccountRecord, PostRecord
from loaders._common import (
    ERR,
    FILE,
    FMT,
    REC,
    LoadOptions,
    account_record,
    coortweet_platform,
    csv_rows,
    first_json,
    head,
    json_records,
    map_coortweet,
    media_item,
    opt_str,
    post_record,
    req,
)

__all__ = ["TikTokLoader"]

PLATFORM = "tiktok"


class TikTokLoader:
    """Loader for TikTok Research API responses and Zeeschuimer captures."""

    platform: ClassVar[str] = PLATFORM
    formats: ClassVar[tuple[str, ...]] = (
        "research-api-json", "research-api-user-json", "research-api-user-jsonl", "research-api-comments-json",
        "zeeschuimer-ndjson", "coortweet-csv",
    )
    options: LoadOptions = LoadOptions()

    @staticmethod
    def profile_url(account_id: str, handle: str | None) -> str:
        return f"https://www.tiktok.com/@{handle or account_id}"

    def detect(self, path: Path) -> str | None:
        text = head(path)
        stripped = text.lstrip()
        if not stripped.startswith(("{", "[")):
            return "coortweet-csv" if coortweet_platform(path, self.options) == PLATFORM else None
        value = first_json(path)
        if isinstance(value, dict) and value.get("source_platform") == "tiktok.com":
            return "zeeschuimer-ndjson"
        if isinstance(value, dict) and "data" not in value and (
                "bio_description" in value or {"follower_count", "display_name"} <= set(value)):
            return "research-api-user-jsonl"
        if not stripped.startswith("{") or '"data"' not in stripped:
            return None
        if '"videos"' in stripped and ('"video_description"' in stripped or '"create_time"' in stripped
                                       or '"search_id"' in stripped):
            return "research-api-json"
        if '"comments"' in stripped and '"video_id"' in stripped:
            return "research-api-comments-json"
        if '"bio_description"' in stripped or ('"follower_count"' in stripped and '"display_name"' in stripped):
            return "research-api-user-json"
        return None

    def sniff(self, path: Path) -> bool:
        return self.detect(path) is not None

    @staticmethod
    def fast_posts(path: Path, fmt: str) -> pl.DataFrame | None:
        """The file's posts through the vectorised fast path (`loaders.tiktok_fast`), or None when only the
        per-record path can guarantee the result."""
        if fmt != "zeeschuimer-ndjson":
            return None
        from loaders.tiktok_fast import zeeschuimer_posts

        return zeeschuimer_posts(path, fmt)

    def iter_raw(self, path: Path) -> Iterator[Mapping[str, Any]]:
        fmt = self.detect(path) or "unknown"
        if fmt == "coortweet-csv":
            yield from csv_rows(path, fmt)
            return
        for raw in json_records(path, fmt):
            if ERR in raw or fmt in ("zeeschuimer-ndjson", "research-api-user-json", "research-api-user-jsonl"):
                yield raw
                continue
            page = raw["value"] if isinstance(raw["value"], dict) else {}
            error = page.get("error") or {}
            if error.get("code") not in (None, "ok"):
                yield {**raw, ERR: f"API error {error.get('code')}: {error.get('message', '')}"}
                continue
            key = "videos" if fmt == "research-api-json" else "comments"
            items = (page.get("data") or {}).get(key)
            if not isinstance(items, list):
                yield {**raw, ERR: f"response has no data.{key} list"}
                continue
            for i, item in enumerate(items):
                yield {REC: raw[REC], FMT: fmt, FILE: raw[FILE], "value": item, "item": f"data.{key}[{i}]"}

    @staticmethod
    def map_record(raw: Mapping[str, Any]) -> PostRecord | AccountRecord:
        fmt, value = raw[FMT], raw["value"]
        if not isinstance(value, Mapping):
            raise RecordError("record is not a JSON object")
        if fmt == "research-api-json":
            return _map_research_video(raw, value)
        if fmt in ("research-api-user-json", "research-api-user-jsonl"):
            data = value.get("data") if fmt == "research-api-user-json" else value
            return _map_user(raw, data if isinstance(data, Mapping) else {})
        if fmt == "coortweet-csv":
            return map_coortweet(raw, PLATFORM)
        if fmt == "research-api-comments-json":
            raise RecordError("Research API comment has no author field; comments are not attributable")
        if fmt == "zeeschuimer-ndjson":
            return _map_item_struct(raw, value.get("data") or {})
        raise RecordError(f"unknown TikTok format {fmt!r}")


def _map_user(raw: Mapping[str, Any], data: Mapping[str, Any]) -> AccountRecord:
    handle = opt_str(data.get("username"))
    if not handle:
        raise RecordError("user info response carries no username (add it when saving responses)")
    return account_record(raw, platform=PLATFORM, account_id=handle, handle=handle,
                          display_name=data.get("display_name"), followers=data.get("follower_count"),
                          following=data.get("following_count"), posts_count=data.get("video_count"),
                          bio=data.get("bio_description"), verified=data.get("is_verified"),
                          created_at=data.get("create_time") or data.get("created_at"),
                          profile_url=TikTokLoader.profile_url(handle, handle))


def _map_research_video(raw: Mapping[str, Any], video: Mapping[str, Any]) -> PostRecord:
    handle = video.get("username")
    if not handle:
        raise RecordError("video has no 'username' (request fields=...,username); cannot attribute it")
    video_id = video.get("id") if video.get("id") is not None else req(video, "video_id")
    sound = video.get("music_id")
    return post_record(
        raw, platform=PLATFORM, post_id=video_id, account_id=handle, created_at=req(video, "create_time"),
        text=video.get("video_description"), handle=handle, lang=video.get("video_language"),
        hashtags=[str(h) for h in video.get("hashtag_names") or []],
        media=[media_item(PLATFORM, "sound", str(sound))] if sound else [],
        sound_id=sound, effect_ids=[str(e) for e in video.get("effect_ids") or []],
        post_url=f"https://www.tiktok.com/@{handle}/video/{video_id}",
    )


def _map_item_struct(raw: Mapping[str, Any], item: Mapping[str, Any]) -> PostRecord:
    author: Mapping[str, Any] = item["author"] if isinstance(item.get("author"), Mapping) else {}
    stats = item.get("authorStats") or {}
    music = item.get("music") or {}
    extra = item.get("textExtra") or []
    tags = [t.get("hashtagName", "") for t in extra if isinstance(t, Mapping) and t.get("hashtagName")]
    mentions = [t.get("userUniqueId", "") for t in extra if isinstance(t, Mapping) and t.get("userUniqueId")]
    effects = [str(e.get("ID") or e.get("id")) for e in item.get("effectStickers") or [] if isinstance(e, Mapping)]
    duet = (item.get("duetInfo") or {}).get("duetFromId")
    handle = author.get("uniqueId")
    video_id = req(item, "id")
    sound = music.get("id")
    return post_record(
        raw, platform=PLATFORM, post_id=video_id, account_id=author.get("id") or handle,
        created_at=req(item, "createTime"), text=item.get("desc"), handle=handle,
        display_name=author.get("nickname"), account_created_at=author.get("createTime"),
        followers=stats.get("followerCount"), hashtags=tags or None, mentions=mentions or None,
        quote_of=f"{PLATFORM}:{duet}" if duet and duet != "0" else None,
        media=[media_item(PLATFORM, "sound", str(sound))] if sound else [],
        sound_id=sound, effect_ids=effects, post_url=f"https://www.tiktok.com/@{handle}/video/{video_id}",
    )


@hookimpl
def register_loaders() -> list[type]:
    return [TikTokLoader]
