"""Telegram exports.

Formats (sniffed from content):

- ``tdesktop-json``: Telegram Desktop "Export chat history" ``result.json`` — a single chat (top-level
  ``name/type/id/messages``) or a full account export (``chats.list[].messages``). Streamed with ijson, so a
  multi-GB export never sits in memory (up to 64 MiB it is parsed at once with orjson). ``text`` may be a
  string or a list of entities; ``date_unixtime`` is used. Older exports carry only ``date``, the exporting
  machine's local time: ``--tz ZONE`` names that zone; without it the file loads as UTC with a loud warning,
  and the assumption is recorded in the workspace (``inputs.json``) and the takedown manifest. ``from_id``
  is ``user<n>``/``channel<n>``; older exports wrote a bare integer, read as ``user<n>`` (``0`` included).
  Photos and files beside the JSON are hashed. Older exporters wrote control characters as ``\\xNN``, which
  is not JSON; those escapes are rewritten on the fly.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import polars as pl

from cib.errors import LoaderError, RecordError
from cib.hookspecs import hookimpl
from cib.schema import RAW_NOTE, AccountRecord, PostRecord
from loaders._common import (
    ERR,
    FILE,
    FMT,
    REC,
    LoadOptions,
    head,
    load_document,
    media_item,
    post_record,
    req,
)
from loaders._read import WHOLE_DOCUMENT_BYTES, TooDeep, stream_items

__all__ = ["TelegramLoader"]

PLATFORM = "telegram"
_CHAT_STARTS: set[tuple[str, ...]] = {("chats", "list", "item"), ("left_chats", "list", "item")}
_MESSAGE_PATHS = {("messages", "item"), *((*c, "messages", "item") for c in _CHAT_STARTS)}
_CHAT_KEYS = ("id", "name", "type", "username")  # username: only when the export has it (issue 12)
_CHAT_SCALARS = {(*c, key) for c in ({()} | _CHAT_STARTS) for key in _CHAT_KEYS}
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")  # Telegram's public username rule


class TelegramLoader:
    """Loader for Telegram Desktop JSON exports."""

    platform: ClassVar[str] = PLATFORM
    formats: ClassVar[tuple[str, ...]] = ("tdesktop-json",)
    options: LoadOptions = LoadOptions()

    @staticmethod
    def profile_url(account_id: str, handle: str | None) -> str:
        if handle:
            return f"https://t.me/{handle.lstrip('@')}"
        number = re.sub(r"\D", "", account_id)
        if account_id.startswith("channel"):
            return f"https://t.me/c/{number}"
        return f"tg://openmessage?user_id={number}"

    def detect(self, path: Path) -> str | None:
        text = head(path).lstrip()
        if not text.startswith("{"):
            return None
        if re.search(r'"messages"\s*:\s*\[', text) and re.search(r'"type"\s*:\s*"(message|service)"', text):
            return "tdesktop-json"
        if re.search(r'"chats"\s*:\s*\{', text) and ('"personal_information"' in text or '"about"' in text):
            return "tdesktop-json"
        if re.search(r'"type"\s*:\s*"(personal_chat|private_channel|public_channel|private_group|'
                     r'public_supergroup|private_supergroup|saved_messages|bot_chat)"', text) and '"messages"' in text:
            return "tdesktop-json"
        return None

    def sniff(self, path: Path) -> bool:
        return self.detect(path) is not None

    def fast_posts(self, path: Path, fmt: str) -> pl.DataFrame | None:
        """The file's posts through the vectorised fast path (`loaders.telegram_fast`), or None when only the
        per-record path can guarantee the result."""
        from loaders.telegram_fast import export_posts

        return export_posts(path, fmt, self.options.tz)

    def iter_raw(self, path: Path) -> Iterator[Mapping[str, Any]]:
        tz = self.options.tz
        base = {FMT: "tdesktop-json", FILE: str(path), "base": str(path.parent), "tz": tz}
        for count, (msg, chat) in enumerate(_messages(path), start=1):
            raw: dict[str, Any] = {REC: count, **base, "value": msg, "chat": chat}
            if isinstance(msg, TooDeep):
                raw[ERR] = "message nested too deeply"
            elif tz is None and isinstance(msg, Mapping) and msg.get("type") == "message" \
                    and not msg.get("date_unixtime"):
                raw[RAW_NOTE] = _LOCAL_DATE_NOTE
            yield raw

    @staticmethod
    def map_record(raw: Mapping[str, Any]) -> PostRecord | AccountRecord:
        msg, chat = raw["value"], raw.get("chat") or {}
        if not isinstance(msg, Mapping):
            raise RecordError("message is not a JSON object")
        if msg.get("type") != "message":
            raise RecordError(f"service message ({msg.get('action', msg.get('type'))}), not a post")
        chat_id = str(chat.get("id", "unknown"))
        from_id = _peer(msg.get("from_id"))
        if from_id is None and "channel" in str(chat.get("type", "")):
            from_id = f"channel{chat_id}"
        if not from_id:
            raise RecordError("message has no from_id")
        pieces, links, tags, mentions = _text_parts(msg.get("text"), msg.get("text_entities"))
        text = "".join(pieces)
        fwd_id = _peer(msg.get("forwarded_from_id"))
        fwd_name = msg.get("forwarded_from") or msg.get("saved_from")
        fwd_uid = f"{PLATFORM}:{fwd_id}" if fwd_id else (f"{PLATFORM}:name:{fwd_name}" if fwd_name else None)
        base = Path(raw.get("base") or ".")
        msg_id = req(msg, "id")
        media = []
        for key, kind in (("photo", "photo"), ("file", msg.get("media_type") or "file"), ("thumbnail", "photo")):
            ref = msg.get(key)
            if isinstance(ref, str) and ref and not ref.startswith("(File"):  # confined to the export folder
                media.append(media_item(PLATFORM, _kind(kind), f"{chat_id}/{msg_id}/{key}", base=base, ref=ref))
        reply = msg.get("reply_to_message_id")
        # A channel's public username, when the export carries it, names the channel's own posts (issue 12).
        username = chat.get("username") if from_id == f"channel{chat_id}" else None
        username = username.lstrip("@") if isinstance(username, str) and _USERNAME.fullmatch(username.lstrip("@")) else None
        return post_record(
            raw, platform=PLATFORM, post_id=f"{chat_id}/{msg_id}", account_id=from_id,
            created_at=msg.get("date_unixtime") or req(msg, "date"), tz=raw.get("tz"), text=text or None,
            handle=username, display_name=msg.get("from") or (chat.get("name") if str(from_id).startswith("channel")
                                                           else None),
            urls=links or None, hashtags=tags or None, mentions=mentions or None,
            repost_account_uid=fwd_uid, reply_to=f"{PLATFORM}:{chat_id}/{reply}" if reply else None,
            media=media, post_url=f"https://t.me/{username}/{msg_id}" if username
            else f"https://t.me/c/{chat_id.removeprefix('-100')}/{msg_id}",
        )


_LOCAL_DATE_NOTE = ("telegram 'date' without 'date_unixtime' is the exporting machine's local time; read as UTC "
                    "(pass --tz ZONE to name that zone)")


def _peer(value: Any) -> str | None:
    """A Telegram peer id as the exporter writes it today (``user123``/``channel123``); older exports wrote a
    bare integer for a user.

    Examples
    --------
    >>> _peer(19), _peer(0), _peer("channel5"), _peer(None)
    ('user19', 'user0', 'channel5', None)
    """
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, int):
        return f"user{value}"
    if isinstance(value, float):
        raise RecordError(f"peer id {value!r} is a float")
    text = str(value).strip()
    return f"user{text}" if text.isdigit() else text or None


def _messages(path: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
    """``(message, chat)`` for every message of a single-chat or full export, whole or streamed."""
    if path.stat().st_size <= WHOLE_DOCUMENT_BYTES:
        data = _EscapeFixer(io.BytesIO(path.read_bytes())).read()
        doc = load_document(path, data)
        if not isinstance(doc, dict):
            raise LoaderError(str(path), None, "Telegram export is not a JSON object")
        chats: list[Any] = [doc] if "messages" in doc else []
        for key in ("chats", "left_chats"):
            listed = (doc.get(key) or {}).get("list") if isinstance(doc.get(key), dict) else None
            chats += listed if isinstance(listed, list) else []
        for one in chats:
            if not isinstance(one, dict) or not isinstance(one.get("messages"), list):
                continue
            info = {k: one[k] for k in _CHAT_KEYS if k in one}
            for msg in one["messages"]:
                yield msg, info
        return
    chat: dict[str, Any] = {}
    with open(path, "rb") as fh:
        for prefix, value in stream_items(path, _MESSAGE_PATHS, scalars=_CHAT_SCALARS, starts=_CHAT_STARTS,
                                          source=_EscapeFixer(fh)):  # type: ignore[arg-type]
            if prefix in _CHAT_STARTS:
                chat = {}
            elif prefix in _CHAT_SCALARS:
                chat[prefix[-1]] = value
            else:
                yield value, dict(chat)


def _kind(media_type: str) -> str:
    if "video" in media_type or media_type == "animation":
        return "video"
    if media_type in ("photo", "sticker"):
        return "photo"
    if "audio" in media_type or "voice" in media_type:
        return "audio"
    return "other"


def _text_parts(text: Any, entities: Any) -> tuple[list[str], list[str], list[str], list[str]]:
    """Plain pieces, link targets, hashtags and mentions of a message's ``text``/``text_entities``."""
    items = entities if isinstance(entities, list) and entities else (text if isinstance(text, list) else [text])
    pieces: list[str] = []
    links: list[str] = []
    tags: list[str] = []
    mentions: list[str] = []
    for item in items:
        if isinstance(item, str):
            pieces.append(item)
            continue
        if not isinstance(item, Mapping):
            continue
        value = str(item.get("text", ""))
        pieces.append(value)
        kind = item.get("type")
        if kind == "link":
            links.append(value)
        elif kind == "text_link" and item.get("href"):
            links.append(str(item["href"]))
        elif kind == "hashtag":
            tags.append(value.lstrip("#"))
        elif kind == "mention":
            mentions.append(value.lstrip("@"))
    return pieces, links, tags, mentions


class _EscapeFixer:
    r"""A binary reader that rewrites ``\xNN`` (invalid JSON) to ``\u00NN``, keeping escaped backslashes.

    Examples
    --------
    >>> import io
    >>> _EscapeFixer(io.BytesIO(rb'{"t": "a\x0Bb \\x41"}')).read()
    b'{"t": "a\\u000Bb \\\\x41"}'
    """

    _ESC = re.compile(rb"(?<!\\)((?:\\\\)*)\\x([0-9a-fA-F]{2})")

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._tail = b""

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes with read(0) to tell bytes from text
            return b""
        if size is None or size < 0:  # everything that is left, in one piece
            buf, self._tail = self._tail + self._raw.read(), b""
            return self._ESC.sub(rb"\1\\u00\2", buf) if b"\\x" in buf else buf  # no escape: no regex scan
        chunk = self._raw.read(size if size and size > 0 else -1)
        buf = self._tail + chunk
        if not chunk:  # end of file: flush everything
            self._tail = b""
            return self._ESC.sub(rb"\1\\u00\2", buf)
        cut = _safe_cut(buf)
        self._tail = buf[cut:]
        return self._ESC.sub(rb"\1\\u00\2", buf[:cut]) or (self.read(size) if self._tail else b"")


def _safe_cut(buf: bytes) -> int:
    """A split point with four backslash-free bytes before it, so no escape straddles the split."""
    pos = len(buf) - 8
    while pos >= 4:
        if b"\\" not in buf[pos - 4:pos]:
            return pos
        pos -= 1
    return 0


@hookimpl
def register_loaders() -> list[type]:
    return [TelegramLoader]
