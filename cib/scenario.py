"""Synthetic scenario generator: realistic exports of all four platforms with planted campaigns, hard
negatives and ground truth. Used by ``cib demo``, ``cib evaluate``, the tests and the benchmarks.

Planted campaigns (ground truth "coordinated"):

- ``bot_farm`` (X): young accounts with generated handles, created in a burst, retweeting the same targets
  seconds apart and pasting the same caption + link with emoji/prefix noise.
- ``slow_network`` (X): old, human-looking accounts that mostly post organically; on campaign items they post
  near-duplicate captions (typos, reordered hashtags, prefixes) and the same article (different utm tags)
  spread over ±45 minutes.
- ``forward_hub`` (Telegram): channels forwarding the same source posts minutes apart, with re-encoded copies
  of the same images (perceptual-hash matches).
- ``sound_farm`` (TikTok): accounts posting videos with one obscure sound, the same hashtag set and
  near-identical captions within minutes.
- ``multilingual_pages`` (Facebook + Telegram): pages and channels posting the same article (utm-tagged) with
  captions translated into Ukrainian, Russian, English, German and Swedish within half an hour.

Hard negatives (ground truth "organic"): breaking news shared by hundreds within minutes, viral retweets,
memes re-uploaded for days, copypasta, a TV-show hashtag storm, power users, and a syndicated outlet group
(large established pages that legitimately publish the same headlines together).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["Scenario", "generate"]

START = datetime(2026, 3, 2, tzinfo=UTC)
_SYL = ["ka", "lo", "mi", "ne", "so", "ta", "ri", "ve", "du", "pa", "zo", "be", "shi", "ny", "kro", "vil", "ma",
        "to", "en", "ar", "ul", "ost", "gra", "dem", "li", "fe", "ho", "ju", "cy", "wa"]
_FIRST = ["olena", "ivan", "anna", "max", "sofia", "dmytro", "erik", "lena", "petra", "jonas", "maria", "taras",
          "nina", "lukas", "ingrid", "oleh", "kate", "paul", "iryna", "sven"]
_LAST = ["koval", "berg", "muller", "shevchenko", "lind", "petrenko", "smith", "weber", "nilsson", "bondar"]
_CAMPAIGN = {
    "en": ["they are lying to you about {t}", "the truth about {t} they do not want you to see",
           "share before it is deleted {t} exposed", "western media hides what really happened with {t}",
           "why is nobody talking about {t} wake up", "sources confirm the scandal around {t} is real"],
    "uk": ["вони брешуть вам про {t}", "правда про {t} яку від вас приховують", "поширте поки не видалили {t}"],
    "ru": ["они врут вам про {t}", "правда о {t} которую от вас скрывают", "распространите пока не удалили {t}"],
    "de": ["sie lügen euch über {t} an", "die wahrheit über {t} die man euch verschweigt", "teilt es bevor es "
           "gelöscht wird {t}"],
    "sv": ["de ljuger för er om {t}", "sanningen om {t} som de döljer", "dela innan det raderas {t}"],
}
_TOPICS = ["the grain deal", "the energy prices", "the refugee camps", "the bridge attack", "the election fraud",
           "the vaccine shipments", "the nato exercises", "the power outages", "the bank collapse", "the army losses",
           "the border crossing", "the water supply", "the sanctions", "the mobilisation", "the peace talks"]
_NOISE_PREFIX = ["", "", "BREAKING: ", "🔥🔥 ", "!!! ", "Look: ", "RT this ", "⚡ "]


@dataclass
class Scenario:
    """What was written, for tests and for ``cib evaluate``."""

    root: Path
    seed: int
    truth: dict[str, list[str]] = field(default_factory=dict)
    negatives: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class _Gen:
    def __init__(self, seed: int, accounts: int, days: int, posts_per_account: float) -> None:
        self.r = random.Random(seed)
        self.seed, self.n, self.days, self.ppa = seed, accounts, days, posts_per_account
        self.words = sorted({"".join(self.r.choice(_SYL) for _ in range(self.r.randint(1, 3))) for _ in range(4000)})
        self.urls = [f"https://{self.r.choice(['news', 'daily', 'herald', 'post', 'times'])}{i % 40}.example/"
                     f"{self.r.choice(self.words)}-{i}" for i in range(6000)]
        self.tags = [self.r.choice(self.words) for _ in range(800)]
        self.posts: dict[str, list[dict[str, Any]]] = {"x": [], "telegram": [], "tiktok": [], "facebook": []}
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in self.posts}
        self.images: list[tuple[str, int, int]] = []  # (relative path, base pattern, variant)
        self.next_id = 10**18 + self.r.randrange(10**17)

    # -- helpers ------------------------------------------------------------------------------------------------
    def pid(self) -> str:
        self.next_id += self.r.randrange(1, 10**6)
        return str(self.next_id)

    def ts(self, lo: float = 0.0, hi: float | None = None) -> datetime:
        return START + timedelta(seconds=self.r.uniform(lo, hi if hi is not None else self.days * 86400))

    def sentence(self, lo: int = 6, hi: int = 18) -> str:
        return " ".join(self.r.choice(self.words) for _ in range(self.r.randint(lo, hi)))

    def zipf(self, seq: list[Any], s: float = 1.1) -> Any:
        idx = min(int(self.r.paretovariate(s)) - 1, len(seq) - 1)
        return seq[idx]

    def account(self, platform: str, *, generated: bool = False, created: datetime | None = None,
                followers: int | None = None, name: str | None = None) -> str:
        aid = self.pid() if platform in ("x", "tiktok") else str(self.r.randrange(10**9, 10**10))
        if generated:
            handle = f"{self.r.choice(_FIRST)}{self.r.randrange(10**7, 10**8)}"
        else:
            handle = f"{self.r.choice(_FIRST)}_{self.r.choice(_LAST)}{self.r.choice(['', str(self.r.randrange(99))])}"
        created = created or START - timedelta(days=self.r.uniform(200, 4000))
        self.accounts[platform][aid] = {"id": aid, "handle": handle, "name": name or handle.replace("_", " ").title(),
                                        "created": created,
                                        "followers": followers if followers is not None
                                        else int(self.r.lognormvariate(5, 1.5))}
        return aid

    def post(self, platform: str, aid: str, when: datetime, text: str, **extra: Any) -> dict[str, Any]:
        row = {"id": self.pid(), "aid": aid, "ts": when, "text": text, **extra}
        self.posts[platform].append(row)
        return row

    def caption_variant(self, text: str, tags: list[str]) -> str:
        words = text.split()
        if len(words) > 4 and self.r.random() < 0.5:  # a typo
            i = self.r.randrange(len(words))
            w = words[i]
            if len(w) > 3:
                j = self.r.randrange(1, len(w) - 1)
                words[i] = w[:j] + w[j + 1:]
        shuffled = tags[:]
        self.r.shuffle(shuffled)
        return self.r.choice(_NOISE_PREFIX) + " ".join(words) + " " + " ".join(f"#{t}" for t in shuffled)

    def utm(self, url: str) -> str:
        return f"{url}?utm_source={self.r.choice(['fb', 'tg', 'tw'])}{self.r.randrange(99)}&utm_medium=social"


def generate(root: Path | str, *, seed: int = 7, accounts: int = 400, days: int = 14,
             posts_per_account: float = 18.0) -> Scenario:
    """Write a scenario under `root` (x/, telegram/, tiktok/, facebook/, ground_truth.json)."""
    g = _Gen(seed, accounts, days, posts_per_account)
    root = Path(root)
    organic = {p: [g.account(p) for _ in range(accounts)] for p in g.posts}
    power = _organic(g, organic)
    negatives = _hard_negatives(g, organic)
    negatives["power_users"] = sorted(_uid("x", a) for a in power)
    truth = {
        "bot_farm": _bot_farm(g),
        "slow_network": _slow_network(g),
        "forward_hub": _forward_hub(g, organic["telegram"]),
        "sound_farm": _sound_farm(g),
        "multilingual_pages": _multilingual(g),
    }
    from cib.scenario_writers import write_all

    counts = write_all(g, root)
    scenario = Scenario(root=root, seed=seed, truth=truth, negatives=negatives, counts=counts)
    (root / "ground_truth.json").write_text(json.dumps(
        {"seed": seed, "campaigns": truth, "hard_negatives": negatives, "counts": counts,
         "coordinated": sorted({u for members in truth.values() for u in members})}, indent=1, sort_keys=True), "utf-8")
    return scenario


def _uid(platform: str, aid: str) -> str:
    return f"{platform}:{aid}" if platform != "telegram" else f"telegram:channel{aid}"


def _organic(g: _Gen, organic: dict[str, list[str]]) -> set[str]:
    power = set(g.r.sample(organic["x"], max(1, len(organic["x"]) // 50)))
    originals = [g.post("x", g.r.choice(organic["x"]), g.ts(), g.sentence()) for _ in range(200)]
    sounds = [g.pid() for _ in range(3000)]
    for platform, ids in organic.items():
        for aid in ids:
            n = int(g.r.lognormvariate(0, 0.8) * g.ppa) + 1
            if aid in power:
                n *= 12
            for _ in range(n):
                when = g.ts()
                text = g.sentence()
                extra: dict[str, Any] = {}
                if g.r.random() < 0.3:
                    extra["url"] = g.zipf(g.urls, 0.9)
                if g.r.random() < 0.25:
                    text += " " + " ".join(f"#{g.zipf(g.tags, 1.0)}" for _ in range(g.r.randint(1, 4)))
                if platform == "x" and g.r.random() < 0.15:
                    orig = g.zipf(originals, 1.0)
                    extra = {"retweet": orig}
                    text = ""
                if platform == "tiktok":
                    extra["sound"] = g.zipf(sounds, 1.05)
                g.post(platform, aid, when, text, **extra)
    return power


def _hard_negatives(g: _Gen, organic: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    news = []
    for e in range(6):  # breaking news: hundreds share one URL within 45 minutes, across platforms
        url, t0 = g.urls[3000 + e], g.ts(86400, (g.days - 1) * 86400).timestamp()
        for platform in ("x", "facebook", "telegram"):
            for aid in g.r.sample(organic[platform], min(len(organic[platform]), g.r.randint(60, 150))):
                g.post(platform, aid, datetime.fromtimestamp(t0 + g.r.expovariate(1 / 600), UTC),
                       g.r.choice(["BREAKING", "wow", "unbelievable", "read this", ""]) + " " + g.sentence(3, 9),
                       url=url)
                news.append(_uid(platform, aid))
    out["breaking_news"] = sorted(set(news))
    viral = []
    for _ in range(3):  # viral retweets
        orig = g.post("x", g.r.choice(organic["x"]), g.ts(0, 86400 * (g.days - 2)), g.sentence())
        for aid in g.r.sample(organic["x"], min(len(organic["x"]), 250)):
            g.post("x", aid, orig["ts"] + timedelta(seconds=g.r.expovariate(1 / 3000)), "", retweet=orig)
            viral.append(_uid("x", aid))
    out["viral_retweets"] = sorted(set(viral))
    memes = []
    for m in range(3):  # memes re-uploaded for days (re-encoded copies)
        for aid in g.r.sample(organic["telegram"], min(len(organic["telegram"]), 60)):
            path = f"photos/meme_{m}_{aid}.jpg"
            g.images.append((path, 1000 + m, g.r.randrange(4)))
            g.post("telegram", aid, g.ts(), g.sentence(2, 6), photo=path)
            memes.append(_uid("telegram", aid))
    out["memes"] = sorted(set(memes))
    pasta = g.sentence(14, 20)
    copy = []
    for aid in g.r.sample(organic["x"], min(len(organic["x"]), 150)):  # copypasta over a day
        g.post("x", aid, g.ts(86400 * 3, 86400 * 4), g.caption_variant(pasta, []))
        copy.append(_uid("x", aid))
    out["copypasta"] = sorted(set(copy))
    storm = []
    tags = " ".join(f"#{t}" for t in ("eurovision", "final", "douzepoints"))
    for aid in g.r.sample(organic["tiktok"], min(len(organic["tiktok"]), 200)):  # TV hashtag storm
        g.post("tiktok", aid, g.ts(86400 * 5, 86400 * 5 + 7200), g.sentence(2, 8) + " " + tags, sound=g.pid())
        storm.append(_uid("tiktok", aid))
    out["hashtag_storm"] = sorted(set(storm))
    outlets = [g.account("facebook", followers=g.r.randrange(300_000, 2_000_000), name=f"Regional Herald {i}")
               for i in range(5)]
    for _ in range(30):  # syndicated outlets: same headline + link within minutes, every day
        url, head, t0 = g.urls[4000 + g.r.randrange(1000)], g.sentence(8, 12), g.ts().timestamp()
        for aid in outlets:
            g.post("facebook", aid, datetime.fromtimestamp(t0 + g.r.uniform(0, 300), UTC), head, url=url)
    out["syndicated_outlets"] = sorted(_uid("facebook", a) for a in outlets)
    return out


def _campaign_text(g: _Gen, lang: str = "en") -> tuple[str, list[str]]:
    topic = g.r.choice(_TOPICS)
    text = g.r.choice(_CAMPAIGN[lang]).format(t=topic) + " " + g.sentence(3, 6)
    return text, [g.r.choice(g.tags) for _ in range(3)]


def _bot_farm(g: _Gen) -> list[str]:
    birth = START - timedelta(days=60)
    bots = [g.account("x", generated=True, created=birth + timedelta(hours=g.r.uniform(0, 72)),
                      followers=g.r.randrange(0, 40)) for _ in range(40)]
    boss = g.account("x", followers=12_000)
    for _ in range(25):
        target = g.post("x", boss, g.ts(0, (g.days - 1) * 86400), g.sentence())
        for aid in bots:
            if g.r.random() < 0.75:
                g.post("x", aid, target["ts"] + timedelta(seconds=g.r.uniform(5, 300)), "", retweet=target)
    for _ in range(10):
        text, tags = _campaign_text(g)
        url, t0 = g.utm(g.urls[5000 + g.r.randrange(900)]), g.ts().timestamp()
        for aid in bots:
            if g.r.random() < 0.7:
                g.post("x", aid, datetime.fromtimestamp(t0 + g.r.uniform(0, 600), UTC), g.caption_variant(text, tags),
                       url=url)
    for aid in bots:
        for _ in range(g.r.randint(0, 4)):
            g.post("x", aid, g.ts(), g.sentence())
    return sorted(_uid("x", a) for a in bots)


def _slow_network(g: _Gen) -> list[str]:
    members = [g.account("x") for _ in range(25)]
    for aid in members:
        for _ in range(g.r.randint(15, 35)):
            g.post("x", aid, g.ts(), g.sentence(), **({"url": g.zipf(g.urls, 0.9)} if g.r.random() < 0.3 else {}))
    for _ in range(15):
        text, tags = _campaign_text(g)
        url, t0 = g.urls[5000 + g.r.randrange(900)], g.ts(3600, (g.days * 86400) - 3600).timestamp()
        for aid in members:
            if g.r.random() < 0.6:
                g.post("x", aid, datetime.fromtimestamp(t0 + g.r.uniform(-2700, 2700), UTC),
                       g.caption_variant(text, tags), url=g.utm(url))
    return sorted(_uid("x", a) for a in members)


def _forward_hub(g: _Gen, organic_channels: list[str]) -> list[str]:
    sources = [g.account("telegram", name=f"Source Channel {i}") for i in range(3)]
    hub = [g.account("telegram", created=START - timedelta(days=g.r.uniform(20, 25))) for _ in range(30)]
    for k in range(20):
        src = g.r.choice(sources)
        text = _campaign_text(g, g.r.choice(["uk", "ru"]))[0]
        photo = k < 6
        original = g.post("telegram", src, g.ts(0, (g.days - 1) * 86400), text)
        for aid in hub:
            if g.r.random() < 0.7:
                extra: dict[str, Any] = {"forwarded_from": g.accounts["telegram"][src]["name"]}
                if photo:
                    path = f"photos/hub_{k}_{aid}.jpg"
                    g.images.append((path, k, g.r.randrange(4)))
                    extra["photo"] = path
                g.post("telegram", aid, original["ts"] + timedelta(seconds=g.r.uniform(60, 600)), text, **extra)
    for src in sources:  # organic channels forward the popular sources now and then: not coordination
        for aid in g.r.sample(organic_channels, min(len(organic_channels), 40)):
            g.post("telegram", aid, g.ts(), g.sentence(), forwarded_from=g.accounts["telegram"][src]["name"])
    return sorted(_uid("telegram", a) for a in hub + sources)  # the sources run the hub


def _sound_farm(g: _Gen) -> list[str]:
    birth = START - timedelta(days=30)
    farm = [g.account("tiktok", generated=True, created=birth + timedelta(hours=g.r.uniform(0, 96)),
                      followers=g.r.randrange(0, 200)) for _ in range(30)]
    sound = g.pid()
    for _ in range(15):
        text, tags = _campaign_text(g)
        t0 = g.ts().timestamp()
        for aid in farm:
            if g.r.random() < 0.7:
                g.post("tiktok", aid, datetime.fromtimestamp(t0 + g.r.uniform(0, 1200), UTC),
                       g.caption_variant(text, tags), sound=sound)
    return sorted(_uid("tiktok", a) for a in farm)


def _multilingual(g: _Gen) -> list[str]:
    langs = list(_CAMPAIGN)
    pages = [(g.account("facebook", name=f"{g.r.choice(_LAST).title()} Today"), langs[i % 5]) for i in range(20)]
    chans = [(g.account("telegram"), langs[i % 5]) for i in range(8)]
    for _ in range(12):
        url, topic, t0 = g.urls[5900 + g.r.randrange(100)], g.r.randrange(3), g.ts().timestamp()
        for platform, members in (("facebook", pages), ("telegram", chans)):
            for aid, lang in members:
                if g.r.random() < 0.75:
                    template = _CAMPAIGN[lang][topic % len(_CAMPAIGN[lang])]
                    g.post(platform, aid, datetime.fromtimestamp(t0 + g.r.uniform(0, 1800), UTC),
                           template.format(t=g.r.choice(_TOPICS)), url=g.utm(url))
    return sorted([_uid("facebook", a) for a, _ in pages] + [_uid("telegram", a) for a, _ in chans])


def _csv_writer(path: Path, header: list[str]) -> tuple[Any, Any]:
    fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by the caller
    writer = csv.writer(fh)
    writer.writerow(header)
    return fh, writer
