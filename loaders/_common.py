"""Helpers every loader shares: reading, sniffing, timestamps, URLs, caption normalisation, media hashing."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cib.errors import RecordError
from cib.schema import RAW_ERROR, RAW_FILE, RAW_FORMAT, RAW_RECORD, AccountRecord, MediaItem, PostRecord

__all__ = [
    "HEAD_BYTES",
    "REC",
    "ERR",
    "FMT",
    "FILE",
    "account_record",
    "canonical_url",
    "csv_rows",
    "hashtags_from_text",
    "head",
    "json_records",
    "media_item",
    "normalize_text",
    "opt_int",
    "opt_str",
    "parse_ts",
    "post_record",
    "req",
]

HEAD_BYTES = 64 * 1024
REC, ERR, FMT, FILE = RAW_RECORD, RAW_ERROR, RAW_FORMAT, RAW_FILE

csv.field_size_limit(sys.maxsize)


def head(path: Path) -> str:
    """The first 64 KiB of a file as text (undecodable bytes replaced), for sniffing."""
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff")


def first_json_line(text: str) -> Any:
    """The first non-blank line of `text` parsed as JSON, or None."""
    for line in text.splitlines():
        if line.strip():
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def json_records(path: Path, fmt: str) -> Iterator[dict[str, Any]]:
    """Yield JSON values of a JSONL file, or of a single JSON document (a list yields its items).

    A line that is not JSON yields an error record, so ingest quarantines it and carries on.
    """
    text_head = head(path).lstrip()
    if first_json_line(text_head) is None and text_head[:1] in "[{":
        yield from _json_document(path, fmt)
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.strip().lstrip("\ufeff")
            if not line:
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                yield {REC: n, ERR: f"invalid JSON: {exc}", "raw": line[:2000], FMT: fmt, FILE: str(path)}
                continue
            yield {REC: n, FMT: fmt, FILE: str(path), "value": value}


def _json_document(path: Path, fmt: str) -> Iterator[dict[str, Any]]:
    """A top-level array is streamed item by item (ijson); a single object is one record."""
    import ijson

    from cib.errors import LoaderError

    if head(path).lstrip().startswith("["):
        n = 0
        try:
            with open(path, "rb") as fh:
                for n, item in enumerate(ijson.items(fh, "item", use_float=True), start=1):
                    yield {REC: n, FMT: fmt, FILE: str(path), "value": item}
        except ijson.JSONError as exc:
            raise LoaderError(str(path), n + 1, f"invalid JSON after {n} items: {exc}") from exc
        return
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoaderError(str(path), getattr(exc, "lineno", None), f"invalid JSON document: {exc}") from exc
    items = value if isinstance(value, list) else [value]
    for n, item in enumerate(items, start=1):
        yield {REC: n, FMT: fmt, FILE: str(path), "value": item}


def csv_header(path: Path) -> list[str]:
    first = head(path).splitlines()[:1]
    if not first:
        return []
    return [c.strip().strip('"') for c in next(csv.reader(first))]


def csv_rows(path: Path, fmt: str) -> Iterator[dict[str, Any]]:
    """Yield each CSV row as a dict of strings; a row with the wrong number of fields is an error record."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        for n, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                yield {
                    REC: n,
                    ERR: f"CSV row has {len(row)} fields, header has {len(header)}",
                    "raw": ",".join(row)[:2000],
                    FMT: fmt,
                    FILE: str(path),
                }
                continue
            yield {REC: n, FMT: fmt, FILE: str(path), "value": dict(zip(header, row, strict=True))}


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
    """An int or None; accepts '1,234' and '12.0'."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(str(value).replace(",", "")))
        except ValueError:
            return None


_TZ_ABBR = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "MSK": 3, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10, "AEST": 10, "AEDT": 11, "JST": 9, "KST": 9,
}
_TWITTER_FMT = "%a %b %d %H:%M:%S %z %Y"


def parse_ts(value: Any) -> datetime:
    """Parse any timestamp an export uses into an aware UTC datetime; `RecordError` otherwise.

    Naive times are taken as UTC; abbreviations such as EET/EST (CrowdTangle) are applied.

    Examples
    --------
    >>> parse_ts(1633823999).isoformat()
    '2021-10-09T23:59:59+00:00'
    >>> parse_ts("2021-01-12 17:03:40 EST").isoformat()
    '2021-01-12T22:03:40+00:00'
    >>> parse_ts("Thu Jul 28 16:10:07 +0000 2022").isoformat()
    '2022-07-28T16:10:07+00:00'
    """
    if value is None or value == "" or isinstance(value, bool):
        raise RecordError("missing timestamp")
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{9,13}(\.\d+)?", value)):
        number = float(value)
        if number > 1e11:  # milliseconds
            number /= 1000.0
        try:
            return datetime.fromtimestamp(number, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise RecordError(f"timestamp out of range: {value!r}") from exc
    text = str(value).strip()
    try:
        if text[:3].isalpha() and text[3:4] == " ":
            return datetime.strptime(text, _TWITTER_FMT).astimezone(UTC)
        offset = 0
        match = re.fullmatch(r"(.*\d)\s+([A-Z]{1,5})", text)
        if match:
            if match.group(2) not in _TZ_ABBR:
                raise RecordError(f"unknown time zone {match.group(2)!r} in {text!r}")
            text, offset = match.group(1), _TZ_ABBR[match.group(2)]
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as exc:
        raise RecordError(f"unparseable timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone(timedelta(hours=offset)))
    return parsed.astimezone(UTC)


def opt_ts(value: Any) -> datetime | None:
    """`parse_ts`, or None for a missing or unparseable value (for optional fields such as creation dates)."""
    try:
        return parse_ts(value)
    except RecordError:
        return None


# -- URLs, hashtags, captions --------------------------------------------------------------------------------

_TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|igshid|igsh|mc_cid|mc_eid|ref|ref_src|ref_url|s|si|t|feature|__cft__.*|__tn__|"
    r"cmpid|ocid|mkt_tok|_ga|yclid|spm|share_id|sender_device|is_from_webapp|web_id)$",
    re.IGNORECASE,
)


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
_NON_WORD = re.compile(r"[^\w\s]+")
_WS = re.compile(r"\s+")


def hashtags_from_text(text: str | None) -> list[str]:
    """Lower-cased hashtags in order of first appearance.

    Examples
    --------
    >>> hashtags_from_text("Слава #Україні and #Ukraine #україні")
    ['україні', 'ukraine']
    """
    if not text:
        return []
    seen: dict[str, None] = {}
    for tag in _HASHTAG_RE.findall(unicodedata.normalize("NFKC", text)):
        seen.setdefault(tag.casefold(), None)
    return list(seen)


def mentions_from_text(text: str | None) -> list[str]:
    if not text:
        return []
    return list(dict.fromkeys(m.casefold() for m in _MENTION_RE.findall(text)))


def urls_from_text(text: str | None) -> list[str]:
    if not text:
        return []
    return [u.rstrip(").,;!?»\"'") for u in _URL_RE.findall(text)]


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
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _RT_PREFIX.sub("", t)
    t = _URL_RE.sub(" ", t)
    t = _MENTION_RE.sub(" ", t)
    tags = sorted(set(_HASHTAG_RE.findall(t)))
    t = _HASHTAG_RE.sub(" ", t)
    t = _NON_WORD.sub(" ", t).replace("_", " ")
    words = t.split()
    if not words and not tags:
        return None
    return _WS.sub(" ", " ".join(words + [f"#{tag}" for tag in tags])).strip()


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
                post_url: str | None = None) -> PostRecord:
    """Assemble a `PostRecord`, filling what every loader derives the same way."""
    pid, aid = opt_str(post_id), opt_str(account_id)
    if pid is None:
        raise RecordError("missing post id")
    if aid is None:
        raise RecordError("missing author id")
    canon = [c for c in (canonical_url(u) for u in (urls if urls is not None else urls_from_text(text))) if c]
    tags = hashtags if hashtags is not None else hashtags_from_text(text)
    return PostRecord(
        uid=f"{platform}:{pid}",
        platform=platform,
        post_id=pid,
        account_uid=f"{platform}:{aid}",
        account_id=aid,
        handle=opt_str(handle),
        display_name=opt_str(display_name),
        account_created_at=opt_ts(account_created_at),
        followers=opt_int(followers),
        created_at=parse_ts(created_at),
        text=text if text else None,
        text_norm=normalize_text(text),
        lang=opt_str(lang),
        urls=list(dict.fromkeys(canon)),
        hashtags=list(dict.fromkeys(t.casefold().lstrip("#") for t in tags if t)),
        mentions=list(dict.fromkeys(m.casefold().lstrip("@") for m in (mentions if mentions is not None
                                                                        else mentions_from_text(text)))),
        repost_of=repost_of,
        repost_account_uid=repost_account_uid,
        reply_to=reply_to,
        quote_of=quote_of,
        media=[m for m in (media or []) if m is not None],
        sound_id=opt_str(sound_id),
        effect_ids=[e for e in (opt_str(x) for x in (effect_ids or [])) if e and e != "0"],
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

