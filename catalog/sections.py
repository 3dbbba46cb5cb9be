"""Sections that the apps above the catalog add to the top of its index page,
as they add panels to the workbench (``portal.dashboard``): an app registers
a provider from its AppConfig.ready(), and the catalog shows what it gives on
its plain first page without importing the app."""

from portal.dashboard import PanelRegistry

catalog_sections = PanelRegistry()
