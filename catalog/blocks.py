"""StreamField blocks of offering pages."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageBlock


class OfferingBodyBlock(blocks.StreamBlock):
    """What an editor writes about an offering: text, pictures and attachments."""

    heading = blocks.CharBlock(label=_("Heading"), form_classname="title")
    paragraph = blocks.RichTextBlock(
        label=_("Paragraph"), features=["bold", "italic", "ol", "ul", "link"]
    )
    image = ImageBlock(label=_("Image"))
    attachment = blocks.StructBlock(
        [
            ("document", DocumentChooserBlock(label=_("Document"))),
            ("description", blocks.CharBlock(label=_("Description"), required=False)),
        ],
        label=_("Attachment"),
        icon="doc-full",
        template="catalog/blocks/attachment.html",
    )
