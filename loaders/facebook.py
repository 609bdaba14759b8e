"""Facebook exports.

Formats (sniffed from content):

- ``crowdtangle-csv``: CrowdTangle Historical Data / saved-search CSV (``Page Name, User Name, Facebook Id,
  ..., Post Created, ..., URL, Message, Link, Final Link``). ``Post Created`` carries the dashboard's
  time-zone abbreviation (``2021-01-12 17:03:40 EST``, ``BRT``, ``NZDT`` …), resolved from the tz
  database; ``--tz ZONE`` overrides it, and an ambiguous one (``CST``, ``IST``, ``BST`` …) fails the file
  with a message naming ``--tz``.
- ``crowdtangle-api-json``: CrowdTangle API ``/posts`` responses (``result.posts[]``), a list of post objects
  or one post object (``platformId``, ``date`` in UTC, ``expandedLinks``, ``media``, ``account``).
- ``meta-content-library-csv``: Meta Content Library post exports (``id, creation_time, text,
  post_owner.id, post_owner.name, multimedia, ...``). ``multimedia`` is JSON (``[{"id", "type", "url"}]``).
  A post whose ``post_owner.id`` is empty but whose ``post_owner.name`` is not gets the derived, stable
  account id ``name:<post_owner.name>`` (the ``name:`` prefix marks it as derived, as for Telegram's hidden
  forwards).
- ``coortweet-csv``: CooRTweet input (``account_id, content_id, object_id, timestamp_share``) with
  ``--platform facebook`` or ``fb_``-prefixed ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import orjson
import polars as pl

from cib.errors import LoaderError, RecordError
from cib.hookspecs import hookimpl
from cib.schema import AccountRecord, PostRecord
from loaders._common import (
    ERR,
    FILE,
    FMT,
    REC,
    LoadOptions,
    coortweet_platform,
    csv_header,
    csv_rows,
    head,
    json_records,
    map_coortweet,
    media_item,
    opt_str,
    parse_ts,
    post_record,
    req,
)
from loaders._time import AmbiguousZone

__all__ = ["FacebookLoader"]

PLATFORM = "facebook"


class FacebookLoader:
    """Loader for CrowdTangle and Meta Content Library exports."""

    platform: ClassVar[str] = PLATFORM
    formats: ClassVar[tuple[str, ...]] = ("crowdtangle-csv", "crowdtangle-api-json", "meta-content-library-csv",
                                          "coortweet-csv")
    options: LoadOptions = LoadOptions()

    @staticmethod
    def profile_url(account_id: str, handle: str | None) -> str:
        return f"https://www.facebook.com/{handle or account_id}"

    def detect(self, path: Path) -> str | None:
        text = head(path).lstrip()
        if text.startswith(("{", "[")):
            if '"platformId"' in text and ('"postUrl"' in text or '"account"' in text):
                return "crowdtangle-api-json"
            return None
        header = set(csv_header(path))
        if {"Post Created", "Message"} <= header and ({"Facebook Id", "Page Name"} & header or "Group Name" in header):
            return "crowdtangle-csv"
        if {"id", "creation_time", "post_owner.id"} <= header:
            return "meta-content-library-csv"
        if header and coortweet_platform(path, self.options) == PLATFORM:
            return "coortweet-csv"
        return None

    def sniff(self, path: Path) -> bool:
        return self.detect(path) is not None

    def fast_posts(self, path: Path, fmt: str) -> pl.DataFrame | None:
        """The file's posts through the vectorised fast path (`loaders.facebook_fast`), or None when only the
        per-record path can guarantee the result."""
        if fmt != "crowdtangle-csv":
            return None
        from loaders.facebook_fast import crowdtangle_posts

        return crowdtangle_posts(path, fmt, self.options.tz)

    def iter_raw(self, path: Path) -> Iterator[Mapping[str, Any]]:
        fmt = self.detect(path) or "unknown"
        if fmt.endswith("csv"):
            yield from csv_rows(path, fmt, {"tz": self.options.tz} if fmt == "crowdtangle-csv" else None)
            return
        for raw in json_records(path, fmt):
            value = raw.get("value")
            if ERR in raw or not isinstance(value, dict) or "platformId" in value:
                yield raw
                continue
            posts = (value.get("result") or {}).get("posts")
            if not isinstance(posts, list):
                yield {**raw, ERR: "CrowdTangle response has no result.posts list"}
                continue
            for i, post in enumerate(posts):
                yield {REC: raw[REC], FMT: fmt, FILE: raw[FILE], "value": post, "item": f"result.posts[{i}]"}

    @staticmethod
    def map_record(raw: Mapping[str, Any]) -> PostRecord | AccountRecord:
        fmt, value = raw[FMT], raw["value"]
        if not isinstance(value, Mapping):
            raise RecordError("record is not an object")
        if fmt == "crowdtangle-csv":
            return _map_ct_csv(raw, value)
        if fmt == "crowdtangle-api-json":
            return _map_ct_api(raw, value)
        if fmt == "meta-content-library-csv":
            return _map_mcl(raw, value)
        if fmt == "coortweet-csv":
            return map_coortweet(raw, PLATFORM)
        raise RecordError(f"unknown Facebook format {fmt!r}")


def _post_id_from_url(url: str) -> str:
    """The numeric post id in a Facebook post URL, else a stable digest of the URL."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    for key in ("story_fbid", "fbid", "v"):
        if query.get(key):
            return query[key][0]
    numbers = re.findall(r"/(\d{6,})", parts.path)
    if numbers:
        return numbers[-1]
    slug = parts.path.rstrip("/").rsplit("/", 1)[-1]
    return slug if slug and slug not in ("posts", "videos", "photos") else \
        "u" + hashlib.sha1(url.encode()).hexdigest()[:16]  # noqa: S324 - an id, not security


def _map_ct_csv(raw: Mapping[str, Any], row: Mapping[str, str]) -> PostRecord:
    url = req(row, "URL")
    account = row.get("Facebook Id") or row.get("User Name") or req(row, "Page Name")
    text = "\n".join(p for p in (row.get("Message"), row.get("Image Text")) if p) or None
    links = [u for u in (row.get("Final Link") or row.get("Link"),) if u]
    kind = (row.get("Type") or "").lower()
    media = [media_item(PLATFORM, "video" if "video" in kind else "photo", None, row.get("Link"))] \
        if kind in ("photo", "native video", "live video complete", "video") else []
    tz = raw.get("tz")
    try:
        created = parse_ts(req(row, "Post Created"), tz)
    except AmbiguousZone as exc:  # the whole file is in that zone: fail it, naming --tz
        raise LoaderError(raw[FILE], raw[REC], str(exc)) from exc
    return post_record(
        raw, platform=PLATFORM, post_id=_post_id_from_url(url), account_id=account,
        created_at=created, text=text, handle=row.get("User Name"),
        display_name=row.get("Page Name") or row.get("Group Name"), account_created_at=row.get("Page Created"),
        followers=row.get("Followers at Posting") or row.get("Likes at Posting"), urls=links, media=media,
        post_url=url, tz=tz,
    )


def _map_ct_api(raw: Mapping[str, Any], post: Mapping[str, Any]) -> PostRecord:
    if str(post.get("platform", "Facebook")).lower() != "facebook":
        raise RecordError(f"CrowdTangle platform {post.get('platform')!r} is not Facebook")
    account = post.get("account") or {}
    platform_id = str(req(post, "platformId"))
    page_id, _, post_id = platform_id.partition("_")
    links = [link.get("expanded") or link.get("original") for link in post.get("expandedLinks") or []]
    media = [media_item(PLATFORM, m.get("type") or "other", None, m.get("full") or m.get("url"))
             for m in post.get("media") or [] if isinstance(m, Mapping)]
    return post_record(
        raw, platform=PLATFORM, post_id=post_id or platform_id,
        account_id=account.get("platformId") or page_id or account.get("id"), created_at=req(post, "date"),
        text="\n".join(p for p in (post.get("message"), post.get("description")) if p) or None,
        handle=account.get("handle"), display_name=account.get("name"),
        account_created_at=account.get("pageCreatedDate"), followers=account.get("subscriberCount"),
        urls=[u for u in links if u] or ([post["link"]] if post.get("link") else []), media=media,
        post_url=post.get("postUrl"),
    )


def _map_mcl(raw: Mapping[str, Any], row: Mapping[str, str]) -> PostRecord:
    owner = row.get("post_owner.id") or None
    name = (row.get("post_owner.name") or "").strip()
    if not owner:
        if not name:
            raise RecordError("missing required field 'post_owner.id' (and no post_owner.name)")
        owner = f"name:{name}"  # derived, stable, marked by the prefix
    links = [u for u in (row.get("link_attachment.link"),) if u]
    shared = row.get("shared_post.id") or row.get("shared_post_id")
    return post_record(
        raw, platform=PLATFORM, post_id=req(row, "id"), account_id=owner, created_at=req(row, "creation_time"),
        text=row.get("text") or None, handle=row.get("post_owner.username"), display_name=name or None,
        lang=row.get("lang"), urls=links, repost_of=f"{PLATFORM}:{shared}" if shared else None,
        media=_mcl_media(row),
        post_url=row.get("url") or row.get("post_url") or f"https://www.facebook.com/{row['id']}",
    )


def _mcl_media(row: Mapping[str, str]) -> list[Any]:
    """Media of an MCL row: the ``multimedia`` JSON column (``[{"id", "type", "url"}]``), or the older
    ``multimedia.url`` pipe-separated URLs."""
    cell = (row.get("multimedia") or "").strip()
    if cell:
        try:
            items = orjson.loads(cell)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"multimedia column is not JSON: {exc}") from exc
        if not isinstance(items, list):
            raise RecordError("multimedia column is not a JSON list")
        return [media_item(PLATFORM, _media_kind(m.get("type")), opt_str(m.get("id")), opt_str(m.get("url")))
                for m in items if isinstance(m, Mapping)]
    return [media_item(PLATFORM, "photo", None, u) for u in (row.get("multimedia.url") or "").split("|") if u]


def _media_kind(kind: Any) -> str:
    text = str(kind or "").lower()
    return "video" if "video" in text or text == "reel" else "photo" if text in ("photo", "image") else "other"


@hookimpl
def register_loaders() -> list[type]:
    return [FacebookLoader]
