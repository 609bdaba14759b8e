"""The organic world of a generated scenario: everyday posting, niche communities and the hard negatives.

Everything here is ground-truth *organic*: none of it may be flagged. Intensities come from the seed's
knobs (`cib.scenario._knobs`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cib.scenario import _FIRST, _LAST, START, _Gen, _uid

__all__ = ["hard_negatives", "organic_population"]


def organic_population(g: _Gen, organic: dict[str, list[str]]) -> dict[str, list[str]]:
    """Everyday posts on daily rhythms, power users, and niche communities (same few sites and hashtags)."""
    power = set(g.r.sample(organic["x"], max(1, len(organic["x"]) // 50)))
    originals = [g.post("x", g.r.choice(organic["x"]), g.ts(), g.sentence()) for _ in range(200)]
    g.sounds = [g.pid() for _ in range(3000)]
    for platform, ids in organic.items():
        for aid in ids:
            n = int(g.r.lognormvariate(0, 0.8) * g.ppa) + 1
            if aid in power:
                n *= 12
            for _ in range(n):
                text = g.sentence()
                extra: dict[str, Any] = {}
                if g.r.random() < 0.3:
                    extra["url"] = g.zipf(g.urls, 0.9)
                if g.r.random() < 0.25:
                    text += " " + " ".join(f"#{g.zipf(g.tags, 1.0)}" for _ in range(g.r.randint(1, 4)))
                if platform == "x" and g.r.random() < 0.15:
                    extra = {"retweet": g.zipf(originals, 1.0)}
                    text = ""
                if platform == "tiktok":
                    extra["sound"] = g.zipf(g.sounds, 1.05)
                g.post(platform, aid, g.daily(aid), text, **extra)
    return {"power_users": sorted(_uid("x", a) for a in power), "niche_communities": _communities(g, organic)}


def _communities(g: _Gen, organic: dict[str, list[str]]) -> list[str]:
    """Groups that share a niche interest: links from the same few sites, the same hashtag set, each member
    on their own daily rhythm hours to a day after an article appears."""
    out = []
    n = max(g.k["communities"], g.n // 100)
    for c in range(n):
        platform = g.r.choice(["x", "facebook", "telegram", "tiktok"])
        members = g.r.sample(organic[platform], min(len(organic[platform]), g.r.randint(15, 40)))
        sites = [f"https://{g.r.choice(g.words)}{c}-{s}.example" for s in range(g.r.randint(2, 4))]
        tags = [f"#{g.r.choice(g.words)}" for _ in range(3)]
        for a in range(g.days * g.r.randint(2, 5)):
            url, t0 = f"{g.r.choice(sites)}/{g.r.choice(g.words)}-{a}", g.ts().timestamp()
            for aid in members:
                if g.r.random() < g.k["community_share"]:
                    when = t0 + g.r.expovariate(1 / (3600 * g.k["community_delay_h"]))
                    extra = {"sound": g.zipf(g.sounds, 1.05)} if platform == "tiktok" else {}
                    g.post(platform, aid, datetime.fromtimestamp(when, UTC), g.sentence(4, 12) + " " + " ".join(tags),
                           url=url, **extra)
        out += [_uid(platform, a) for a in members]
    return sorted(set(out))


def hard_negatives(g: _Gen, organic: dict[str, list[str]]) -> dict[str, list[str]]:
    """Breaking news, news junkies, viral retweets, memes, copypasta, a hashtag storm, syndicated outlets."""
    out: dict[str, list[str]] = {}
    junkies = {p: g.r.sample(organic[p], g.k["junkies"] // 3 + 1) for p in ("x", "facebook", "telegram")}
    for platform, ids in junkies.items():  # heavy accounts: lots of their own posting and news links
        for aid in ids:
            for _ in range(int(g.ppa * g.k["junkie_activity"])):
                g.post(platform, aid, g.daily(aid), g.sentence(3, 12), url=g.zipf(g.urls, 0.9))
    news, fast = [], []
    for e in range(g.k["news_events"]):  # breaking news: hundreds share one URL within minutes
        url, t0 = g.urls[3000 + e], g.ts(86400, (g.days - 1) * 86400).timestamp()
        for platform in ("x", "facebook", "telegram"):
            crowd = g.r.sample(organic[platform], min(len(organic[platform]), g.r.randint(40, 120)))
            for aid in crowd:
                g.post(platform, aid, datetime.fromtimestamp(t0 + g.r.expovariate(1 / 900), UTC),
                       g.r.choice(["BREAKING", "wow", "unbelievable", "read this", ""]) + " " + g.sentence(3, 9),
                       url=url)
                news.append(_uid(platform, aid))
            for aid in junkies[platform]:
                if g.r.random() < g.k["junkie_share"]:
                    g.post(platform, aid, datetime.fromtimestamp(t0 + g.r.expovariate(1 / 180), UTC),
                           g.sentence(2, 6), url=url)
                    fast.append(_uid(platform, aid))
    out["breaking_news"] = sorted(set(news))
    viral = []
    for _ in range(3):  # viral retweets
        orig = g.post("x", g.r.choice(organic["x"]), g.ts(0, 86400 * (g.days - 2)), g.sentence())
        for aid in g.r.sample(organic["x"], min(len(organic["x"]), 150)):
            g.post("x", aid, orig["ts"] + timedelta(seconds=g.r.expovariate(1 / 3000)), "", retweet=orig)
            viral.append(_uid("x", aid))
        for aid in junkies["x"]:
            if g.r.random() < g.k["junkie_share"]:
                g.post("x", aid, orig["ts"] + timedelta(seconds=g.r.expovariate(1 / 300)), "", retweet=orig)
    out["viral_retweets"] = sorted(set(viral))
    out["news_junkies"] = sorted({_uid(p, a) for p, ids in junkies.items() for a in ids})
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
    out["syndicated_outlets"] = _syndication(g, organic)
    return out


def _syndication(g: _Gen, organic: dict[str, list[str]]) -> list[str]:
    """One owner's outlets (mid-size to large, long-established, many below 50k followers) publishing the same
    wire copy within minutes; readers share some of the stories later."""
    owner = g.r.choice(_LAST).title()
    outlets = [(g.r.choice(["facebook", "facebook", "x"]), i) for i in range(g.k["outlets"])]
    ids = [(p, g.account(p, followers=int(min(2_000_000, 5_000 + g.r.lognormvariate(10.3, 1.2))),
                         created=START - timedelta(days=g.r.uniform(4 * 365, 15 * 365)),
                         name=f"{owner} {g.r.choice(_FIRST).title()} Herald {i}")) for p, i in outlets]
    for day in range(g.days):
        for _ in range(g.r.randint(2, 4)):
            head, slug = g.sentence(8, 12), f"{g.r.choice(g.words)}-{day}-{g.r.randrange(10**6)}"
            wire = f"https://wire-{owner.lower()}.example/{slug}"
            t0 = (START + timedelta(days=day, hours=g.r.uniform(6, 22))).timestamp()
            for platform, aid in ids:
                g.post(platform, aid, datetime.fromtimestamp(t0 + g.r.uniform(0, g.k["outlet_spread_s"]), UTC),
                       head, url=wire)
            for aid in g.r.sample(organic["facebook"], g.r.randint(0, 4)):
                g.post("facebook", aid, g.daily(aid), g.sentence(2, 6), url=wire)
    return sorted(_uid(p, a) for p, a in ids)
