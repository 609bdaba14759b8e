"""X (Twitter) exports.

Formats (sniffed from content):

- ``api-v2-jsonl``: API v2 response pages, one per line or one per file (twarc2 output: ``data`` with
  ``includes.users/tweets/media`` and ``errors[]``). Included tweets (retweeted/quoted originals) load as posts.
- ``twarc2-flat-jsonl``: ``twarc2 flatten`` output, one tweet per line with ``author`` expanded.
- ``api-v1.1-json``: v1.1 tweet objects (``id_str``, ``user``, ``full_text``/``extended_tweet``), JSONL, a JSON
  array or one object; ``retweeted_status`` and ``quoted_status`` load as posts too.
- ``zeeschuimer-ndjson``: Zeeschuimer/4CAT captures of X web GraphQL ``Tweet`` objects.
- ``io-archive-csv``: X Information Operations archive (``tweetid,userid,...``).
- ``twitwi-csv``: the flat CSV of twitwi/minet.
- ``academictwitter-json``: academictwitteR storage: ``data_<id>.json`` is a bare array of v2 tweets; the
  ``users_<id>.json`` beside it (its ``includes``) supplies authors and retweeted originals when present.
- ``academictwitter-users-json``: that ``users_<id>.json`` on its own: users load as accounts, its
  ``tweets`` (retweeted/quoted originals) as posts.
- ``coortweet-csv``: CooRTweet's minimal input (``object_id,account_id,content_id,timestamp_share``), only
  with ``--platform x`` or ``tw_``-prefixed ids: the format names no platform.
- ``compliance-jsonl``: compliance events; every event is quarantined (they are not posts).
"""

from __future__ import annotations

import ast
import re
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
    csv_header,
    csv_rows,
    first_json,
    head,
    json_records,
    load_document,
    map_coortweet,
    media_item,
    opt_str,
    post_record,
    req,
)

__all__ = ["XLoader"]

PLATFORM = "x"


class XLoader:
    """Loader for every X format listed in the module docstring."""

    platform: ClassVar[str] = PLATFORM
    formats: ClassVar[tuple[str, ...]] = (
        "api-v2-jsonl", "twarc2-flat-jsonl", "api-v1.1-json", "zeeschuimer-ndjson", "io-archive-csv",
        "twitwi-csv", "coortweet-csv", "compliance-jsonl", "academictwitter-json", "academictwitter-users-json",
    )
    options: LoadOptions = LoadOptions()

    @staticmethod
    def profile_url(account_id: str, handle: str | None) -> str:
        return f"https://x.com/{handle}" if handle else f"https://x.com/i/user/{account_id}"

    def detect(self, path: Path) -> str | None:
        text = head(path)
        header = set(csv_header(path)) if not text.lstrip().startswith(("{", "[")) else set()
        if {"tweetid", "userid", "tweet_text"} <= header:
            return "io-archive-csv"
        if {"id", "timestamp_utc", "user_screen_name", "text"} <= header:
            return "twitwi-csv"
        if header:
            return "coortweet-csv" if coortweet_platform(path, self.options) == PLATFORM else None
        value = first_json(path)
        if value is None and text.lstrip()[:1] in "[{":
            value = _partial_probe(text)
        bare_array = isinstance(value, list)
        if isinstance(value, list) and value:
            value = value[0]
        if not isinstance(value, dict):
            return None
        if isinstance(value.get("users"), list) and "data" not in value and "id" not in value:
            return "academictwitter-users-json"
        if bare_array and {"id", "author_id", "text", "created_at"} <= set(value) and "author" not in value:
            return "academictwitter-json"
        if value.get("source_platform") in ("twitter.com", "x.com"):
            return "zeeschuimer-ndjson"
        if "data" in value and ("includes" in value or "meta" in value or "__twarc" in value or "errors" in value):
            return "api-v2-jsonl"
        if "action" in value and value.get("action") in ("delete", "scrub_geo", "user_delete", "user_protect"):
            return "compliance-jsonl"
        if "id_str" in value and ("user" in value or "retweeted_status" in value):
            return "api-v1.1-json"
        if "author_id" in value and "text" in value and ("author" in value or "__twarc" in value):
            return "twarc2-flat-jsonl"
        return None

    def sniff(self, path: Path) -> bool:
        return self.detect(path) is not None

    @staticmethod
    def fast_posts(path: Path, fmt: str) -> pl.DataFrame | None:
        """The file's posts through the vectorised fast path (`loaders.x_fast`), or None when only the
        per-record path can guarantee the result."""
        if fmt != "api-v2-jsonl":
            return None
        from loaders.x_fast import v2_posts

        return v2_posts(path, fmt)

    def iter_raw(self, path: Path) -> Iterator[Mapping[str, Any]]:
        fmt = self.detect(path)
        if fmt in ("io-archive-csv", "twitwi-csv", "coortweet-csv"):
            yield from csv_rows(path, fmt)
            return
        if fmt == "academictwitter-json":
            yield from _academic_data(path)
            return
        if fmt == "academictwitter-users-json":
            yield from _academic_users(path)
            return
        for raw in json_records(path, fmt or "unknown"):
            if ERR in raw:
                yield raw
            elif fmt == "api-v2-jsonl":
                yield from _v2_page(raw)
            elif fmt == "zeeschuimer-ndjson":
                tweet = _graphql_to_v11(raw["value"].get("data") or {})
                yield from _v11_with_nested(raw, tweet)
            elif fmt == "api-v1.1-json":
                yield from _v11_with_nested(raw, raw["value"])
            else:
                yield raw

    @staticmethod
    def map_record(raw: Mapping[str, Any]) -> PostRecord | AccountRecord:
        fmt = raw[FMT]
        value = raw["value"]
        if fmt in ("api-v2-jsonl", "academictwitter-json", "academictwitter-users-json"):
            if raw.get("kind") == "user":
                return _map_v2_user(raw, value)
            if raw.get("kind") == "error":
                raise RecordError(f"API error: {value.get('title', '')}: {value.get('detail', '')}".strip())
            return _map_v2(raw, value, raw.get("users", {}), raw.get("tweets", {}), raw.get("media", {}))
        if fmt == "twarc2-flat-jsonl":
            author = value.get("author") or {}
            refs: dict[Any, Any] = {r.get("id"): r for r in value.get("referenced_tweets") or [] if isinstance(r, dict)}
            users: dict[Any, Any] = {author.get("id"): author} if author else {}
            for ref in refs.values():
                if isinstance(ref.get("author"), dict):
                    users[ref["author"].get("id")] = ref["author"]
            media: dict[Any, Any] = {m.get("media_key"): m for m in (value.get("attachments") or {}).get("media") or []
                     if isinstance(m, dict)}
            return _map_v2(raw, value, users, refs, media)
        if fmt in ("api-v1.1-json", "zeeschuimer-ndjson"):
            return _map_v11(raw, value)
        if fmt == "io-archive-csv":
            return _map_io_archive(raw, value)
        if fmt == "twitwi-csv":
            return _map_twitwi(raw, value)
        if fmt == "coortweet-csv":
            return map_coortweet(raw, PLATFORM)
        if fmt == "compliance-jsonl":
            raise RecordError(f"compliance event {value.get('action')!r} ({value.get('reason', 'no reason')}), "
                              "not a post")
        raise RecordError(f"unknown X format {fmt!r}")


def _partial_probe(text: str) -> Any:
    """Peek at the first object of a pretty-printed JSON document by its keys (the head may be cut)."""
    keys = set()
    for token in ("\"data\"", "\"includes\"", "\"id_str\"", "\"user\"", "\"meta\"", "\"errors\""):
        if token in text[:8192]:
            keys.add(token.strip('"'))
    return {k: None for k in keys} if keys else None


def _lookups(inc: Mapping[str, Any]) -> dict[str, Any]:
    """``includes`` as id -> object maps (users, tweets, media)."""
    def index(key: str, ident: str) -> dict[Any, Any]:
        items = inc.get(key)
        return {u.get(ident): u for u in items if isinstance(u, dict)} if isinstance(items, list) else {}

    return {"users": index("users", "id"), "tweets": index("tweets", "id"), "media": index("media", "media_key")}


def _academic_data(path: Path) -> Iterator[Mapping[str, Any]]:
    """academictwitteR ``data_<id>.json``, joined with the ``users_<id>.json`` beside it when there is one."""
    sibling = path.with_name(re.sub(r"data_([^_/]+)\.json$", r"users_\1.json", path.name))
    inc = load_document(sibling) if sibling != path and sibling.is_file() else {}
    base = _lookups(inc if isinstance(inc, dict) else {})
    for raw in json_records(path, "academictwitter-json"):
        yield raw if ERR in raw else {**raw, **base}


def _academic_users(path: Path) -> Iterator[Mapping[str, Any]]:
    inc = load_document(path)
    base = {REC: 1, FMT: "academictwitter-users-json", FILE: str(path), **_lookups(inc)}
    for i, user in enumerate(inc.get("users") or []):
        yield {**base, REC: i + 1, "value": user, "kind": "user", "item": f"users[{i}]"}
    for i, tweet in enumerate(inc.get("tweets") or []):
        yield {**base, REC: i + 1, "value": tweet, "item": f"tweets[{i}]"}


def _map_v2_user(raw: Mapping[str, Any], user: Mapping[str, Any]) -> AccountRecord:
    if not isinstance(user, Mapping):
        raise RecordError("user is not a JSON object")
    metrics = user.get("public_metrics") or {}
    handle = opt_str(user.get("username"))
    account_id = str(req(user, "id"))
    return account_record(raw, platform=PLATFORM, account_id=account_id, handle=handle,
                          display_name=user.get("name"), created_at=user.get("created_at"),
                          followers=metrics.get("followers_count"), following=metrics.get("following_count"),
                          posts_count=metrics.get("tweet_count"), bio=user.get("description"),
                          verified=user.get("verified"), profile_url=XLoader.profile_url(account_id, handle))


def _v2_page(raw: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    page = raw["value"]
    if not isinstance(page, dict):
        yield {**raw, ERR: "API v2 page is not a JSON object"}
        return
    inc = page.get("includes")
    lookups = _lookups(inc if isinstance(inc, dict) else {})
    tweets = lookups["tweets"]
    data = page.get("data")
    items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    base = {REC: raw[REC], FMT: raw[FMT], FILE: raw[FILE], **lookups}
    for i, tweet in enumerate(items):
        yield {**base, "value": tweet, "item": f"data[{i}]"}
    for i, tweet in enumerate(tweets.values()):
        yield {**base, "value": tweet, "item": f"includes.tweets[{i}]"}
    for i, error in enumerate(page.get("errors") or []):
        yield {**base, "value": error, "kind": "error", "item": f"errors[{i}]"}


def _map_v2(raw: Mapping[str, Any], tweet: Mapping[str, Any], users: Mapping[str, Any],
            tweets: Mapping[str, Any], media: Mapping[str, Any]) -> PostRecord:
    if not isinstance(tweet, Mapping):
        raise RecordError("tweet is not a JSON object")
    author_id = req(tweet, "author_id")
    user = users.get(author_id) or {}
    entities = tweet.get("entities") or {}
    text = ((tweet.get("note_tweet") or {}).get("text")) or tweet.get("text")
    refs = {r.get("type"): r.get("id") for r in tweet.get("referenced_tweets") or [] if isinstance(r, Mapping)}
    retweeted = refs.get("retweeted")
    original = tweets.get(retweeted) if retweeted else None
    urls = [u.get("unwound_url") or u.get("expanded_url") or u.get("url") for u in entities.get("urls") or []]
    keys = (tweet.get("attachments") or {}).get("media_keys") or []
    items = [_v2_media(media.get(k) or {"media_key": k}) for k in keys]
    metrics = user.get("public_metrics") or {}
    return post_record(
        raw, platform=PLATFORM, post_id=req(tweet, "id"), account_id=author_id, created_at=req(tweet, "created_at"),
        text=text, handle=user.get("username"), display_name=user.get("name"),
        account_created_at=user.get("created_at"), followers=metrics.get("followers_count"),
        lang=tweet.get("lang"), urls=[u for u in urls if u],
        hashtags=[h.get("tag", "") for h in entities.get("hashtags") or []],
        mentions=[m.get("username", "") for m in entities.get("mentions") or []],
        repost_of=f"{PLATFORM}:{retweeted}" if retweeted else None,
        repost_account_uid=f"{PLATFORM}:{original['author_id']}" if original and original.get("author_id") else None,
        reply_to=f"{PLATFORM}:{refs['replied_to']}" if refs.get("replied_to") else None,
        quote_of=f"{PLATFORM}:{refs['quoted']}" if refs.get("quoted") else None,
        media=items, post_url=_tweet_url(user.get("username"), tweet["id"]),
    )


def _v2_media(m: Mapping[str, Any]) -> Any:
    kind = {"animated_gif": "video"}.get(m.get("type", ""), m.get("type") or "other")
    return media_item(PLATFORM, kind, m.get("media_key"), m.get("url") or m.get("preview_image_url"))


def _tweet_url(handle: str | None, tweet_id: str) -> str:
    return f"https://x.com/{handle or 'i/web'}/status/{tweet_id}"


def _graphql_to_v11(data: Mapping[str, Any]) -> dict[str, Any]:
    """Turn a web GraphQL Tweet into the v1.1 shape (``legacy`` + ``user``)."""
    if data.get("__typename") == "TweetWithVisibilityResults" or ("tweet" in data and "legacy" not in data):
        data = data.get("tweet") or {}
    legacy = dict(data.get("legacy") or {})
    user_result = ((data.get("core") or {}).get("user_results") or {}).get("result") or {}
    user = dict(user_result.get("legacy") or {})
    user.setdefault("id_str", user_result.get("rest_id") or legacy.get("user_id_str"))
    core = user_result.get("core") or {}  # 2025 layout moved screen_name/name/created_at here
    for key in ("screen_name", "name", "created_at"):
        if core.get(key) and not user.get(key):
            user[key] = core[key]
    legacy["user"] = user
    legacy.setdefault("id_str", data.get("rest_id"))
    note = ((data.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result") or {}
    if note.get("text"):
        legacy["full_text"] = note["text"]
    rt = (legacy.pop("retweeted_status_result", None) or {}).get("result")
    if rt:
        legacy["retweeted_status"] = _graphql_to_v11(rt)
    quoted = (data.get("quoted_status_result") or {}).get("result")
    if quoted:
        legacy["quoted_status"] = _graphql_to_v11(quoted)
    return legacy


def _v11_with_nested(raw: Mapping[str, Any], tweet: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(tweet, dict):
        yield {**raw, ERR: "tweet is not a JSON object"}
        return
    base = {REC: raw[REC], FMT: raw[FMT], FILE: raw[FILE]}
    yield {**base, "value": tweet}
    for key in ("retweeted_status", "quoted_status"):
        nested = tweet.get(key)
        if isinstance(nested, dict) and nested.get("id_str"):
            yield {**base, "value": nested, "item": key}


def _map_v11(raw: Mapping[str, Any], tweet: Mapping[str, Any]) -> PostRecord:
    user = tweet.get("user") or {}
    ext = tweet.get("extended_tweet") or {}
    text = ext.get("full_text") or tweet.get("full_text") or tweet.get("text")
    entities = ext.get("entities") or tweet.get("entities") or {}
    media_list = ((ext.get("extended_entities") or tweet.get("extended_entities") or {}).get("media")
                  or entities.get("media") or [])
    rt = tweet.get("retweeted_status") if isinstance(tweet.get("retweeted_status"), dict) else None
    handle = user.get("screen_name")
    quoted = opt_str(tweet.get("quoted_status_id_str"))
    reply = opt_str(tweet.get("in_reply_to_status_id_str"))
    post_id = req(tweet, "id_str")
    return post_record(
        raw, platform=PLATFORM, post_id=post_id, account_id=user.get("id_str") or tweet.get("user_id_str"),
        created_at=req(tweet, "created_at"), text=text, handle=handle, display_name=user.get("name"),
        account_created_at=user.get("created_at"), followers=user.get("followers_count"), lang=tweet.get("lang"),
        urls=[u.get("expanded_url") or u.get("url") for u in entities.get("urls") or [] if u.get("expanded_url")
              or u.get("url")],
        hashtags=[h.get("text", "") for h in entities.get("hashtags") or []],
        mentions=[m.get("screen_name", "") for m in entities.get("user_mentions") or []],
        repost_of=f"{PLATFORM}:{rt['id_str']}" if rt and rt.get("id_str") else None,
        repost_account_uid=f"{PLATFORM}:{(rt.get('user') or {}).get('id_str')}"
        if rt and (rt.get("user") or {}).get("id_str") else None,
        reply_to=f"{PLATFORM}:{reply}" if reply else None,
        quote_of=f"{PLATFORM}:{quoted}" if quoted else None,
        media=[media_item(PLATFORM, {"animated_gif": "video"}.get(m.get("type", ""), m.get("type") or "other"),
                          m.get("media_key") or m.get("id_str"), m.get("media_url_https") or m.get("media_url"))
               for m in media_list],
        post_url=_tweet_url(handle, post_id),
    )


def _listish(value: str | None) -> list[str]:
    """IO-archive list cells: '[a, b]', "['a', 'b']" or empty."""
    if not value or value in ("[]", "None"):
        return []
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = ast.literal_eval(text)
            return [str(v) for v in parsed] if isinstance(parsed, list) else []
        except (ValueError, SyntaxError):
            text = text[1:-1]
    return [part.strip().strip("'\"") for part in text.split(",") if part.strip()]


def _map_io_archive(raw: Mapping[str, Any], row: Mapping[str, str]) -> PostRecord:
    is_rt = row.get("is_retweet", "").lower() in ("true", "1")
    rt_id = opt_str(row.get("retweet_tweetid"))
    reply, quoted = opt_str(row.get("in_reply_to_tweetid")), opt_str(row.get("quoted_tweet_tweetid"))
    rt_user = opt_str(row.get("retweet_userid"))
    return post_record(
        raw, platform=PLATFORM, post_id=req(row, "tweetid"), account_id=req(row, "userid"),
        created_at=req(row, "tweet_time"), text=row.get("tweet_text"), handle=row.get("user_screen_name"),
        display_name=row.get("user_display_name"), account_created_at=row.get("account_creation_date"),
        followers=row.get("follower_count"), lang=row.get("tweet_language"), urls=_listish(row.get("urls")),
        hashtags=_listish(row.get("hashtags")), mentions=_listish(row.get("user_mentions")),
        repost_of=f"{PLATFORM}:{rt_id}" if is_rt and rt_id else None,
        repost_account_uid=f"{PLATFORM}:{rt_user}" if is_rt and rt_user else None,
        reply_to=f"{PLATFORM}:{reply}" if reply else None, quote_of=f"{PLATFORM}:{quoted}" if quoted else None,
        post_url=_tweet_url(None, row["tweetid"]),
    )


def _pipe(value: str | None) -> list[str]:
    return [v for v in (value or "").split("|") if v]


def _map_twitwi(raw: Mapping[str, Any], row: Mapping[str, str]) -> PostRecord:
    rt, quoted, reply = (opt_str(row.get(k)) for k in ("retweeted_id", "quoted_id", "to_tweetid"))
    rt_user = opt_str(row.get("retweeted_user_id"))
    kinds = _pipe(row.get("media_types"))
    media = [media_item(PLATFORM, kinds[i] if i < len(kinds) else "other", None, url)
             for i, url in enumerate(_pipe(row.get("media_urls")))]
    return post_record(
        raw, platform=PLATFORM, post_id=req(row, "id"), account_id=req(row, "user_id"),
        created_at=req(row, "timestamp_utc"), text=row.get("text"), handle=row.get("user_screen_name"),
        display_name=row.get("user_name"), account_created_at=row.get("user_created_at"),
        followers=row.get("user_followers"), lang=row.get("lang"), urls=_pipe(row.get("links")),
        hashtags=_pipe(row.get("hashtags")), mentions=_pipe(row.get("mentioned_names")),
        repost_of=f"{PLATFORM}:{rt}" if rt else None, repost_account_uid=f"{PLATFORM}:{rt_user}" if rt_user else None,
        reply_to=f"{PLATFORM}:{reply}" if reply else None, quote_of=f"{PLATFORM}:{quoted}" if quoted else None,
        media=media, post_url=row.get("url") or _tweet_url(row.get("user_screen_name"), row["id"]),
    )


@hookimpl
def register_loaders() -> list[type]:
    return [XLoader]
