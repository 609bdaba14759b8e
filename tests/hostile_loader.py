"""A loader whose one record carries a value only the store can reject (shared by the ingest tests)."""

from __future__ import annotations

from pathlib import Path

from loaders import XLoader
from loaders._common import post_record


class SurrogateLoader(XLoader):
    """Yields a caption with a lone surrogate as record 2: only the store can tell it cannot be written."""

    def iter_raw(self, path: Path):  # noqa: ANN201
        for n, text in enumerate(["fine", "bad \ud800 text", "also fine"], start=1):
            yield {"_cib_record": n, "_cib_format": "api-v2-jsonl", "_cib_file": str(path), "value": text}

    @staticmethod
    def map_record(raw):  # noqa: ANN001, ANN205
        return post_record(raw, platform="x", post_id=f"{Path(raw['_cib_file']).stem}-{raw['_cib_record']}",
                           account_id="1", created_at="2021-05-18T19:24:56Z", text=raw["value"])
