"""Helpers every loader shares: reading, sniffing, timestamps, URLs, caption normalisation, media hashing."""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cib.errors import RecordError
from cib.schema import RAW_ERROR, RAW_FILE, RAW_FORMAT, RAW_RECORD, AccountRecord, MediaItem, PostRecord
from loaders._read import csv_header, csv_rows, first_json, head, json_records, load_document, stream_items
from loaders._time import opt_ts, parse_ts

__all__ = [
    "REC",
    "ERR",
    "FMT",
    "FILE",
    "COORTWEET_COLUMNS",
    "LoadOptions",
    "account_record",
    "coortweet_platform",
    "map_coortweet",
    "canonical_url",
    "csv_header",
    "csv_rows",
    "first_json",
    "head",
    "load_document",
    "opt_ts",
    "stream_items",
    "hashtags_from_text",
    "json_records",
    "media_item",
    "normalize_text",
    "opt_int",
    "opt_str",
    "parse_ts",
    "post_record",
    "req",
]

REC, ERR, FMT, FILE = RAW_RECORD, RAW_ERROR, RAW_FORMAT, RAW_FILE
INT64_MAX = 2**63 - 1


# -- values -----------------------------------------------------------------------------------------------

def req(mapping: Mapping[str, Any], key: str) -> Any:
    """`mapping[key]`, or `RecordError` naming the key when it is missing or empty."""
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    if value is None or value == "":
        raise RecordError(f"missing required field {key!r}")
    return value


def opt_str(value: Any) -> str | None:
    """A non-empty string or None; ints stay exact (never via float)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        raise RecordError(f"id-like value {value!r} is a float")
    text = str(value).strip()
    return text or None


def opt_int(value: Any) -> int | None:
    """An int or None; accepts '1,234' and '12.0'. A count that is not finite or does not fit in 64 bits
    (``1e400``, ``inf``, ``99999999999999999999``) is a `RecordError`: the record is quarantined.

    Examples
    --------
    >>> opt_int("1,234"), opt_int("12.0"), opt_int("n/a")
    (1234, 12, None)
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(value)
        except (TypeError, ValueError):
            try:
                as_float = float(str(value).replace(",", ""))
            except ValueError:
                return None
            if not math.isfinite(as_float):
                raise RecordError(f"count {str(value)[:40]!r} is not a finite number") from None
            number = int(as_float)
    if not -INT64_MAX <= number <= INT64_MAX:
        raise RecordError(f"count {str(value)[:40]!r} is out of range")
    return number


# -- URLs, hashtags, captions --------------------------------------------------------------------------------

_TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|igshid|igsh|mc_cid|mc_eid|ref|ref_src|ref_url|s|si|t|feature|__cft__.*|__tn__|"
    r"cmpid|ocid|mkt_tok|_ga|yclid|spm|share_id|sender_device|is_from_webapp|web_id)$",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1 << 16)
def canonical_url(url: str | None) -> str | None:
    """Canonical form of a URL: https, lower-case host without www., default port, tracking params and
    fragment dropped, remaining params sorted. Returns None for something that is not an http(s) URL.

    Examples
    --------
    >>> canonical_url("HTTP://WWW.Example.COM:80/a/?utm_source=x&b=2&a=1#top")
    'https://example.com/a?a=1&b=2'
    """
    if not url:
        return None
    url = url.strip()
    if "://" not in url and re.match(r"^[\w-]+(\.[\w-]+)+/", url):
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit(("https", host, path, urlencode(query), ""))


_URL_RE = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HASHTAG_RE = re.compile(r"(?<![\w#])[#＃](\w+)")
_MENTION_RE = re.compile(r"(?<![\w@])@(\w+)")
_RT_PREFIX = re.compile(r"^\s*rt\s+@\w+\s*:\s*", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")  # a run of word characters other than "_"
_URL_OR_MENTION_RE = re.compile(r"https?://\S+|www\.\S+|(?<![\w@])@\w+", re.IGNORECASE)
_WS = re.compile(r"\s+")


def hashtags_from_text(text: str | None) -> list[str]:
    """Lower-cased hashtags in order of first appearance.

    Examples
    --------
    >>> hashtags_from_text("Слава #Україні and #Ukraine #україні")
    ['україні', 'ukraine']
    """
    if not text or not _may_have_hashtag(text):
        return []
    seen: dict[str, None] = {}
    for tag in _HASHTAG_RE.findall(unicodedata.normalize("NFKC", text)):
        seen.setdefault(tag.casefold(), None)
    return list(seen)


def _may_have_hashtag(text: str) -> bool:
    """False when `text` cannot hold a hashtag: no ``#`` nor a character whose NFKC form is one (``＃``, ``﹟``).
    A cheap test that spares the regex scan of most captions."""
    return "#" in text or "\uff03" in text or "\ufe5f" in text


def _may_have_url(text: str) -> bool:
    """False when neither `_URL_RE` alternative can match (both need ``://`` or a case-insensitive ``www.``)."""
    return "://" in text or "www." in text.lower()


def mentions_from_text(text: str | None) -> list[str]:
    if not text or "@" not in text:
        return []
    return list(dict.fromkeys(m.casefold() for m in _MENTION_RE.findall(text)))


def urls_from_text(text: str | None) -> list[str]:
    if not text or not _may_have_url(text):
        return []
    return [u.rstrip(").,;!?»\"'") for u in _URL_RE.findall(text)]


@functools.lru_cache(maxsize=1 << 15)  # copied captions are what coordination looks like: each is computed once
def normalize_text(text: str | None) -> str | None:
    """Caption fingerprint text: NFKC, case-folded, without retweet prefix, URLs, mentions, emoji and
    punctuation; hashtags moved to the end in sorted order. None when nothing is left.

    Examples
    --------
    >>> normalize_text("RT @bot1: Вони БРЕШУТЬ!!! 🔥 #b #a https://t.co/x")
    'вони брешуть #a #b'
    >>> normalize_text("🔥🔥") is None
    True
    """
    if not text:
        return None
    t = (text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)).casefold()
    if t.lstrip()[:2] == "rt":
        t = _RT_PREFIX.sub("", t)
    if "@" in t or _may_have_url(t):
        t = _URL_OR_MENTION_RE.sub(" ", t)
    tags = sorted(set(_HASHTAG_RE.findall(t))) if _may_have_hashtag(t) else []
    if tags:
        t = _HASHTAG_RE.sub(" ", t)
    words = _WORD.findall(t)  # = t with non-word characters and "_" turned into spaces, split
    if not tags:
        return " ".join(words) if words else None
    return " ".join(words + [f"#{tag}" for tag in tags])


# -- media -----------------------------------------------------------------------------------------------------

def media_item(platform: str, kind: str, key: str | None, url: str | None = None,
               path: Path | None = None, *, base: Path | None = None, ref: str | None = None) -> MediaItem | None:
    """A media entry: hashed when the file exists (sha256, PDQ and pHash for images, vPDQ frames for
    videos; `cib.mediahash`), else keyed by the platform media key (or URL) so that re-uploads of the same
    platform object still match.

    An export's own reference `ref` is resolved inside the export folder `base`: one that leaves it is never
    opened and becomes an entry with the refusal in ``error`` and a key unique to this post (pass the post's
    id as `key`), so it links nobody.
    """
    from cib.mediahash import MediaMissing, MediaRefused, default_hasher

    hashed = None
    try:
        if base is not None and ref is not None:
            hashed = default_hasher().ref_hash(base, ref)
        elif path is not None:
            hashed = default_hasher().hash_file(path)
    except MediaMissing:
        if ref is not None:  # exports often leave media out ("(File not included...)"): nothing to key on
            return None
    except MediaRefused as exc:
        return MediaItem(key=f"{platform}:{kind}:refused:{key or hashlib.sha256(str(ref).encode()).hexdigest()}",
                         kind=kind, url=url, path=None, sha256=None, pdq=None, phash=None, vpdq=None,
                         error=str(exc))
    if hashed is not None:
        if kind == "other" and hashed.kind in ("image", "video"):
            kind = {"image": "photo"}.get(hashed.kind, hashed.kind)
        return MediaItem(key=f"sha256:{hashed.sha256}", kind=kind, url=url, path=hashed.path, sha256=hashed.sha256,
                         pdq=hashed.pdq, phash=hashed.image.phash if hashed.image else None, vpdq=hashed.vpdq,
                         error=hashed.error)
    none = {"path": None, "sha256": None, "pdq": None, "phash": None, "vpdq": None, "error": None}
    if key:
        return MediaItem(key=f"{platform}:{kind}:{key}", kind=kind, url=url, **none)  # type: ignore[typeddict-item]
    if url:
        canon = canonical_url(url)
        if canon:
            return MediaItem(key=f"url:{canon}", kind=kind, url=url, **none)  # type: ignore[typeddict-item]
    return None


# -- record builders -----------------------------------------------------------------------------------------------

def post_record(raw: Mapping[str, Any], *, platform: str, post_id: Any, account_id: Any, created_at: Any,
                text: str | None = None, handle: str | None = None, display_name: str | None = None,
                account_created_at: Any = None, followers: Any = None, lang: str | None = None,
                urls: list[str] | None = None, hashtags: list[str] | None = None,
                mentions: list[str] | None = None, repost_of: str | None = None,
                repost_account_uid: str | None = None, reply_to: str | None = None,
                quote_of: str | None = None, media: list[MediaItem | None] | None = None,
                sound_id: Any = None, effect_ids: list[str] | None = None,
                post_url: str | None = None, tz: str | None = None) -> PostRecord:
    """Assemble a `PostRecord`, filling what every loader derives the same way (`tz`: the zone of naive
    timestamps, from ``--tz``)."""
    pid, aid = opt_str(post_id), opt_str(account_id)
    if pid is None:
        raise RecordError("missing post id")
    if aid is None:
        raise RecordError("missing author id")
    found = urls if urls is not None else urls_from_text(text)
    canon = list(dict.fromkeys(c for c in map(canonical_url, found) if c)) if found else []
    tags = hashtags if hashtags is not None else hashtags_from_text(text)
    named = mentions if mentions is not None else mentions_from_text(text)
    return PostRecord(
        uid=f"{platform}:{pid}",
        platform=platform,
        post_id=pid,
        account_uid=f"{platform}:{aid}",
        account_id=aid,
        handle=opt_str(handle),
        display_name=opt_str(display_name),
        account_created_at=opt_ts(account_created_at, tz),
        followers=opt_int(followers),
        created_at=parse_ts(created_at, tz),
        text=text if text else None,
        text_norm=normalize_text(text),
        lang=opt_str(lang),
        urls=canon,
        hashtags=list(dict.fromkeys(t.casefold().lstrip("#") for t in tags if t)) if tags else [],
        mentions=list(dict.fromkeys(m.casefold().lstrip("@") for m in named)) if named else [],
        repost_of=repost_of,
        repost_account_uid=repost_account_uid,
        reply_to=reply_to,
        quote_of=quote_of,
        media=[m for m in media if m is not None] if media else [],
        sound_id=opt_str(sound_id),
        effect_ids=[e for e in (opt_str(x) for x in effect_ids) if e and e != "0"] if effect_ids else [],
        post_url=post_url,
        format=raw[FMT],
        source_file=raw[FILE],
        source_record=int(raw[REC]),
    )


def account_record(raw: Mapping[str, Any], *, platform: str, account_id: Any, handle: Any = None,
                   display_name: Any = None, created_at: Any = None, followers: Any = None,
                   following: Any = None, posts_count: Any = None, bio: Any = None, verified: Any = None,
                   profile_url: str | None = None) -> AccountRecord:
    aid = opt_str(account_id)
    if aid is None:
        raise RecordError("account record has no id")
    return AccountRecord(
        uid=f"{platform}:{aid}", platform=platform, account_id=aid, handle=opt_str(handle),
        display_name=opt_str(display_name), created_at=opt_ts(created_at), followers=opt_int(followers),
        following=opt_int(following), posts_count=opt_int(posts_count), bio=opt_str(bio),
        verified=bool(verified) if verified is not None else None, profile_url=profile_url,
        format=raw[FMT], source_file=raw[FILE], source_record=int(raw[REC]),
    )



# -- options and formats that name no platform ---------------------------------------------------------------

@dataclass(frozen=True)
class LoadOptions:
    """What the user told ``cib load``: `tz` (``--tz``, zone of naive local times) and `platform`
    (``--platform``, for formats that name none)."""

    tz: str | None = None
    platform: str | None = None


COORTWEET_COLUMNS = frozenset({"object_id", "account_id", "content_id", "timestamp_share"})
_ID_PREFIXES = {"fb_": "facebook", "tw_": "x", "x_": "x", "tt_": "tiktok", "tg_": "telegram"}
_PROBE_ROWS = 2000


def coortweet_platform(path: Path, options: LoadOptions) -> str | None:
    """The platform of a CooRTweet CSV (``account_id, content_id, object_id, timestamp_share``): ``--platform``,
    else the one id prefix (``fb_``, ``tw_``, ``tt_``, ``tg_``) every sampled account id carries; None when
    the file is not CooRTweet CSV; `LoaderError` naming ``--platform`` when nothing says which platform."""
    from cib.errors import LoaderError

    if not COORTWEET_COLUMNS <= set(csv_header(path)):
        return None
    if options.platform:
        return options.platform
    seen: set[str | None] = set()
    for n, raw in enumerate(csv_rows(path, "coortweet-csv")):
        if n >= _PROBE_ROWS:
            break
        account = str((raw.get("value") or {}).get("account_id", ""))
        seen.add(next((p for pfx, p in _ID_PREFIXES.items() if account.startswith(pfx)), None))
    if len(seen) == 1 and None not in seen:
        return seen.pop()
    raise LoaderError(str(path), None, "CooRTweet CSV names no platform; pass --platform x, facebook or tiktok")


def map_coortweet(raw: Mapping[str, Any], platform: str) -> PostRecord:
    """A CooRTweet row: ``object_id`` is the shared object — a URL, a text, or an opaque id.

    An object without whitespace that is not a URL (a post id, or the hashed id in CooRTweet's own example data)
    is an opaque shared object: it becomes the repost target, so co-sharing it is co-retweeting it (as in CNT).
    """
    value = raw["value"]
    account, content = str(req(value, "account_id")), str(req(value, "content_id"))
    for prefix, named in _ID_PREFIXES.items():
        if named == platform and account.startswith(prefix):
            account, content = account.removeprefix(prefix), content.removeprefix(prefix)
    obj = str(req(value, "object_id"))
    is_url = obj.startswith(("http://", "https://"))
    is_id = not is_url and bool(obj) and not any(ch.isspace() for ch in obj)
    return post_record(raw, platform=platform, post_id=content, account_id=account,
                       created_at=req(value, "timestamp_share"), text=None if is_url or is_id else obj,
                       repost_of=f"{platform}:{obj}" if is_id else None, urls=[obj] if is_url else [],
                       hashtags=None if not (is_url or is_id) else [], mentions=[])
