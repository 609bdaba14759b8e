"""Media throughput and grouping scale: videos/s and images/s hashed, 1M PDQ hashes grouped (time, peak RSS).

Usage::

    python benchmarks/media.py [--hashes 1000000] [--images 200] [--shared ../shared]

Each measurement runs in its own process so its peak RSS (ru_maxrss of that child) is its own. Videos are
the ThreatExchange TMK samples in ``shared/media/tmk`` (skipped with a note when absent). The 1M hashes are
half random PDQ-like hashes and half copies of them with 0-40 bits flipped, so about a third of the copies
fall within 31 bits: a realistic share of near-duplicates on top of a worst-case random background.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# one child-process runner for every benchmark: a fresh Python per phase, its own peak RSS
from scale import child  # benchmarks/ is on sys.path when a benchmark runs as a script

VIDEOS = """
import json, time
from pathlib import Path
from cib.mediahash import MediaHasher
files = sorted(Path({tmk!r}).glob('*.mp4'))
t = time.perf_counter()
hashed = [MediaHasher().hash_file(f) for f in files]
print(json.dumps({{'files': len(files), 'seconds': time.perf_counter() - t,
                  'video_s': sum(h.frames[-1].seconds + 1 for h in hashed if h.frames),
                  'frames': sum(len(h.frames) for h in hashed)}}))
"""

IMAGES = """
import json, tempfile, time
from pathlib import Path
import numpy as np
from PIL import Image
from cib.mediahash import MediaHasher
folder = Path(tempfile.mkdtemp())
rng = np.random.default_rng(1)
for i in range({n}):
    small = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    Image.fromarray(small).resize((1024, 768), Image.Resampling.BICUBIC).save(folder / f'{{i}}.jpg', quality=85)
t = time.perf_counter()
hasher = MediaHasher()
for i in range({n}):
    hasher.hash_file(folder / f'{{i}}.jpg')
print(json.dumps({{'images': {n}, 'seconds': time.perf_counter() - t}}))
"""

GROUPING = """
import json, time
import numpy as np, polars as pl
from cib.signals.media import perceptual_groups
n = {n}
rng = np.random.default_rng(1)
base = rng.integers(0, 256, (n // 2, 32), dtype=np.uint8)
bits = np.zeros((n - n // 2, 256), dtype=np.uint8)
counts = rng.integers(0, 41, n - n // 2)
for i, c in enumerate(counts):
    bits[i, rng.choice(256, int(c), replace=False)] = 1
rows = np.concatenate([base, base[rng.integers(0, n // 2, n - n // 2)] ^ np.packbits(bits, axis=1)])
hashes = pl.Series([r.tobytes().hex() for r in rows]).unique()
perceptual_groups(hashes[:1000])  # compile the numba kernels before timing (cached on disk afterwards)
t, cpu = time.perf_counter(), time.process_time()
groups = perceptual_groups(hashes)
seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
print(json.dumps({{'hashes': hashes.len(), 'seconds': seconds, 'cpu': cpu, 'grouped': groups.height,
                  'groups': groups['group'].n_unique()}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    args = parser.parse_args()
    tmk = args.shared / "media" / "tmk"
    if tmk.is_dir():
        _, rss, out = child(VIDEOS.format(tmk=str(tmk)))
        v = json.loads(out)
        print(f"videos: {v['files']} TMK files ({v['video_s']:.0f} s of video, {v['frames']} samples) in "
              f"{v['seconds']:.1f} s = {v['files'] / v['seconds']:.2f} videos/s, "
              f"{v['video_s'] / v['seconds']:.1f} s of video per s; peak RSS {rss:.0f} MiB")
    else:
        print(f"videos: skipped, {tmk} not found")
    _, rss, out = child(IMAGES.format(n=args.images))
    i = json.loads(out)
    print(f"images: {i['images']} JPEGs 1024x768 in {i['seconds']:.1f} s = {i['images'] / i['seconds']:.1f} "
          f"images/s; peak RSS {rss:.0f} MiB")
    _, rss, out = child(GROUPING.format(n=args.hashes))
    g = json.loads(out)
    print(f"grouping: {g['hashes']:,} distinct PDQ hashes grouped in {g['seconds']:.1f} s "
          f"({g['cpu']:.1f} CPU-s over all threads) "
          f"({g['grouped']:,} in {g['groups']:,} groups); peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
