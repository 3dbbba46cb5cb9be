"""How campaign figures read on the preview: shares as percentages."""

from django import template

register = template.Library()


@register.filter
def share(value: float | None) -> str:
    """A share from 0 to 1 as a percentage with one decimal."""
    return "—" if value is None else f"{value * 100:.1f}%"
