"""The blocks an editor builds a story body from.

Each block renders through its own template under templates/news/blocks/, so a story body
is semantic HTML: paragraphs, crossheads as h2, quotations as blockquote, photos as figure.
"""

from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images import get_image_model
from wagtail.images.blocks import ImageChooserBlock

PARAGRAPH_FEATURES = ["bold", "italic", "link", "ol", "ul"]


class PhotoChooserBlock(ImageChooserBlock):
    """Chooses a photo and loads every photo of a body, with its renditions, in two queries.

    Stock ImageChooserBlock loads the photos in bulk but then asks for each photo's
    renditions separately, so a story with ten photos would cost ten more queries.
    """

    def bulk_to_python(self, values):
        ids = [value for value in values if value is not None]
        photos = get_image_model().objects.filter(pk__in=ids).prefetch_renditions().in_bulk()
        return [photos.get(value) for value in values]


class ParagraphBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=PARAGRAPH_FEATURES, **kwargs)

    class Meta:
        icon = "pilcrow"
        template = "news/blocks/paragraph.html"


class CrossheadBlock(blocks.CharBlock):
    """A short phrase, often a quotation, that splits a long story into parts."""

    def __init__(self, **kwargs):
        super().__init__(max_length=120, **kwargs)

    class Meta:
        icon = "title"
        template = "news/blocks/crosshead.html"
        help_text = "A short subhead that splits the story, e.g. a telling phrase from a quote."


class QuoteBlock(blocks.StructBlock):
    quotation = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        icon = "openquote"
        template = "news/blocks/quote.html"


class PhotoBlock(blocks.StructBlock):
    photo = PhotoChooserBlock()
    caption = blocks.CharBlock(required=False, max_length=400)

    class Meta:
        icon = "image"
        template = "news/blocks/photo.html"


class FactBoxBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120)
    body = blocks.RichTextBlock(features=PARAGRAPH_FEATURES)

    class Meta:
        icon = "list-ul"
        template = "news/blocks/fact_box.html"


class StoryBodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    crosshead = CrossheadBlock()
    quote = QuoteBlock()
    photo = PhotoBlock()
    embed = EmbedBlock(template="news/blocks/embed.html", icon="media")
    fact_box = FactBoxBlock()
