from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from catalog import receivers
        from portal import navigation

        receivers.connect()
        # Databases whose catalog predates collections get the collections'
        # page and its editors' rights here; a new catalog index makes them
        # when it is created.
        post_migrate.connect(
            _collection_editors_sync,
            sender=self,
            dispatch_uid="catalog_collection_editors",
        )
        # CATALOG_ORGANIZATION_APPROVAL may have changed since the last deploy.
        post_migrate.connect(
            _department_workflows_sync,
            sender=self,
            dispatch_uid="catalog_department_workflows",
        )
        navigation.register(_catalog_navigation)


def _catalog_navigation(request):
    from catalog.selectors import catalog_lookups

    index_url = catalog_lookups().index_url
    return [(_("Catalog"), index_url)] if index_url else []


def _collection_editors_sync(*, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    from catalog.models import CatalogIndexPage, CollectionIndexPage
    from catalog.services import collection_editors_sync

    # The catalog lives in the default database, and may not be migrated yet.
    if using != DEFAULT_DB_ALIAS:
        return
    tables = set(connections[using].introspection.table_names())
    if {CatalogIndexPage._meta.db_table, CollectionIndexPage._meta.db_table} <= tables:
        collection_editors_sync()


def _department_workflows_sync(*, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    from catalog.models import DepartmentPage
    from catalog.services import department_workflows_sync

    # The catalog lives in the default database, and may not be migrated yet.
    if using != DEFAULT_DB_ALIAS:
        return
    if DepartmentPage._meta.db_table in connections[using].introspection.table_names():
        department_workflows_sync()
