"""Detection signals: pure functions from POSTS (LazyFrame) to account–account evidence.

- `objects.actions`: every post becomes co-action "actions" on shareable objects (URL, repost target, caption
  fingerprint, near-duplicate caption group, media fingerprint, perceptual media group, hashtag set, sound).
- `cotiming.copairs`: sorted-neighbourhood pairing of actions on the same object within a time window.
- `cotiming.coded_edges`: aggregate into account pairs, normalised against activity and object popularity.
"""

from cib.signals.captions import near_duplicate_groups
from cib.signals.cotiming import Coded, coded_edges, coded_pairs, copairs, decode_evidence, encode, pair_edges
from cib.signals.media import perceptual_groups
from cib.signals.objects import SIGNALS, actions

__all__ = ["SIGNALS", "Coded", "actions", "coded_edges", "coded_pairs", "copairs", "decode_evidence", "encode",
           "near_duplicate_groups", "pair_edges", "perceptual_groups"]
