"""``{% recommended_offerings %}``: the 为您推荐 section of the catalog page,
for a community operator (nothing for anyone else)."""

from __future__ import annotations

from typing import Any

from django import template

from matching.offering_recommend import recommendations_for

register = template.Library()


@register.inclusion_tag("matching/recommendations_section.html", takes_context=True)
def recommended_offerings(context: template.Context) -> dict[str, Any]:
    return {"recommendations": recommendations_for(context["request"].user)}
