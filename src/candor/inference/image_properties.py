"""DetectLabels' IMAGE_PROPERTIES: brightness, sharpness, contrast and dominant colours.

Measured on the pixels, no model: brightness is mean luminance, sharpness the variance of the
Laplacian (the same measure as a face's Quality.Sharpness, on the image scaled to 256 px on its
longer side), contrast the RMS contrast (standard deviation of luminance; 100 for half black,
half white). Dominant colours come from median-cut quantisation of a thumbnail; each is named by
the nearest CSS colour keyword (in CIELAB) and by one of twelve plain names.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageColor

from candor.image_types import DominantColor, ImageProperties, ImageQuality
from candor.inference import geometry
from candor.inference.base import RGBArray

DEFAULT_MAX_COLORS = 10
_THUMBNAIL = 128
_SHARPNESS_SIDE = 256

SIMPLIFIED_COLORS = (
    "black", "white", "grey", "red", "orange", "yellow", "green", "teal", "blue", "purple",
    "pink", "brown",
)


def image_properties(image: RGBArray, *, max_colors: int = DEFAULT_MAX_COLORS) -> ImageProperties:
    return ImageProperties(
        quality=quality(image), dominant_colors=dominant_colors(image, max_colors)
    )


def quality(image: RGBArray) -> ImageQuality:
    im = Image.fromarray(image).convert("L")
    gray = np.asarray(im, dtype=np.float32)
    scale = _SHARPNESS_SIDE / max(im.size)
    small = im.resize(
        (max(3, round(im.width * scale)), max(3, round(im.height * scale))),
        Image.Resampling.BILINEAR,
    )
    return ImageQuality(
        brightness=geometry.brightness(gray),
        sharpness=geometry.sharpness(np.asarray(small, dtype=np.float32)),
        contrast=float(min(100.0, 100.0 * gray.std() / 127.5)),
    )


def dominant_colors(image: RGBArray, max_colors: int) -> tuple[DominantColor, ...]:
    """Up to ``max_colors`` colours, most pixels first; colours with the same CSS name merge."""
    if max_colors <= 0 or image.size == 0:
        return ()
    thumb = Image.fromarray(image)
    thumb.thumbnail((_THUMBNAIL, _THUMBNAIL), Image.Resampling.BILINEAR)
    quantized = thumb.quantize(colors=max_colors, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    counts = quantized.getcolors(maxcolors=256) or []
    total = sum(n for n, _ in counts)
    merged: dict[str, list[float]] = {}  # css name → [pixels, r*pixels, g*pixels, b*pixels]
    for pixels, index in counts:
        at = 3 * index if isinstance(index, int) else 0  # a palette image counts by index
        r, g, b = palette[at : at + 3]
        acc = merged.setdefault(css_name((r, g, b)), [0.0, 0.0, 0.0, 0.0])
        acc[0] += pixels
        acc[1] += r * pixels
        acc[2] += g * pixels
        acc[3] += b * pixels
    out = []
    for css, (n, rs, gs, bs) in sorted(merged.items(), key=lambda kv: -kv[1][0]):
        rgb = (round(rs / n), round(gs / n), round(bs / n))
        out.append(
            DominantColor(
                red=rgb[0],
                green=rgb[1],
                blue=rgb[2],
                hex_code="#{:02x}{:02x}{:02x}".format(*rgb),
                css_color=css,
                simplified_color=simplified_name(rgb),
                pixel_percent=100.0 * n / total,
            )
        )
    return tuple(out)


def _lab(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """sRGB (0..255, shape (..., 3)) → CIELAB under D65."""
    c = rgb / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lab: NDArray[np.float64] = np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )
    return lab


@cache
def _css_table() -> tuple[tuple[str, ...], NDArray[np.float64]]:
    # Pillow's colormap is the CSS3 keyword list; grey/gray spellings map to one colour, keep
    # the first of each.
    names: list[str] = []
    seen: set[tuple[int, int, int]] = set()
    rgbs = []
    for name in sorted(ImageColor.colormap):
        rgb = ImageColor.getrgb(name)[:3]
        if rgb in seen:
            continue
        seen.add(rgb)
        names.append(name)
        rgbs.append(rgb)
    return tuple(names), _lab(np.array(rgbs, dtype=np.float64))


def css_name(rgb: tuple[int, int, int]) -> str:
    names, labs = _css_table()
    d = np.linalg.norm(labs - _lab(np.array(rgb, dtype=np.float64)), axis=1)
    return names[int(np.argmin(d))]


def simplified_name(rgb: tuple[int, int, int]) -> str:
    """One of SIMPLIFIED_COLORS, from hue, saturation and value."""
    r, g, b = (v / 255.0 for v in rgb)
    hi, lo = max(r, g, b), min(r, g, b)
    value, chroma = hi, hi - lo
    saturation = 0.0 if hi == 0 else chroma / hi
    if value < 0.18:
        return "black"
    if saturation < 0.15 or chroma < 0.08:
        return "white" if value > 0.85 else "grey"
    if hi == r:
        hue = (60 * ((g - b) / chroma)) % 360
    elif hi == g:
        hue = 60 * ((b - r) / chroma) + 120
    else:
        hue = 60 * ((r - g) / chroma) + 240
    if hue < 15 or hue >= 330:
        return "pink" if saturation < 0.5 and value > 0.7 else "red"
    if hue < 45:
        return "brown" if value < 0.6 else "orange"
    if hue < 70:
        return "brown" if value < 0.45 else "yellow"
    if hue < 160:
        return "green"
    if hue < 195:
        return "teal"
    if hue < 260:
        return "blue"
    if hue < 300:
        return "purple"
    return "pink"
