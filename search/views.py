"""The search box's suggestions."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from search.backends import answering_engine

SUGGESTIONS = 8
# Longer input is a query, not something being typed.
PREFIX_MAX = 30


@require_GET
@cache_control(private=True, max_age=60)
def suggest(request: HttpRequest) -> JsonResponse:
    """Offering titles completing ``q``, as ``{"suggestions": [...]}``; for the
    signed-in (or everyone, with CATALOG_PUBLIC), like the catalog itself."""
    if not (settings.CATALOG_PUBLIC or request.user.is_authenticated):
        return JsonResponse({"suggestions": []}, status=403)
    prefix = request.GET.get("q", "").strip()[:PREFIX_MAX]
    suggestions = (
        answering_engine().autocomplete(prefix, limit=SUGGESTIONS) if prefix else []
    )
    return JsonResponse({"suggestions": suggestions})
