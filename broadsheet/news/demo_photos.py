"""Photos for the demo newsroom, drawn with Pillow: no downloads, nobody else's pictures."""

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

PALETTES = [
    ((24, 44, 84), (240, 150, 90), (30, 30, 40)),  # dusk
    ((120, 170, 220), (230, 240, 250), (50, 70, 60)),  # clear day
    ((70, 80, 95), (170, 175, 185), (40, 45, 50)),  # overcast
    ((250, 200, 120), (255, 240, 200), (90, 60, 40)),  # morning
    ((20, 25, 50), (60, 70, 120), (10, 10, 20)),  # night
    ((90, 140, 120), (200, 225, 200), (40, 70, 50)),  # park
]


def _blend(a, b, t):
    return tuple(int(a[i] + (b[i] - a[i]) * t) for i in range(3))


def draw_scene(seed: int, kind: str, size=(1600, 900)) -> bytes:
    """A JPEG of a street, harbour, hills or crowd scene in one of six lights."""
    rng = random.Random(seed)
    sky_top, sky_bottom, ground = PALETTES[seed % len(PALETTES)]
    width, height = size
    image = Image.new("RGB", size, sky_top)
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.55, 0.7))
    for y in range(horizon):
        draw.line([(0, y), (width, y)], fill=_blend(sky_top, sky_bottom, y / horizon))
    sun_x, sun_y = rng.randint(200, width - 200), rng.randint(80, horizon - 120)
    draw.ellipse(
        [sun_x - 60, sun_y - 60, sun_x + 60, sun_y + 60],
        fill=_blend(sky_bottom, (255, 250, 220), 0.7),
    )

    if kind == "harbour":
        draw.rectangle([0, horizon, width, height], fill=_blend(sky_top, (20, 60, 90), 0.5))
        for i in range(40):
            y = horizon + i * (height - horizon) // 40
            draw.line([(0, y), (width, y)], fill=_blend(sky_bottom, (30, 70, 100), 0.6), width=1)
        for _ in range(rng.randint(3, 6)):
            x, y = rng.randint(0, width - 300), rng.randint(horizon + 40, height - 120)
            draw.polygon([(x, y), (x + 260, y), (x + 220, y + 50), (x + 30, y + 50)], fill=ground)
            draw.line([(x + 120, y), (x + 120, y - 160)], fill=ground, width=6)
            draw.polygon(
                [(x + 124, y - 150), (x + 124, y - 10), (x + 220, y - 10)], fill=(235, 235, 230)
            )
    elif kind == "hills":
        for layer in range(4):
            shade = _blend(ground, sky_bottom, 0.6 - layer * 0.18)
            base = horizon - 80 + layer * 60
            points = [(0, height)]
            for x in range(0, width + 80, 80):
                points.append((x, base + 60 * math.sin(x / (200 + layer * 70) + seed + layer)))
            points.append((width, height))
            draw.polygon(points, fill=shade)
    else:  # street or crowd: a skyline over a road
        x = 0
        while x < width:
            w, h = rng.randint(70, 190), rng.randint(120, horizon - 60)
            shade = _blend(ground, sky_top, rng.uniform(0.05, 0.35))
            draw.rectangle([x, horizon - h, x + w, horizon], fill=shade)
            for wy in range(horizon - h + 20, horizon - 20, 34):
                for wx in range(x + 12, x + w - 20, 28):
                    if rng.random() < 0.45:
                        draw.rectangle([wx, wy, wx + 12, wy + 18], fill=(250, 220, 140))
            x += w + rng.randint(0, 12)
        draw.rectangle([0, horizon, width, height], fill=ground)
        if kind == "crowd":
            for _ in range(160):
                px = rng.randint(0, width)
                py = rng.randint(horizon + 40, height)
                scale = 0.5 + (py - horizon) / (height - horizon)
                colour = _blend((60, 60, 70), (200, 90, 70), rng.random())
                r = int(14 * scale)
                draw.ellipse([px - r, py - 3 * r, px + r, py - r], fill=(200, 160, 130))
                draw.rounded_rectangle([px - 2 * r, py - r, px + 2 * r, py + 4 * r], r, fill=colour)
        else:
            draw.polygon(
                [
                    (width * 0.42, height),
                    (width * 0.58, height),
                    (width * 0.51, horizon),
                    (width * 0.49, horizon),
                ],
                fill=(70, 70, 75),
            )
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()
