"""The org tree (regions and departments), accounts and the home page.

The tree holds every region of the country, so it is plain relational data, not
Wagtail pages: a parent link plus one column per ancestor level. The tree has a
fixed depth, so "everything in district D" is one indexed equality
(``district_id = D``) and grouping communities by street or district needs no
recursive query.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

REGION_CODE_VALIDATOR = RegexValidator(
    r"^\d{12}$", _("A region code has exactly 12 digits.")
)


class RegionLevel(models.IntegerChoices):
    CITY = 1, _("City")
    DISTRICT = 2, _("District / county")
    STREET = 3, _("Street / town")
    COMMUNITY = 4, _("Community / village")


# The ancestor column that holds a region of each level; a community has all three.
ANCESTOR_FIELDS: dict[int, str] = {
    RegionLevel.CITY: "city",
    RegionLevel.DISTRICT: "district",
    RegionLevel.STREET: "street",
}


class CommunityType(models.TextChoices):
    NEW_URBAN = "new_urban", _("New urban area")
    OLD_URBAN = "old_urban", _("Old urban area")
    CONVERTED_VILLAGE = "converted_village", _("Village turned community")
    RURAL = "rural", _("Rural village")


class RegionQuerySet(models.QuerySet):
    def subtree(self, region: Region) -> RegionQuerySet:
        """The region itself and everything below it."""
        if region.level == RegionLevel.COMMUNITY:
            return self.filter(pk=region.pk)
        return self.filter(
            Q(pk=region.pk) | Q(**{ANCESTOR_FIELDS[region.level]: region})
        )

    def communities(self) -> RegionQuerySet:
        return self.filter(level=RegionLevel.COMMUNITY)


class Region(models.Model):
    """A city, district, street/town or community/village, keyed by its statistical code."""

    code = models.CharField(
        _("statistical code"),
        max_length=12,
        unique=True,
        validators=[REGION_CODE_VALIDATOR],
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Strict ancestors, denormalised from the parent chain (see the module docstring).
    city = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    community_type = models.CharField(
        _("community type"), max_length=20, choices=CommunityType.choices, blank=True
    )
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        permissions = [
            ("import_units", _("Can import regions, departments and accounts"))
        ]
        indexes = [
            models.Index(fields=["parent", "code"], name="region_children_idx"),
            models.Index(fields=["level", "community_type"], name="region_type_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level=RegionLevel.COMMUNITY) & ~Q(community_type="")
                    | ~Q(level=RegionLevel.COMMUNITY) & Q(community_type="")
                ),
                name="region_community_type_only_on_communities",
            ),
            models.CheckConstraint(
                condition=Q(level=RegionLevel.CITY, parent__isnull=True)
                | Q(level__gt=RegionLevel.CITY, parent__isnull=False),
                name="region_only_cities_are_roots",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        return self.get_level_display()

    def ancestor_ids(self) -> list[int]:
        """Ids of the strict ancestors, from the city down."""
        return [
            ancestor_id
            for ancestor_id in (self.city_id, self.district_id, self.street_id)
            if ancestor_id is not None
        ]


class DepartmentFamily(models.Model):
    """A line of government work (民政, 卫健 …) used to rank departments among peers."""

    name = models.CharField(_("name"), max_length=30, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("department family")
        verbose_name_plural = _("department families")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class DepartmentKind(models.TextChoices):
    FUNCTIONAL = "functional", _("Functional department")
    ORGANIZATION = "organization", _("Organization department")


# A department's level is the level of the region it serves.
DEPARTMENT_LEVEL_LABELS: dict[int, str] = {
    RegionLevel.CITY: _("City level"),
    RegionLevel.DISTRICT: _("District level"),
    RegionLevel.STREET: _("Street / town level"),
}


class Department(models.Model):
    """A government unit that serves a region: a functional department or the
    organization department that runs evaluations."""

    code = models.CharField(_("department code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=DepartmentKind.choices,
        default=DepartmentKind.FUNCTIONAL,
    )
    family = models.ForeignKey(
        DepartmentFamily,
        verbose_name=_("family"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region served"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    # What the department is responsible for (职责), as its own statement of
    # duties puts it: need routing matches a need's text against it, so a
    # department is asked even before it publishes an offering.
    duties = models.TextField(
        _("duties"),
        blank=True,
        help_text=_(
            "What the department is responsible for, in a few sentences: "
            "communities' needs are routed by it."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=DepartmentKind.ORGANIZATION) | Q(family__isnull=False),
                name="department_functional_has_family",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_label(self) -> str:
        return DEPARTMENT_LEVEL_LABELS.get(self.region.level, "")

    @property
    def kind_label(self) -> str:
        return self.get_kind_display()


class Role(models.TextChoices):
    COMMUNITY_OPERATOR = "community_operator", _("Community operator")
    DEPARTMENT_PUBLISHER = "department_publisher", _("Department publisher")
    DEPARTMENT_APPROVER = "department_approver", _("Department approver")
    STREET_OFFICE = "street_office", _("Street office")
    ORGANIZATION_DEPARTMENT = "organization_department", _("Organization department")
    ADMINISTRATOR = "administrator", _("Administrator")


REGION_ROLES = (Role.COMMUNITY_OPERATOR, Role.STREET_OFFICE)
DEPARTMENT_ROLES = (
    Role.DEPARTMENT_PUBLISHER,
    Role.DEPARTMENT_APPROVER,
    Role.ORGANIZATION_DEPARTMENT,
    Role.ADMINISTRATOR,
)


class MailPreference(models.TextChoices):
    """When a user's notifications also go out by e-mail (if a mail server is
    configured): a daily digest by default, so that a busy unit gets one mail a
    day rather than one per event."""

    DAILY = "daily", _("Daily digest")
    IMMEDIATE = "immediate", _("At once, one mail each")
    NEVER = "never", _("Never, only in the portal")


class User(AbstractUser):
    """An account of one official unit, with one role; there is no self-registration.

    The unit is a region (a community committee or a street office) or a
    department. ``first_name``/``last_name`` stay empty: Chinese names are kept
    whole in ``name``.
    """

    name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    notification_mail = models.CharField(
        _("notifications by e-mail"),
        max_length=10,
        choices=MailPreference.choices,
        default=MailPreference.DAILY,
    )

    REQUIRED_FIELDS = ["email", "role"]

    class Meta(AbstractUser.Meta):
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            # Exactly one unit, of the kind the role belongs to. A superuser made
            # from the shell for break-glass access is the only unit-less account.
            models.CheckConstraint(
                condition=Q(
                    role__in=REGION_ROLES, region__isnull=False, department__isnull=True
                )
                | Q(
                    role__in=DEPARTMENT_ROLES,
                    region__isnull=True,
                    department__isnull=False,
                )
                | Q(is_superuser=True, region__isnull=True, department__isnull=True),
                name="user_belongs_to_one_unit_of_its_role",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.username

    def get_full_name(self) -> str:
        return self.name or self.username

    def get_short_name(self) -> str:
        return self.name or self.username

    @property
    def unit(self) -> Region | Department | None:
        return self.region or self.department


class Notification(models.Model):
    """A message in one user's inbox (站内信), about something that happened to
    their unit's work; e-mailed too, at once or in the daily digest, as the
    user prefers. Written only by ``portal.services.notify``."""

    recipient = models.ForeignKey(
        User,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    # A path inside the portal (the thing the notification is about).
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set once the notification went out by mail, at once or in a digest, so
    # that a digest run twice in a day sends nothing twice.
    mailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["recipient", "read_at"], name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class HomePage(Page):
    """The portal's front page: what Diandan is, for visitors and signed-in users alike."""

    introduction = models.TextField(_("introduction"), blank=True)
    body = RichTextField(_("body"), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("introduction"),
        FieldPanel("body"),
    ]
    max_count = 1
    parent_page_types = ["wagtailcore.Page"]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["can_edit_content"] = request.user.has_perm("wagtailadmin.access_admin")
        return context


class ImportRun(models.Model):
    """One committed bulk import: who ran it, when, on which file, what it changed."""

    user = models.ForeignKey(
        User, verbose_name=_("run by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    file_name = models.CharField(_("file"), max_length=255)
    finished_at = models.DateTimeField(_("finished at"), auto_now_add=True)
    rows = models.PositiveIntegerField(_("rows"))
    created = models.JSONField(_("created"), default=dict)
    updated = models.JSONField(_("updated"), default=dict)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-finished_at"]

    def __str__(self) -> str:
        return self.file_name
