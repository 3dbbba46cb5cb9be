"""The catalog: what departments offer communities (赋能项目 and 共享资源库).

Pages form the tree catalog index → department page → offering page, so that
Wagtail's per-subtree permissions, workflow, revisions and audit log give each
department its own corner of the CMS. Taxonomy (categories, community types)
is plain data that administrators extend.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page

from catalog.blocks import OfferingBodyBlock


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
    """The catalog's root: every department page lives under it."""

    introduction = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    parent_page_types = ["portal.HomePage"]
    subpage_types = ["catalog.DepartmentPage"]
    max_count = 1

    class Meta:
        verbose_name = _("catalog")

    # Asked for by the catalog's own script: answer with the browsing region only.
    partial_template = "catalog/catalog_browse.html"

    def get_context(self, request, *args, **kwargs):
        from catalog.selectors import catalog_browse

        context = super().get_context(request, *args, **kwargs)
        context["browse"] = catalog_browse(
            params=request.GET, page_number=request.GET.get("page")
        )
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
        from catalog.selectors import offering_upcoming_sessions

        context = super().get_context(request, *args, **kwargs)
        context["upcoming_sessions"] = offering_upcoming_sessions(self)
        return context

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
        return f"{self.offering.title} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken
