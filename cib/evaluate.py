"""Precision / recall / F1 of flagged accounts against a scenario's ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["evaluate"]


def evaluate(clusters: pl.DataFrame, members: pl.DataFrame, truth_path: Path) -> dict[str, Any]:
    """Compare the accounts of flagged clusters with ``ground_truth.json``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "g.json").write_text('{"coordinated": ["x:1", "x:2"], "campaigns": {}}')
    >>> c = pl.DataFrame({"cluster_id": ["c"], "flagged": [True]})
    >>> m = pl.DataFrame({"cluster_id": ["c", "c"], "account_uid": ["x:1", "x:3"]})
    >>> evaluate(c, m, d / "g.json")["precision"]
    0.5
    """
    truth = json.loads(truth_path.read_text("utf-8"))
    coordinated = set(truth["coordinated"])
    flagged = set(members.join(clusters.filter(pl.col("flagged")).select("cluster_id"), on="cluster_id")
                  ["account_uid"].to_list())
    tp = len(flagged & coordinated)
    precision = tp / len(flagged) if flagged else 1.0
    recall = tp / len(coordinated) if coordinated else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    negatives = truth.get("hard_negatives", {})
    return {
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "flagged": len(flagged), "coordinated": len(coordinated), "true_positives": tp,
        "campaign_recall": {name: round(len(set(uids) & flagged) / len(uids), 4)
                            for name, uids in sorted(truth.get("campaigns", {}).items()) if uids},
        "hard_negatives_flagged": {name: len(set(uids) & flagged) for name, uids in sorted(negatives.items())},
    }
