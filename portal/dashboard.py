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
from django.template.loader import render_to_string
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


class PanelRegistry:
    """The panel providers of one page, registered by the apps above the app
    that owns the page."""

    def __init__(self) -> None:
        self._providers: list[PanelProvider] = []

    def register(self, provider: PanelProvider) -> PanelProvider:
        if provider not in self._providers:
            self._providers.append(provider)
        return provider

    def panels_for(self, request: HttpRequest) -> list[Panel]:
        panels = [panel for provider in self._providers for panel in provider(request)]
        return sorted(panels, key=lambda panel: panel.order)

    def rendered_for(self, request: HttpRequest) -> list[tuple[Panel, str]]:
        """Each panel with its template rendered for ``request``."""
        return [
            (panel, render_to_string(panel.template, panel.context, request=request))
            for panel in self.panels_for(request)
        ]


_workbench = PanelRegistry()
register = _workbench.register
panels_for = _workbench.panels_for
rendered_for = _workbench.rendered_for
