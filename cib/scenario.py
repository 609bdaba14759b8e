"""Synthetic scenario generator: realistic exports of all four platforms with planted campaigns, hard
negatives and ground truth. Used by ``cib demo``, ``cib evaluate``, the tests and the benchmarks.

Every seed draws its own world (`Knobs`, written to ``ground_truth.json``): campaign sizes, timing jitter from
seconds to an hour, camouflage share 0–80 %, caption variation, account ages, handle styles, and the
intensity of every hard negative. Settings are chosen on seeds 1–20 and reported on held-out seeds 100–119.

The organic population is made to be hard: accounts post on their own daily rhythm; handles look like real
ones (``maria_2001``, ``john1985``, ``olena.k88``); niche communities share links from the same few sites and
the same hashtag sets; most accounts share mainstream news links.

Planted campaigns (ground truth "coordinated"):

- ``bot_farm`` (X): retweeting the same targets and pasting the same caption + link, seconds to an hour apart.
- ``slow_network`` (X): old, human-looking accounts posting organically; on campaign items near-duplicate
  captions and the same article (utm-tagged) spread over up to an hour.
- ``forward_hub`` (Telegram): channels forwarding the same source posts, with re-encoded copies of images.
- ``sound_farm`` (TikTok): a slow farm — campaign videos on a few rare sounds jittered up to an hour, varied
  captions, camouflage videos on trending sounds.
- ``multilingual_pages`` (Facebook + Telegram): the same article with captions in five languages.

Hard negatives (ground truth "organic"): breaking news shared by hundreds within minutes, news junkies (heavy
accounts that share most breaking news within minutes and repost the same viral posts), viral retweets,
memes re-uploaded for days, copypasta, a TV-show hashtag storm, power users, niche communities, and
syndicated outlets (mid-size to large established pages of one owner publishing the same wire copy within
minutes, many below 50k followers).
"""

from __future__ import annotations

import csv
import json
import math
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
    knobs: dict[str, Any] = field(default_factory=dict)


def _knobs(r: random.Random) -> dict[str, Any]:
    """The randomised world of one seed: campaign and hard-negative parameters."""
    def jitter() -> float:  # campaign timing spread, log-uniform from 30 s to one hour
        return round(math.exp(r.uniform(math.log(30), math.log(3600))), 1)

    return {
        "jitter_s": {c: jitter() for c in ("bot_farm", "slow_network", "forward_hub", "sound_farm", "multilingual")},
        "camouflage": {c: round(r.uniform(0.0, 0.8), 3) for c in ("bot_farm", "slow_network", "forward_hub",
                                                                   "sound_farm", "multilingual")},
        "typo": round(r.uniform(0.2, 0.9), 3), "participation": round(r.uniform(0.6, 0.85), 3),
        "bot_handles_generated": r.random() < 0.5, "bot_created_in_burst": r.random() < 0.6,
        "sizes": {"bot_farm": r.randint(20, 40), "slow_network": r.randint(15, 25), "forward_hub": r.randint(18, 30),
                  "sound_farm": r.randint(20, 35), "multilingual": r.randint(12, 20)},
        "sound_farm_sounds": r.randint(2, 4), "junkies": r.randint(10, 25), "junkie_share": round(r.uniform(0.6, 0.95), 3),
        "junkie_activity": round(r.uniform(3.0, 8.0), 2), "news_events": r.randint(4, 10),
        "outlets": r.randint(4, 8), "outlet_spread_s": r.randint(30, 900), "communities": r.randint(3, 6),
        "community_share": round(r.uniform(0.1, 0.35), 3), "community_delay_h": round(r.uniform(2.0, 24.0), 1),
    }


class _Gen:
    def __init__(self, seed: int, accounts: int, days: int, posts_per_account: float) -> None:
        self.r = random.Random(seed)
        self.seed, self.n, self.days, self.ppa = seed, accounts, days, posts_per_account
        self.k = _knobs(self.r)
        self.words = sorted({"".join(self.r.choice(_SYL) for _ in range(self.r.randint(1, 3))) for _ in range(4000)})
        self.urls = [f"https://{self.r.choice(['news', 'daily', 'herald', 'post', 'times'])}{i % 40}.example/"
                     f"{self.r.choice(self.words)}-{i}" for i in range(6000)]
        self.tags = [self.r.choice(self.words) for _ in range(800)]
        self.posts: dict[str, list[dict[str, Any]]] = {"x": [], "telegram": [], "tiktok": [], "facebook": []}
        self.accounts: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in self.posts}
        self.images: list[tuple[str, int, int]] = []  # (relative path, base pattern, variant)
        self.next_id = 10**18 + self.r.randrange(10**17)
        self.peak: dict[str, float] = {}  # account -> peak hour of its daily rhythm

    # -- helpers ------------------------------------------------------------------------------------------------
    def pid(self) -> str:
        self.next_id += self.r.randrange(1, 10**6)
        return str(self.next_id)

    def ts(self, lo: float = 0.0, hi: float | None = None) -> datetime:
        return START + timedelta(seconds=self.r.uniform(lo, hi if hi is not None else self.days * 86400))

    def daily(self, aid: str) -> datetime:
        """A time on the account's own daily rhythm (peak hour ± 3 h, any day)."""
        hour = (self.peak.setdefault(aid, self.r.uniform(0, 24)) + self.r.gauss(0, 3)) % 24
        return START + timedelta(days=self.r.randrange(self.days), hours=hour)

    def sentence(self, lo: int = 6, hi: int = 18) -> str:
        return " ".join(self.r.choice(self.words) for _ in range(self.r.randint(lo, hi)))

    def zipf(self, seq: list[Any], s: float = 1.1) -> Any:
        idx = min(int(self.r.paretovariate(s)) - 1, len(seq) - 1)
        return seq[idx]

    def handle(self, generated: bool = False) -> str:
        first, last = self.r.choice(_FIRST), self.r.choice(_LAST)
        if generated:
            return f"{first}{self.r.randrange(10**7, 10**8)}"
        year, two = self.r.randint(1962, 2008), self.r.randrange(10, 100)
        return self.r.choice([f"{first}_{last}", f"{first}{year}", f"{first}_{year}", f"{first}.{last}{two}",
                              f"{first}{last[0]}{two}", f"{first}_{last}_{year % 100:02d}", f"the{first}{last}",
                              f"{first}.{last}"])

    def account(self, platform: str, *, generated: bool = False, created: datetime | None = None,
                followers: int | None = None, name: str | None = None) -> str:
        aid = self.pid() if platform in ("x", "tiktok") else str(self.r.randrange(10**9, 10**10))
        handle = self.handle(generated)
        created = created or START - timedelta(days=self.r.uniform(30, 4000))
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
        if len(words) > 4 and self.r.random() < self.k["typo"]:  # a typo
            i = self.r.randrange(len(words))
            w = words[i]
            if len(w) > 3:
                j = self.r.randrange(1, len(w) - 1)
                words[i] = w[:j] + w[j + 1:]
        if len(words) > 6 and self.r.random() < self.k["typo"] / 2:  # a word dropped
            del words[self.r.randrange(len(words))]
        shuffled = tags[:]
        self.r.shuffle(shuffled)
        return self.r.choice(_NOISE_PREFIX) + " ".join(words) + " " + " ".join(f"#{t}" for t in shuffled)

    def utm(self, url: str) -> str:
        return f"{url}?utm_source={self.r.choice(['fb', 'tg', 'tw'])}{self.r.randrange(99)}&utm_medium=social"

    def at(self, t0: float, campaign: str) -> datetime:
        """A campaign post time: `t0` plus this seed's jitter for `campaign`."""
        return datetime.fromtimestamp(t0 + self.r.uniform(0, self.k["jitter_s"][campaign]), UTC)

    def camouflage(self, platform: str, aid: str, campaign_posts: int, campaign: str, **extra: Any) -> None:
        """Organic-looking posts so that `campaign`'s share of this account's posts is 1 - camouflage."""
        c = self.k["camouflage"][campaign]
        for _ in range(int(round(campaign_posts * c / (1 - c))) + self.r.randint(0, 2)):
            more = {"url": self.zipf(self.urls, 0.9)} if self.r.random() < 0.25 else {}
            if platform == "tiktok":
                more["sound"] = self.zipf(self.sounds, 1.05)
            self.post(platform, aid, self.daily(aid), self.sentence(), **more, **extra)

    sounds: list[str]


def generate(root: Path | str, *, seed: int = 7, accounts: int = 300, days: int = 14,
             posts_per_account: float = 18.0) -> Scenario:
    """Write a scenario under `root` (x/, telegram/, tiktok/, facebook/, ground_truth.json)."""
    from cib.scenario_world import hard_negatives, organic_population

    g = _Gen(seed, accounts, days, posts_per_account)
    root = Path(root)
    organic = {p: [g.account(p) for _ in range(accounts)] for p in g.posts}
    negatives = organic_population(g, organic)
    negatives.update(hard_negatives(g, organic))
    truth = {
        "bot_farm": _bot_farm(g),
        "slow_network": _slow_network(g),
        "forward_hub": _forward_hub(g, organic["telegram"]),
        "sound_farm": _sound_farm(g),
        "multilingual_pages": _multilingual(g),
    }
    from cib.scenario_writers import write_all

    counts = write_all(g, root)
    scenario = Scenario(root=root, seed=seed, truth=truth, negatives=negatives, counts=counts, knobs=g.k)
    (root / "ground_truth.json").write_text(json.dumps(
        {"seed": seed, "campaigns": truth, "hard_negatives": negatives, "counts": counts, "knobs": g.k,
         "coordinated": sorted({u for members in truth.values() for u in members})}, indent=1, sort_keys=True), "utf-8")
    return scenario


def _uid(platform: str, aid: str) -> str:
    return f"{platform}:{aid}" if platform != "telegram" else f"telegram:channel{aid}"


def _campaign_text(g: _Gen, lang: str = "en") -> tuple[str, list[str]]:
    topic = g.r.choice(_TOPICS)
    text = g.r.choice(_CAMPAIGN[lang]).format(t=topic) + " " + g.sentence(3, 6)
    return text, [g.r.choice(g.tags) for _ in range(3)]


def _members(g: _Gen, platform: str, campaign: str, *, young: bool = False, generated: bool = False,
             followers: tuple[int, int] = (0, 400)) -> list[str]:
    """Campaign accounts: created in a burst (`young`) or aged like anyone else."""
    birth = START - timedelta(days=g.r.uniform(20, 90))
    return [g.account(platform, generated=generated,
                      created=birth + timedelta(hours=g.r.uniform(0, 20)) if young else None,
                      followers=g.r.randrange(*followers)) for _ in range(g.k["sizes"][campaign])]


def _bot_farm(g: _Gen) -> list[str]:
    bots = _members(g, "x", "bot_farm", young=g.k["bot_created_in_burst"], generated=g.k["bot_handles_generated"])
    boss = g.account("x", followers=12_000)
    count = dict.fromkeys(bots, 0)
    for _ in range(g.r.randint(12, 25)):
        target = g.post("x", boss, g.ts(0, (g.days - 1) * 86400), g.sentence())
        for aid in bots:
            if g.r.random() < g.k["participation"]:
                g.post("x", aid, g.at(target["ts"].timestamp() + 5, "bot_farm"), "", retweet=target)
                count[aid] += 1
    for _ in range(g.r.randint(6, 12)):
        text, tags = _campaign_text(g)
        url, t0 = g.utm(g.urls[5000 + g.r.randrange(900)]), g.ts().timestamp()
        for aid in bots:
            if g.r.random() < g.k["participation"]:
                g.post("x", aid, g.at(t0, "bot_farm"), g.caption_variant(text, tags), url=url)
                count[aid] += 1
    for aid in bots:
        g.camouflage("x", aid, count[aid], "bot_farm")
    return sorted(_uid("x", a) for a in bots)


def _slow_network(g: _Gen) -> list[str]:
    members = _members(g, "x", "slow_network", followers=(50, 3000))
    count = dict.fromkeys(members, 0)
    for _ in range(g.r.randint(12, 20)):
        text, tags = _campaign_text(g)
        url, t0 = g.urls[5000 + g.r.randrange(900)], g.ts(3600, (g.days * 86400) - 3600).timestamp()
        for aid in members:
            if g.r.random() < g.k["participation"]:
                g.post("x", aid, g.at(t0, "slow_network"), g.caption_variant(text, tags), url=g.utm(url))
                count[aid] += 1
    for aid in members:
        g.camouflage("x", aid, count[aid], "slow_network")
    return sorted(_uid("x", a) for a in members)


def _forward_hub(g: _Gen, organic_channels: list[str]) -> list[str]:
    sources = [g.account("telegram", name=f"Source Channel {i}") for i in range(3)]
    hub = _members(g, "telegram", "forward_hub", young=True)
    count = dict.fromkeys(hub, 0)
    for k in range(g.r.randint(14, 22)):
        src = g.r.choice(sources)
        text = _campaign_text(g, g.r.choice(["uk", "ru"]))[0]
        photo = k < 6
        original = g.post("telegram", src, g.ts(0, (g.days - 1) * 86400), text)
        for aid in hub:
            if g.r.random() < g.k["participation"]:
                extra: dict[str, Any] = {"forwarded_from": g.accounts["telegram"][src]["name"]}
                if photo:
                    path = f"photos/hub_{k}_{aid}.jpg"
                    g.images.append((path, k, g.r.randrange(4)))
                    extra["photo"] = path
                g.post("telegram", aid, g.at(original["ts"].timestamp() + 30, "forward_hub"), text, **extra)
                count[aid] += 1
    for aid in hub:
        g.camouflage("telegram", aid, count[aid], "forward_hub")
    for src in sources:  # organic channels forward the popular sources now and then: not coordination
        for aid in g.r.sample(organic_channels, min(len(organic_channels), 40)):
            g.post("telegram", aid, g.daily(aid), g.sentence(), forwarded_from=g.accounts["telegram"][src]["name"])
    return sorted(_uid("telegram", a) for a in hub + sources)  # the sources run the hub


def _sound_farm(g: _Gen) -> list[str]:
    young = g.r.random() < 0.5 or not g.k["bot_created_in_burst"]  # at least one farm is created in a burst
    farm = _members(g, "tiktok", "sound_farm", young=young, generated=g.r.random() < 0.5,
                    followers=(0, 2000))
    rare = [g.pid() for _ in range(g.k["sound_farm_sounds"])]
    count = dict.fromkeys(farm, 0)
    for _ in range(g.r.randint(12, 20)):
        text, tags = _campaign_text(g)
        t0, sound = g.ts().timestamp(), g.r.choice(rare)
        for aid in farm:
            if g.r.random() < g.k["participation"]:
                caption = g.caption_variant(text if g.r.random() < 0.6 else _campaign_text(g)[0], tags)
                g.post("tiktok", aid, g.at(t0, "sound_farm"), caption, sound=sound)
                count[aid] += 1
    for aid in farm:  # camouflage on trending sounds
        g.camouflage("tiktok", aid, count[aid], "sound_farm")
    return sorted(_uid("tiktok", a) for a in farm)


def _multilingual(g: _Gen) -> list[str]:
    langs = list(_CAMPAIGN)
    size = g.k["sizes"]["multilingual"]
    pages = [(g.account("facebook", name=f"{g.r.choice(_LAST).title()} Today {i}"), langs[i % 5])
             for i in range(size)]
    chans = [(g.account("telegram"), langs[i % 5]) for i in range(max(4, size // 2))]
    count = dict.fromkeys([a for a, _ in pages + chans], 0)
    for _ in range(g.r.randint(10, 16)):
        url, topic, t0 = g.urls[5900 + g.r.randrange(100)], g.r.randrange(3), g.ts().timestamp()
        for platform, members in (("facebook", pages), ("telegram", chans)):
            for aid, lang in members:
                if g.r.random() < g.k["participation"]:
                    template = _CAMPAIGN[lang][topic % len(_CAMPAIGN[lang])]
                    g.post(platform, aid, g.at(t0, "multilingual"), template.format(t=g.r.choice(_TOPICS)),
                           url=g.utm(url))
                    count[aid] += 1
    for platform, members in (("facebook", pages), ("telegram", chans)):
        for aid, _ in members:
            g.camouflage(platform, aid, count[aid], "multilingual")
    return sorted([_uid("facebook", a) for a, _ in pages] + [_uid("telegram", a) for a, _ in chans])


def _csv_writer(path: Path, header: list[str]) -> tuple[Any, Any]:
    fh = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed by the caller
    writer = csv.writer(fh)
    writer.writerow(header)
    return fh, writer
