"""The catalog: what departments offer communities (赋能项目 and 共享资源库).

Pages form the tree catalog index → department page → offering page, so that
Wagtail's per-subtree permissions, workflow, revisions and audit log give each
department its own corner of the CMS. Collections (专题) have a corner of their
own beside the departments' (catalog index → collection index → collection),
where the organization department writes them. Taxonomy (categories,
community types) is plain data that administrators extend.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import unescape

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page

from catalog.blocks import OfferingBodyBlock
from catalog.fields import ChoiceListField
from catalog.forms import ERROR_BOOKED_SESSION_REMOVED, OfferingPageForm
from portal.models import CommunityType, DepartmentKind


class Category(models.Model):
    """A two-level subject taxonomy: a top category (安全应急) and its subcategories
    (消防安全). Offerings are filed under a subcategory."""

    name = models.CharField(_("name"), max_length=40)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="category_unique_name_under_parent"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(parent__isnull=True),
                name="category_unique_top_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        if self.parent_id and self.parent.parent_id:
            raise ValidationError(
                {"parent": _("Categories have two levels: pick a top category.")}
            )


class CommunityTypeOption(models.Model):
    """One of portal's community types, as a row so offerings can target several."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=20)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("community type")
        verbose_name_plural = _("community types")
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return self.label


class OfferingKind(models.TextChoices):
    TRAINING = "training", _("Training course")
    SERVICE = "service", _("Service")
    PROJECT = "project", _("Empowerment project")
    VENUE = "venue", _("Venue")
    EQUIPMENT = "equipment", _("Equipment")
    EXPERT = "expert", _("Expert")
    MATERIAL = "material", _("Material")


# Kinds that are lent rather than delivered: the shared resource library (共享资源库).
SHARED_RESOURCE_KINDS = (
    OfferingKind.VENUE,
    OfferingKind.EQUIPMENT,
    OfferingKind.EXPERT,
    OfferingKind.MATERIAL,
)


class DeliveryMode(models.TextChoices):
    AT_COMMUNITY = "at_community", _("At the community")
    ONLINE = "online", _("Online")
    AT_DEPARTMENT = "at_department", _("At the department's venue")


class Availability(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled sessions")
    ON_REQUEST = "on_request", _("On request")


class OfferingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed (withdrawn)")


class SignedInPage(Page):
    """Catalog pages are for signed-in units unless CATALOG_PUBLIC is set."""

    class Meta:
        abstract = True

    def serve(self, request, *args, **kwargs):
        if not (settings.CATALOG_PUBLIC or request.user.is_authenticated):
            return redirect_to_login(request.get_full_path())
        return super().serve(request, *args, **kwargs)


class CatalogIndexPage(SignedInPage):
    """The catalog's root: every department page lives under it, and the
    collections' own page (CollectionIndexPage) with the collections."""

    introduction = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["catalog.DepartmentPage", "catalog.CollectionIndexPage"]
    max_count = 1

    class Meta:
        verbose_name = _("catalog")

    # Asked for by the catalog's own script: answer with the browsing region only.
    partial_template = "catalog/catalog_browse.html"

    def get_context(self, request, *args, **kwargs):
        from catalog.sections import catalog_sections
        from catalog.selectors import catalog_browse

        context = super().get_context(request, *args, **kwargs)
        browse = catalog_browse(
            params=request.GET, page_number=request.GET.get("page"), user=request.user
        )
        context["browse"] = browse
        # What other apps add (a community's recommendations), above the
        # plain catalog only: a search or a facet asks for something else.
        plain = not browse.has_choices and browse.page.number == 1
        context["sections"] = catalog_sections.rendered_for(request) if plain else []
        return context

    def get_template(self, request, *args, **kwargs):
        if _wants_partial(request):
            return self.partial_template
        return super().get_template(request, *args, **kwargs)

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        patch_vary_headers(response, ["X-Requested-With"])
        return response


def _wants_partial(request) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


@dataclass(frozen=True)
class CollectionCriterion:
    """One facet a collection fixes: the browsing parameter it sets, the facet's
    heading and the chosen values as (parameter value, label) pairs."""

    name: str
    label: str
    values: tuple[tuple[str, str], ...]

    @property
    def value_labels(self) -> str:
        return "、".join(str(label) for _value, label in self.values)


# The headings of catalog browsing's facets, by browsing parameter.
FACET_LABELS = {
    "kind": _("Kind"),
    "category": _("Category"),
    "family": _("Department family"),
    "department": _("Department"),
    "community": _("For community type"),
    "delivery": _("Delivery mode"),
    "area": _("Service area"),
    "availability": _("Availability"),
    "price": _("Cost"),
}
# A collection's criteria are shown under the same headings.
COLLECTION_CRITERION_LABELS = {**FACET_LABELS, "q": _("Keywords")}


# Categories as browsing groups them: under their top category.
CATEGORY_ORDER = ("parent__sort_order", "parent__name", "sort_order", "name")


class CatalogCollectionPageForm(WagtailAdminPageForm):
    """Choices listed the way catalog browsing lists them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        categories = self.fields["categories"]
        categories.queryset = categories.queryset.select_related("parent").order_by(
            *CATEGORY_ORDER
        )
        departments = self.fields["departments"]
        departments.queryset = departments.queryset.order_by(
            "family__sort_order", "family__name", "name"
        )


class CatalogCollectionPage(SignedInPage):
    """A collection (专题) such as "2026 防汛防台专题": an introduction and a saved
    set of catalog filters. It lists whatever open offerings match them when it
    is visited, so it stays current as departments publish, pause and close
    offerings. Written by the organization department and administrators."""

    introduction = RichTextField(
        _("introduction"),
        blank=True,
        features=["bold", "italic", "link", "ol", "ul"],
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kinds = ChoiceListField(_("kinds"), item_choices=OfferingKind.choices)
    categories = ParentalManyToManyField(
        Category,
        verbose_name=_("categories"),
        blank=True,
        related_name="+",
        # Offerings are filed under subcategories only.
        limit_choices_to={"parent__isnull": False},
    )
    families = ParentalManyToManyField(
        "portal.DepartmentFamily",
        verbose_name=_("department families"),
        blank=True,
        related_name="+",
    )
    departments = ParentalManyToManyField(
        "portal.Department",
        verbose_name=_("departments"),
        blank=True,
        related_name="+",
        limit_choices_to={"kind": DepartmentKind.FUNCTIONAL},
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    community_types = ParentalManyToManyField(
        CommunityTypeOption,
        verbose_name=_("for community types"),
        blank=True,
        related_name="+",
        help_text=_("Offerings for every type of community always match."),
    )
    delivery_modes = ChoiceListField(
        _("delivery modes"), item_choices=DeliveryMode.choices
    )
    seats_open_soon = models.BooleanField(
        _("only with seats open soon"),
        default=False,
        help_text=_(
            "Offerings on request, or with a seat left in a session of the next 30 days."
        ),
    )
    free_only = models.BooleanField(_("only free of charge"), default=False)
    query = models.CharField(
        _("keywords"),
        max_length=100,
        blank=True,
        help_text=_("Only offerings whose title or summary contain this text."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("introduction"),
        FieldPanel("cover_image"),
        MultiFieldPanel(
            [
                FieldPanel("kinds"),
                FieldPanel("categories", widget=forms.CheckboxSelectMultiple),
                FieldPanel("families", widget=forms.CheckboxSelectMultiple),
                FieldPanel("departments"),
                FieldPanel("community_types", widget=forms.CheckboxSelectMultiple),
                FieldPanel("delivery_modes"),
                FieldRowPanel([FieldPanel("seats_open_soon"), FieldPanel("free_only")]),
                FieldPanel("query"),
            ],
            heading=_("Filter criteria"),
            help_text=_(
                "The collection lists the open offerings that match every "
                "criterion filled in; several values in one criterion are "
                "alternatives. Leave a criterion empty not to filter on it."
            ),
        ),
    ]
    base_form_class = CatalogCollectionPageForm
    parent_page_types = ["catalog.CollectionIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        # Not Wagtail's "collection" (a folder of images), whose translation
        # the admin would otherwise pick up.
        verbose_name = _("topic collection")
        verbose_name_plural = _("topic collections")

    @property
    def introduction_text(self) -> str:
        """The introduction as plain text, for the cards that lead here."""
        return unescape(strip_tags(self.introduction)).strip()

    def criteria(self) -> list[CollectionCriterion]:
        """The facets this collection fixes, in the order browsing shows them.

        Chosen rows are read through the page's own relations, so a preview of
        unsaved choices shows those choices. Four queries, one per relation.
        """
        from catalog.filters import FREE, SEATS_OPEN

        chosen: dict[str, list[tuple[str, str]]] = {
            "kind": [
                (value, OfferingKind(value).label)
                for value in self.kinds
                if value in OfferingKind.values
            ],
            "category": [
                (str(c.pk), c.name)
                for c in self.categories.select_related("parent").order_by(
                    *CATEGORY_ORDER
                )
            ],
            "family": [(str(f.pk), f.name) for f in self.families.all()],
            "department": [(str(d.pk), d.name) for d in self.departments.all()],
            "community": [(o.code, o.label) for o in self.community_types.all()],
            "delivery": [
                (value, DeliveryMode(value).label)
                for value in self.delivery_modes
                if value in DeliveryMode.values
            ],
            "availability": [(SEATS_OPEN, _("Seats open in the next 30 days"))]
            if self.seats_open_soon
            else [],
            "price": [(FREE, _("Free"))] if self.free_only else [],
            "q": [(text, text)] if (text := self.query.strip()) else [],
        }
        return [
            CollectionCriterion(name, COLLECTION_CRITERION_LABELS[name], tuple(values))
            for name, values in chosen.items()
            if values
        ]

    def criteria_params(self, visitor_params: QueryDict | None = None) -> QueryDict:
        """The GET parameters of catalog browsing that show this collection,
        optionally combined with a visitor's own (see collection_params)."""
        return collection_params(self.criteria(), visitor_params or QueryDict())

    def get_context(self, request, *args, **kwargs):
        from catalog.selectors import catalog_browse

        context = super().get_context(request, *args, **kwargs)
        criteria = self.criteria()
        context["criteria"] = criteria
        context["browse"] = catalog_browse(
            params=collection_params(criteria, request.GET),
            page_number=request.GET.get("page"),
            user=request.user,
        )
        return context


def collection_params(
    criteria: list[CollectionCriterion], visitor_params: QueryDict
) -> QueryDict:
    """Browsing parameters for a collection seen with a visitor's parameters.

    A visitor can narrow and sort a collection but never widen it: in a facet
    the collection fixes (its text included), only the visitor's values among
    the collection's own are kept, and when none is, the collection's values
    apply. Other facets, the sort order and the page pass through: facets only
    ever narrow each other.
    """
    params = visitor_params.copy()
    for criterion in criteria:
        fixed = [value for value, _label in criterion.values]
        narrowed = [value for value in params.getlist(criterion.name) if value in fixed]
        params.setlist(criterion.name, narrowed or fixed)
    return params


class CollectionIndexPage(SignedInPage):
    """The collections' (专题) own page, /catalog/topics/, and their home in the
    tree. The organization department and administrators hold their page
    rights here, so they write collections without reaching the departments'
    pages beside it. Made with the catalog index (catalog.services)."""

    introduction = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    parent_page_types = ["catalog.CatalogIndexPage"]
    subpage_types = ["catalog.CatalogCollectionPage"]
    max_count = 1

    class Meta:
        verbose_name = _("topic collections index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # In the tree's order, which editors set in the CMS.
        context["collections"] = (
            CatalogCollectionPage.objects.live().child_of(self).order_by("path")
        )
        return context


class DepartmentPage(SignedInPage):
    """A department's public profile and the home of its offerings. Created with
    the department; its publishers and approvers work only below it."""

    department = models.OneToOneField(
        "portal.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="catalog_page",
    )
    profile = RichTextField(_("profile"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # The department's own corner of the CMS, made with the page (catalog.services).
    collection = models.ForeignKey(
        "wagtailcore.Collection",
        null=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    publisher_group = models.ForeignKey(
        "auth.Group",
        null=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approver_group = models.ForeignKey(
        "auth.Group",
        null=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("profile"),
        FieldRowPanel([FieldPanel("contact_phone"), FieldPanel("address")]),
    ]
    parent_page_types = ["catalog.CatalogIndexPage"]
    subpage_types = ["catalog.OfferingPage"]
    # Made by the department sync only, with the department's groups and workflow.
    is_creatable = False

    class Meta:
        verbose_name = _("department page")

    def get_context(self, request, *args, **kwargs):
        from catalog.selectors import department_offerings_open

        context = super().get_context(request, *args, **kwargs)
        context["offerings"] = department_offerings_open(self)
        return context


class OfferingTag(TaggedItemBase):
    content_object = ParentalKey(
        "catalog.OfferingPage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class OfferingPage(SignedInPage):
    """One course, service, project or shared resource a department offers.

    Pausing or closing it takes it out of browsing without unpublishing the
    page, so existing orders keep their link and history.
    """

    kind = models.CharField(_("kind"), max_length=20, choices=OfferingKind.choices)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="offerings",
        limit_choices_to={"parent__isnull": False},
    )
    tags = ClusterTaggableManager(
        through=OfferingTag, blank=True, verbose_name=_("tags")
    )
    summary = models.TextField(_("summary"), max_length=300)
    body = StreamField(OfferingBodyBlock(), verbose_name=_("body"), blank=True)
    target_community_types = ParentalManyToManyField(
        CommunityTypeOption,
        verbose_name=_("for community types"),
        blank=True,
        help_text=_("Leave empty when every type of community can order it."),
    )
    whole_area = models.BooleanField(
        _("whole service area"),
        default=True,
        help_text=_(
            "Offered everywhere the department serves; otherwise only in the streets chosen below."
        ),
    )
    service_streets = ParentalManyToManyField(
        "portal.Region",
        verbose_name=_("streets served"),
        blank=True,
        limit_choices_to={"level": 3},
    )
    delivery_mode = models.CharField(
        _("delivery mode"), max_length=20, choices=DeliveryMode.choices
    )
    duration_hours = models.DecimalField(
        _("duration (hours)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    lead_time_days = models.PositiveSmallIntegerField(
        _("lead time (days)"),
        default=7,
        help_text=_("How many days ahead a community must order."),
    )
    min_participants = models.PositiveSmallIntegerField(
        _("minimum participants"), null=True, blank=True
    )
    max_participants = models.PositiveSmallIntegerField(
        _("maximum participants"), null=True, blank=True
    )
    fee = models.DecimalField(
        _("fee (yuan)"),
        max_digits=9,
        decimal_places=2,
        default=0,
        help_text=_("0 means free of charge."),
    )
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    availability = models.CharField(
        _("availability"),
        max_length=20,
        choices=Availability.choices,
        default=Availability.SCHEDULED,
    )
    monthly_capacity = models.PositiveSmallIntegerField(
        _("orders per month"),
        null=True,
        blank=True,
        help_text=_("For offerings on request: how many orders a month can be served."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=OfferingStatus.choices,
        default=OfferingStatus.OPEN,
    )

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("kind"), FieldPanel("category")]),
                FieldPanel("summary"),
                FieldPanel("tags"),
                FieldPanel("cover_image"),
            ],
            heading=_("What it is"),
        ),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel(
                    "target_community_types", widget=forms.CheckboxSelectMultiple
                ),
                FieldPanel("whole_area"),
                FieldPanel("service_streets"),
            ],
            heading=_("Who can order it"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [FieldPanel("delivery_mode"), FieldPanel("duration_hours")]
                ),
                FieldRowPanel(
                    [FieldPanel("min_participants"), FieldPanel("max_participants")]
                ),
                FieldRowPanel([FieldPanel("lead_time_days"), FieldPanel("fee")]),
                FieldRowPanel(
                    [FieldPanel("contact_name"), FieldPanel("contact_phone")]
                ),
            ],
            heading=_("How it is delivered"),
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [FieldPanel("availability"), FieldPanel("monthly_capacity")]
                ),
                InlinePanel("sessions", heading=_("Sessions"), label=_("Session")),
                FieldPanel("status"),
            ],
            heading=_("Availability"),
        ),
    ]
    parent_page_types = ["catalog.DepartmentPage"]
    subpage_types: list[str] = []
    base_form_class = OfferingPageForm

    class Meta:
        verbose_name = _("offering")
        verbose_name_plural = _("offerings")
        # No index on status or kind: nearly every offering is open, and on
        # SQLite (no statistics) such an index makes browsing scans of all
        # offerings two to three times slower than reading the table through.
        constraints = [
            models.CheckConstraint(
                condition=Q(max_participants__isnull=True)
                | Q(min_participants__isnull=True)
                | Q(min_participants__lte=models.F("max_participants")),
                name="offering_participants_min_not_above_max",
            ),
        ]

    def get_context(self, request, *args, **kwargs):
        from catalog.selectors import offering_orderable_by, offering_upcoming_sessions

        context = super().get_context(request, *args, **kwargs)
        context["upcoming_sessions"] = offering_upcoming_sessions(self)
        # The template links to the ordering app's form by URL name only: the
        # catalog knows nothing of orders beyond who may place one.
        context["orderable"] = offering_orderable_by(offering=self, user=request.user)
        return context

    def with_content_json(self, content: dict) -> OfferingPage:
        """The page as a revision saved it, with its sessions' seats taken as
        they are now.

        Seats taken are not the revision's to restore (OfferingSession.save
        never writes them): each session shows today's count, and a session
        with seats taken that the revision lacks (it was added, or removed in
        a draft, before communities booked it) stays, so that neither the
        editor nor publishing an old revision or a stale draft drops bookings.
        """
        page = super().with_content_json(content)
        if self.pk is None:
            return page
        stored = {
            session.pk: session
            for session in OfferingSession.objects.filter(offering_id=self.pk)
        }
        sessions = list(page.sessions.all())
        for session in sessions:
            current = stored.get(session.pk)
            session.seats_taken = current.seats_taken if current else 0
        in_revision = {session.pk for session in sessions}
        sessions += [
            session
            for pk, session in stored.items()
            if session.seats_taken and pk not in in_revision
        ]
        page.sessions = sessions
        return page

    @property
    def is_free(self) -> bool:
        return self.fee == 0

    @property
    def is_shared_resource(self) -> bool:
        return self.kind in SHARED_RESOURCE_KINDS

    def clean(self) -> None:
        super().clean()
        if self.availability == Availability.ON_REQUEST and not self.monthly_capacity:
            raise ValidationError(
                {"monthly_capacity": _("Say how many orders a month can be served.")}
            )


class OfferingSession(Orderable):
    """A dated session of a scheduled offering, with its seats."""

    offering = ParentalKey(
        OfferingPage, on_delete=models.CASCADE, related_name="sessions"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    seats = models.PositiveIntegerField(_("seats"))
    seats_taken = models.PositiveIntegerField(
        _("seats taken"), default=0, editable=False
    )

    panels = [
        FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
        FieldRowPanel([FieldPanel("place"), FieldPanel("seats")]),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [models.Index(fields=["starts_at"], name="session_starts_at_idx")]
        constraints = [
            # The seat invariant of DESIGN.md: never more seats taken than offered.
            models.CheckConstraint(
                condition=Q(seats_taken__lte=models.F("seats")),
                name="session_never_overbooked",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="session_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        # Named to people (choices, errors, the admin): in the site's local time.
        starts = timezone.localtime(self.starts_at)
        return f"{self.offering.title} · {starts:%Y-%m-%d %H:%M}"

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken

    def save(self, **kwargs) -> None:
        """Save what the editor owns, never ``seats_taken``.

        Seats are taken only by the ordering app's conditional UPDATE. Page
        revisions hold a copy of every session (modelcluster serialises child
        objects) and publishing one saves each session again through here, so
        writing the copy's count would undo the bookings made since. An
        existing row is therefore updated without that column: the UPDATE
        neither reads nor writes it, so a seat taken at the same moment is
        kept, and the check constraint still holds the seats to the count in
        the row. A new row (a new session, a copied page, a session an old
        revision brings back) starts with none taken. Passing ``update_fields``
        writes exactly those.
        """
        if kwargs.get("update_fields") is None:
            using = kwargs.get("using") or router.db_for_write(
                type(self), instance=self
            )
            if (
                self.pk is not None
                and not kwargs.get("force_insert")
                and type(self).objects.using(using).filter(pk=self.pk).exists()
            ):
                kwargs["update_fields"] = [
                    field.name
                    for field in self._meta.concrete_fields
                    if not field.primary_key and field.name != "seats_taken"
                ]
            else:
                self.seats_taken = 0
        super().save(**kwargs)

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete the session; BookedSessionError when seats are taken in it.

        The row is locked before its count is read, so that a seat the
        ordering app takes meanwhile waits for this transaction (and then
        finds no session) instead of vanishing with it.
        """
        using = using or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            taken = (
                type(self)
                .objects.using(using)
                .select_for_update()
                .filter(pk=self.pk)
                .values_list("seats_taken", flat=True)
                .first()
            )
            if taken:
                start = timezone.localtime(self.starts_at)
                raise BookedSessionError(
                    ERROR_BOOKED_SESSION_REMOVED % {"start": f"{start:%Y-%m-%d %H:%M}"}
                )
            return super().delete(using=using, keep_parents=keep_parents)


class BookedSessionError(IntegrityError):
    """A page save was about to delete a session in which communities hold
    seats; the save is rolled back. The editor refuses this up front
    (OfferingPageForm); this catches a seat taken in the meantime."""


class OfferingDemand(models.Model):
    """How often an offering has been ordered, for the "most ordered" sort.

    Kept apart from the page (whose revisions would restore old counts) and
    from its catalog entry (rebuilt on every publish); the ordering app adds
    to it through ``catalog.services.offering_demand_add``.
    """

    offering = models.OneToOneField(
        OfferingPage,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="demand",
    )
    orders_placed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("offering demand")
        verbose_name_plural = _("offering demand")

    def __str__(self) -> str:
        return f"{self.offering_id}: {self.orders_placed}"


def community_type_bits(codes: Iterable[str]) -> int:
    """The community types ``codes`` as bits of one integer (0: every type), so
    that browsing tests a target with one bitwise AND instead of a join."""
    positions = {code: index for index, code in enumerate(CommunityType.values)}
    bits = 0
    for code in codes:
        bits |= 1 << positions[code]
    return bits


class CatalogEntry(models.Model):
    """What browsing reads of an offering communities can order now.

    One narrow row per published open offering, with its department, family
    and service area copied in, kept by ``catalog.services.catalog_entries_sync``
    on publish, unpublish, move and delete and when departments change. Facet
    counts and listing order read this table alone, never page rows, revisions
    or link tables, so they cost one pass over integers however the tree grows.
    """

    offering = models.OneToOneField(
        OfferingPage,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="catalog_entry",
    )
    department = models.ForeignKey(
        "portal.Department", on_delete=models.CASCADE, related_name="+"
    )
    family = models.ForeignKey(
        "portal.DepartmentFamily",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=OfferingKind.choices)
    delivery_mode = models.CharField(max_length=20, choices=DeliveryMode.choices)
    availability = models.CharField(max_length=20, choices=Availability.choices)
    is_free = models.BooleanField()
    # Bits of CommunityType in declaration order (community_type_bits); 0: every type.
    community_types = models.PositiveSmallIntegerField(default=0)
    published_at = models.DateTimeField()
    # The regions served: the department's own region for the whole area,
    # otherwise the chosen streets.
    areas = models.ManyToManyField("portal.Region", related_name="+")

    class Meta:
        verbose_name = _("catalog entry")
        verbose_name_plural = _("catalog entries")
        indexes = [
            models.Index(fields=["-published_at", "-offering"], name="entry_newest_idx")
        ]

    def __str__(self) -> str:
        return str(self.offering_id)
