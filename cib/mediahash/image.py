"""Still images: PDQ (with its quality and the eight dihedral variants) and pHash, decoded within limits.

The header is read first: an image whose declared size exceeds ``Limits.max_pixels`` (or that Pillow calls a
decompression bomb) is refused before any pixel is decoded, so a 74-byte PNG declaring 50000x50000 pixels
costs as little as a valid 12500x12500 PNG: one header read.

Examples
--------
>>> import io, numpy as np
>>> from PIL import Image
>>> buf = io.BytesIO()
>>> Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
>>> result = hash_image(buf)
>>> len(result.pdq), len(result.dihedral), result.quality >= 50
(64, 8, True)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from cib.mediahash.limits import DEFAULT_LIMITS, Limits, MediaRefused

__all__ = ["ImageHash", "hash_image", "pdq_array", "pdq_hex"]


@dataclass(frozen=True)
class ImageHash:
    """PDQ hex of the image as is, its quality (0-100), all eight dihedral PDQ hexes (first = as is), pHash."""

    pdq: str
    quality: int
    dihedral: tuple[str, ...]
    phash: str
    width: int
    height: int


def pdq_hex(bits: Any) -> str:
    """A PDQ bit vector as Meta's 64-hex-char form.

    >>> pdq_hex([1] + [0] * 255)[:2]
    '80'
    """
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def pdq_array(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hex and quality of an ``(h, w, 3)`` uint8 RGB array."""
    import pdqhash

    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return pdq_hex(bits), int(quality)


def hash_image(source: str | IO[bytes], limits: Limits = DEFAULT_LIMITS) -> ImageHash:
    """Hash an image file or stream; `MediaRefused` (with the reason) for bombs, oversize or unreadable data."""
    import imagehash
    import pdqhash
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise MediaRefused(f"decompression bomb refused: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MediaRefused(f"not a readable image: {exc}") from exc
    with img:
        width, height = img.size
        if width * height > limits.max_pixels:
            raise MediaRefused(f"image of {width}x{height} pixels exceeds the {limits.max_pixels:,}-pixel limit")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.draft("RGB", (2048, 2048))  # JPEG: decode at a reduced scale where it is that large
                rgb = img.convert("RGB")
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise MediaRefused(f"image could not be decoded: {exc}") from exc
    if max(rgb.size) > 512:  # PDQ reduces to 64x64 anyway; hashing a 512-pixel copy is ~4x faster
        rgb.thumbnail((512, 512), Image.Resampling.BILINEAR)
    array = np.asarray(rgb)
    variants, quality = pdqhash.compute_dihedral(array)
    dihedral = tuple(pdq_hex(v) for v in variants)
    return ImageHash(pdq=dihedral[0], quality=int(quality), dihedral=dihedral, phash=str(imagehash.phash(rgb)),
                     width=width, height=height)
