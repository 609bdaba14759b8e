"""Untrusted text made safe for terminals, spreadsheets and link targets.

Every caption, handle, bio and file path in an export is attacker-controlled. This module is the one place that
decides how such text is shown: control characters (C0, C1, DEL) and bidirectional overrides are escaped as
visible ``\\xNN`` / ``\\u202e`` sequences so they cannot recolour a terminal, open a hyperlink (OSC 8) or reverse the
display order; rich markup is never interpreted (callers print :func:`rich_text` objects, not markup strings);
spreadsheet formulas are neutralised with a leading apostrophe; only http(s) URLs are offered as links.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["terminal_safe", "rich_text", "neutralise_cell", "safe_http_url", "json_display_safe", "FORMULA_PREFIXES"]

# C0 controls except none (tab and newline would break a table cell too), DEL, C1 controls, and the Unicode
# bidirectional formatting characters (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI, LRM, RLM, ALM).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# What json.dumps(ensure_ascii=False) leaves raw but a terminal or editor would act on (it escapes C0 itself).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029]")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV-injection list


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: Any) -> str:
    r"""Return ``value`` as text with every control and bidi-override character shown as an escape.

    >>> terminal_safe("evil\x1b[31mred\u202eabc")
    'evil\\x1b[31mred\\u202eabc'
    >>> terminal_safe(None)
    ''
    """
    if value is None:
        return ""
    return _UNSAFE.sub(_escape, str(value))


def rich_text(value: Any) -> Any:
    """A ``rich.text.Text`` of :func:`terminal_safe` text: printed literally, ``[link=…]`` markup is not parsed.

    >>> rich_text("[link=https://x]y[/link]").plain
    '[link=https://x]y[/link]'
    """
    from rich.text import Text

    return Text(terminal_safe(value))


def neutralise_cell(value: Any) -> str:
    """Neutralise a cell that a spreadsheet would execute (``=``, ``+``, ``-``, ``@``, tab, CR…) with a quote.

    >>> neutralise_cell('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_cell(-3)
    '-3'
    >>> neutralise_cell(None)
    ''
    """
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_http_url(url: Any) -> str | None:
    """Return ``url`` percent-encoded if it is an absolute http(s) URL with a host, else ``None``.

    >>> safe_http_url('https://ex.com/a b<"c>')
    'https://ex.com/a%20b%3C%22c%3E'
    >>> safe_http_url("javascript:alert(1)") is None
    True
    """
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    safe = "/%:@!$&'()*+,;=-._~"
    return urlunsplit((parts.scheme.lower(), parts.netloc, quote(parts.path, safe=safe),
                       quote(parts.query, safe=safe + "?"), quote(parts.fragment, safe=safe + "?")))


def json_display_safe(text: str) -> str:
    r"""Escape DEL, C1 and bidi characters in `text` (output of ``json.dumps``) as ``\uXXXX``: the JSON parses to
    exactly the same data, but a viewer shows the characters instead of obeying them.

    >>> import json
    >>> out = json_display_safe(json.dumps({"handle": "abc\u202eexe"}, ensure_ascii=False))
    >>> out
    '{"handle": "abc\\u202eexe"}'
    >>> json.loads(out)["handle"] == "abc\u202eexe"
    True
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
