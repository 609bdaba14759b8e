"""ThreatExchange / HMA media signals for the media of flagged accounts (``cib export takedown --media-signals``).

Images contribute their stored PDQ (already quality-gated at load). Videos are re-hashed from the file the
load recorded (inside its export folder), in vpdq-compatible mode so that HMA's own vPDQ hashes of the same
upload match, and only when the file still has the sha256 recorded at load; the others are counted as
skipped, never silently dropped.

Examples
--------
>>> import polars as pl
>>> media = pl.DataFrame({"account_uid": ["x:1"], "kind": ["photo"], "sha256": ["ab"], "pdq": ["f" * 64],
...                       "path": [None]})
>>> media_signal_lines(media, {"x:1"})
(['pdq ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'], 0)
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cib.mediahash import MediaHasher, MediaRefused, threatexchange_lines

__all__ = ["media_signal_lines", "write_media_signals"]


def media_signal_lines(media: pl.DataFrame, accounts: set[str]) -> tuple[list[str], int]:
    """Signal lines (sorted, distinct) for media posted by `accounts`, and the number of videos skipped
    because their file is gone or changed since the load."""
    mine = (media.filter(pl.col("account_uid").is_in(sorted(accounts)) & pl.col("sha256").is_not_null())
            .unique("sha256").sort("sha256"))
    lines: set[str] = set()
    skipped = 0
    hasher = MediaHasher(vpdq_compatible=True)
    for row in mine.iter_rows(named=True):
        if row["kind"] == "video":
            try:
                hashed = hasher.hash_file(Path(row["path"])) if row["path"] else None
            except MediaRefused:
                hashed = None
            if hashed is None or hashed.sha256 != row["sha256"] or hashed.kind != "video":
                skipped += 1
                continue
            lines.update(threatexchange_lines(hashed))
        elif row["pdq"]:
            lines.add(f"pdq {row['pdq']}")
    return sorted(lines), skipped


def write_media_signals(media: pl.DataFrame, accounts: set[str], output: Path) -> tuple[int, int]:
    """Write the signal lines to `output`; return (lines written, videos skipped)."""
    lines, skipped = media_signal_lines(media, accounts)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    tmp.replace(output)
    return len(lines), skipped
