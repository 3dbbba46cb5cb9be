"""The site navigation, which apps above portal extend without portal importing them.

An app registers a function from its AppConfig.ready(); the function gets the
request of a signed-in user and returns (label, url) pairs to show after
portal's own items.
"""

from collections.abc import Callable, Iterable

from django.http import HttpRequest

NavProvider = Callable[[HttpRequest], Iterable[tuple[str, str]]]

_providers: list[NavProvider] = []


def register(provider: NavProvider) -> NavProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def registered_items(request: HttpRequest) -> list[tuple[str, str]]:
    return [item for provider in _providers for item in provider(request)]
