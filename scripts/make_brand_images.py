"""Draw the paper's raster marks from favicon.svg's design: the publisher logo named in
structured data, and the card image social previews fall back to for pages without a
photo. Crawlers and social sites want PNG or JPEG, not SVG, at known sizes.

.venv/bin/python scripts/make_brand_images.py   (needs fonts-dejavu; writes into
broadsheet/static/broadsheet/, where the files are kept in the repository)
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

STATIC = Path(__file__).resolve().parent.parent / "broadsheet" / "static" / "broadsheet"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"
INK = (18, 18, 18)  # --ink in broadsheet.css
PAPER = (255, 255, 255)
TINT = (246, 244, 239)  # --paper-tint
ACCENT = (155, 28, 28)  # --accent
LETTER = "C"  # favicon.svg's letter


def monogram(size: int) -> Image.Image:
    """favicon.svg at `size` pixels: a white serif letter on a dark rounded square."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 8, fill=INK)
    font = ImageFont.truetype(FONT, int(size * 0.72))
    draw.text((size / 2, size / 2), LETTER, font=font, fill=PAPER, anchor="mm")
    return image


def logo(size: int = 512) -> Image.Image:
    """The publisher logo: square, opaque, well above Google's 112 px minimum."""
    image = Image.new("RGB", (size, size), PAPER)
    image.paste(mark := monogram(size), (0, 0), mark)
    return image


def card(width: int = 1200, height: int = 630) -> Image.Image:
    """The 1200x630 image Open Graph and Twitter cards expect, for pages with no photo:
    the monogram on the paper's tint, between the masthead's double rules."""
    image = Image.new("RGB", (width, height), TINT)
    draw = ImageDraw.Draw(image)
    for y in (48, 60, height - 61, height - 49):
        draw.line((72, y, width - 72, y), fill=INK, width=4 if y in (48, height - 49) else 2)
    mark = monogram(300)
    image.paste(mark, ((width - 300) // 2, (height - 300) // 2), mark)
    draw.rectangle(((width - 120) // 2, height - 118, (width + 120) // 2, height - 112), ACCENT)
    return image


def main():
    for name, image in (("logo.png", logo()), ("social-card.png", card())):
        path = STATIC / name
        image.save(path, format="PNG", optimize=True)
        print(path, f"{image.width}x{image.height}")


if __name__ == "__main__":
    main()
