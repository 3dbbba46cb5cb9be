"""The workbench (工作台): each role's start page, made of panels that the
apps above portal contribute without portal importing them (as with
``portal.navigation``).

An app registers a function from its AppConfig.ready(); the function gets the
request of a signed-in user and returns the panels that user should see, each
a template of the app with its context. Panels show in ``order``, then in
registration order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass(frozen=True)
class Panel:
    title: str | Promise
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    order: int = 100
    # Takes the whole width rather than a column (tables, charts).
    wide: bool = False


PanelProvider = Callable[[HttpRequest], Iterable[Panel]]

_providers: list[PanelProvider] = []


def register(provider: PanelProvider) -> PanelProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def panels_for(request: HttpRequest) -> list[Panel]:
    panels = [panel for provider in _providers for panel in provider(request)]
    return sorted(panels, key=lambda panel: panel.order)
