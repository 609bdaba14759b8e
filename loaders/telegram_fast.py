"""Fast path of Telegram Desktop ``result.json`` full exports (``chats.list[].messages``; see `loaders._fast`):
the same posts as `loaders.telegram.TelegramLoader.map_record`, column by column. Single-chat exports
(top-level ``name, type, id, messages``) too.

The document is read whole by Arrow's C++ JSON reader (a few hundred MB in a fraction of the memory Python
objects would take). The fast path declines — the per-record path then streams the file — an export with
both top-level ``messages`` and ``chats``, or with ``left_chats``, a chat with a ``username`` or whose ``name, type, id`` do not come
first (the streamed per-record path reads chat fields in file order), ``\\xNN`` escapes, a service message,
a message without ``date_unixtime`` or with empty ``text_entities`` (its ``text`` would decide), an entity
without text, a non-ASCII peer id, and any value of another JSON type than the schema's.

Examples
--------
>>> import tempfile
>>> doc = (b'{"chats": {"list": [{"name": "News", "type": "public_channel", "id": 7, "messages": [{"id": 1,'
...        b' "type": "message", "date_unixtime": "1700000000", "from": "News", "from_id": "channel7",'
...        b' "text_entities": [{"type": "plain", "text": "Hi "}, {"type": "hashtag", "text": "#Tag"}]}]}]}}')
>>> p = Path(tempfile.mkdtemp(), "result.json"); _ = p.write_bytes(doc)
>>> posts = export_posts(p, "tdesktop-json", None, min_bytes=0)
>>> posts.select("uid", "account_uid", "text", "hashtags", "post_url").row(0)
('telegram:7/1', 'telegram:channel7', 'Hi #Tag', ['tag'], 'https://t.me/c/7/1')
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from cib.errors import RecordError
from cib.schema import MEDIA_STRUCT
from loaders._common import canonical_url, media_item, parse_ts
from loaders._fast import (
    FAST_MIN_BYTES,
    epoch_ts,
    mapped_list,
    read_json_document,
    strict_str,
    text_columns,
    to_posts,
)

__all__ = ["export_posts"]

PLATFORM = "telegram"
MIN_BYTES = FAST_MIN_BYTES
_S, _I = pl.String(), pl.Int64()
MESSAGE = pl.Struct({
    "id": _I, "type": _S, "date_unixtime": _S, "from": _S, "from_id": _S, "forwarded_from": _S,
    "forwarded_from_id": _S, "saved_from": _S, "reply_to_message_id": _I, "photo": _S, "file": _S,
    "thumbnail": _S, "media_type": _S, "text_entities": pl.List(pl.Struct({"type": _S, "text": _S, "href": _S})),
})
CHAT = pl.Struct({"name": _S, "type": _S, "id": _I, "username": _S, "messages": pl.List(MESSAGE)})
SCHEMA: dict[str, pl.DataType] = {
    "name": _S, "type": _S, "id": _I, "username": _S, "messages": pl.List(MESSAGE),  # a single-chat export
    "left_chats": pl.Struct({"list": pl.List(pl.Struct({"id": _I}))}),
    "chats": pl.Struct({"list": pl.List(CHAT)}),
}
_CHAT_HEAD = re.compile(rb'\{\s*"name":\s*"(?:[^"\\]|\\.)*",\s*"type":\s*"[a-z_]*",\s*"id":\s*-?\d+,\s*"messages":\s*\[')


def export_posts(path: Path, fmt: str, tz: str | None, *, min_bytes: int | None = None) -> pl.DataFrame | None:
    """The posts of a Telegram Desktop full export, exactly as the per-record path maps them (`tz`: ``--tz``),
    or None when the file needs the per-record path; files under `min_bytes` (default `MIN_BYTES`) too."""
    if path.stat().st_size < (MIN_BYTES if min_bytes is None else min_bytes):
        return None
    data = path.read_bytes()
    if b"\\x" in data or not data.lstrip().startswith(b"{"):
        return None
    heads = len(_CHAT_HEAD.findall(data))
    doc = read_json_document(data, SCHEMA)
    del data
    if doc is None or doc.height != 1 or doc["left_chats"][0] is not None:
        return None
    single = doc["messages"][0] is not None
    if single and doc["chats"][0] is not None:  # both shapes in one document: the per-record path decides
        return None
    chats = doc.select("name", "type", "id", "username", "messages") if single else doc.select(
        pl.col("chats").struct.field("list")).explode("list").drop_nulls("list").unnest("list")
    chats = chats.filter(pl.col("messages").is_not_null())
    if heads != chats.height or chats["username"].null_count() != chats.height or chats["id"].null_count():
        return None
    frame = chats.select(pl.col("id").cast(pl.String).alias("chat_id"), pl.col("name").alias("chat_name"),
                         pl.col("type").alias("chat_type"), "messages").explode("messages")
    frame = frame.select("chat_id", "chat_name", "chat_type", pl.col("messages").is_null().alias("no_msg"),
                         pl.col("messages").struct.unnest())
    entities = pl.col("text_entities")
    ascii_peer = pl.col("from_id").str.contains(r"^[\x20-\x7e]*$") & pl.col("forwarded_from_id").str.contains(
        r"^[\x20-\x7e]*$").fill_null(True)
    if frame.select(
        pl.col("no_msg").any() | (pl.col("type") != "message").any() | pl.col("type").is_null().any()
        | pl.col("id").is_null().any() | pl.col("date_unixtime").is_null().any() | (pl.col("date_unixtime") == "").any()
        | (entities.list.len().fill_null(0) == 0).any()
        | entities.list.eval(pl.element().is_null() | pl.element().struct.field("text").is_null()).list.any().any()
        | (~ascii_peer.fill_null(True)).any()
    ).item():
        return None
    frame = frame.with_columns(_peer(pl.col("from_id")).alias("peer"), _peer(pl.col("forwarded_from_id")).alias("fwd"))
    channel = pl.concat_str(pl.lit("channel"), pl.col("chat_id"))
    frame = frame.with_columns(
        pl.when(pl.col("peer").is_null() & pl.col("chat_type").fill_null("None").str.contains("channel", literal=True))
        .then(channel).otherwise(pl.col("peer")).alias("account_id"))
    if frame.select(pl.col("account_id").is_null().any()).item():
        return None
    created = _created(frame.get_column("date_unixtime"), tz)
    if created is None:
        return None
    kind, text_of, href = (pl.element().struct.field(k) for k in ("type", "text", "href"))
    frame = frame.with_columns(
        created.alias("created_at"),
        entities.list.eval(text_of).list.join("").alias("body"),
        entities.list.eval(pl.when(kind == "link").then(text_of).when(
            (kind == "text_link") & href.is_not_null() & (href != "")).then(href)).list.drop_nulls().alias("links"),
        entities.list.eval(pl.when(kind == "hashtag").then(text_of.str.strip_chars_start("#"))).list.drop_nulls()
        .alias("tags"),
        entities.list.eval(pl.when(kind == "mention").then(text_of.str.strip_chars_start("@"))).list.drop_nulls()
        .alias("named"),
    )
    texts = text_columns(frame.get_column("body"))
    empty = pl.lit([], pl.List(pl.String))
    links = mapped_list(frame, "links", canonical_url).fill_null(empty)
    tags = mapped_list(frame, "tags", lambda t: t.casefold().lstrip("#")).fill_null(empty)
    named = mapped_list(frame, "named", lambda m: m.casefold().lstrip("@")).fill_null(empty)
    media = _media(frame, str(path.parent))
    fwd_name = pl.coalesce(pl.when(pl.col("forwarded_from") != "").then(pl.col("forwarded_from")),
                           pl.when(pl.col("saved_from") != "").then(pl.col("saved_from")))
    msg_id = pl.col("id").cast(pl.String)
    reply = pl.col("reply_to_message_id")
    frame = frame.with_columns(
        pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col("chat_id"), pl.lit("/"), msg_id).alias("uid"),
        pl.lit(PLATFORM).alias("platform"),
        pl.concat_str(pl.col("chat_id"), pl.lit("/"), msg_id).alias("post_id"),
        pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col("account_id")).alias("account_uid"),
        pl.lit(None, pl.String).alias("handle"),
        strict_str(pl.coalesce(pl.when(pl.col("from") != "").then(pl.col("from")), pl.when(
            pl.col("account_id").str.starts_with("channel")).then(pl.col("chat_name")))).alias("display_name"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("account_created_at"),
        pl.lit(None, pl.Int64).alias("followers"),
        pl.when(pl.col("body") != "").then(pl.col("body")).alias("text"),
        texts.get_column("text_norm"),
        pl.lit(None, pl.String).alias("lang"),
        pl.when(pl.col("links").list.len() > 0).then(links).otherwise(texts.get_column("urls")).alias("urls"),
        pl.when(pl.col("tags").list.len() > 0).then(tags).otherwise(texts.get_column("text_hashtags"))
        .alias("hashtags"),
        pl.when(pl.col("named").list.len() > 0).then(named).otherwise(texts.get_column("text_mentions"))
        .alias("mentions"),
        pl.lit(None, pl.String).alias("repost_of"),
        pl.when(pl.col("fwd").is_not_null()).then(pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col("fwd")))
        .when(fwd_name.is_not_null()).then(pl.concat_str(pl.lit(f"{PLATFORM}:name:"), fwd_name))
        .alias("repost_account_uid"),
        pl.when(reply.is_not_null() & (reply != 0)).then(pl.concat_str(
            pl.lit(f"{PLATFORM}:"), pl.col("chat_id"), pl.lit("/"), reply.cast(pl.String))).alias("reply_to"),
        pl.lit(None, pl.String).alias("quote_of"),
        media.alias("media"),
        pl.lit(None, pl.String).alias("sound_id"),
        pl.lit([], pl.List(pl.String)).alias("effect_ids"),
        pl.concat_str(pl.lit("https://t.me/c/"), pl.col("chat_id").str.strip_prefix("-100"), pl.lit("/"), msg_id)
        .alias("post_url"),
        pl.lit(fmt).alias("format"),
        pl.lit(str(path)).alias("source_file"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_record"),
    )
    return to_posts(frame)


def _peer(col: pl.Expr) -> pl.Expr:
    """`loaders.telegram._peer` of an ASCII string column: stripped, ``user<n>`` for digits, None when empty."""
    text = col.str.strip_chars()
    return pl.when(text.str.contains(r"^[0-9]+$")).then(pl.concat_str(pl.lit("user"), text)).when(
        text != "").then(text)


def _created(values: pl.Series, tz: str | None) -> pl.Series | None:
    """`parse_ts(date_unixtime, tz)`: whole seconds or milliseconds by expressions, anything else by `parse_ts`
    once per distinct value; None when one is rejected."""
    digits = values.str.contains(r"^[0-9]{9,13}$").fill_null(False)
    number = values.str.to_integer(strict=False)
    ts, ok = epoch_ts(pl.lit(number))
    fast = pl.select(pl.when(pl.lit(digits) & ok).then(ts)).to_series()
    missing = fast.is_null()
    if not missing.any():
        return fast
    try:
        lookup = {v: parse_ts(v, tz) for v in values.filter(missing).unique().to_list()}
    except RecordError:
        return None
    return fast.fill_null(values.replace_strict(lookup, default=None, return_dtype=pl.Datetime("us", "UTC")))


def _media(frame: pl.DataFrame, base: str) -> pl.Series:
    """Media entries of the messages that reference files (``photo``, ``file``, ``thumbnail``), built by the
    per-record path's `media_item` (which hashes the file) row by row; ``[]`` for the others."""
    from loaders.telegram import _kind

    refs = [pl.col(k).is_not_null() & (pl.col(k) != "") & ~pl.col(k).str.starts_with("(File")
            for k in ("photo", "file", "thumbnail")]
    rows = frame.with_row_index("_row").filter(pl.any_horizontal(refs)).select(
        "_row", "chat_id", "id", "photo", "file", "thumbnail", "media_type")
    found: list[list[Any]] = []
    for _row, chat_id, msg_id, photo, file, thumb, media_type in rows.iter_rows():
        items = []
        for key, kind, ref in (("photo", "photo", photo), ("file", media_type or "file", file),
                               ("thumbnail", "photo", thumb)):
            if isinstance(ref, str) and ref and not ref.startswith("(File"):
                item = media_item(PLATFORM, _kind(kind), f"{chat_id}/{msg_id}/{key}", base=Path(base), ref=ref)
                if item is not None:
                    items.append(item)
        found.append(items)
    table = rows.select("_row").with_columns(pl.Series("media", found, pl.List(MEDIA_STRUCT)))
    full = pl.DataFrame({"_row": pl.int_range(frame.height, eager=True, dtype=pl.UInt32)}).join(
        table, on="_row", how="left", maintain_order="left")
    return full.get_column("media").fill_null(pl.lit([], pl.List(MEDIA_STRUCT)))
