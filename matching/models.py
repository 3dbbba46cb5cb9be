"""Orders (点单) and what happens to them (配菜): one row per order, one event per
change of state. Needs (需求) that the catalog lacks, the departments' answers
to them, and the conversations of an order or a need between the community
and the department."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrderState(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    WAITLISTED = "waitlisted", _("Waitlisted")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    SCHEDULED = "scheduled", _("Scheduled")
    DELIVERED = "delivered", _("Delivered")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


# Orders still under way: they hold a community's place in a session.
ACTIVE_STATES = (
    OrderState.SUBMITTED,
    OrderState.WAITLISTED,
    OrderState.ACCEPTED,
    OrderState.SCHEDULED,
    OrderState.DELIVERED,
)
FINAL_STATES = (OrderState.REJECTED, OrderState.CONFIRMED, OrderState.CANCELLED)


class Order(models.Model):
    """A community's order of an offering: a session of a scheduled offering, or
    a wished period for one on request. Changed only through
    ``matching.services``, which records an ``OrderEvent`` for each change."""

    offering = models.ForeignKey(
        "catalog.OfferingPage",
        verbose_name=_("offering"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    # PROTECT: a session with orders cannot disappear under them.
    session = models.ForeignKey(
        "catalog.OfferingSession",
        verbose_name=_("session"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    community = models.ForeignKey(
        "portal.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    # The department answering, fixed when the order is placed.
    department = models.ForeignKey(
        "portal.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    participants = models.PositiveSmallIntegerField(_("participants"))
    wished_from = models.DateField(_("wished from"), null=True, blank=True)
    wished_to = models.DateField(_("wished until"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    note = models.TextField(_("note"), blank=True, max_length=1000)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=OrderState.choices,
        default=OrderState.SUBMITTED,
    )
    # Whether ``participants`` seats of the session are counted as taken.
    holds_seats = models.BooleanField(default=False, editable=False)
    # One per form shown: a second submit of the same form finds the first order.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    scheduled_at = models.DateTimeField(_("scheduled for"), null=True, blank=True)
    scheduled_place = models.CharField(_("place"), max_length=200, blank=True)
    scheduled_people = models.CharField(_("people coming"), max_length=200, blank=True)
    attendance = models.PositiveSmallIntegerField(_("attendance"), null=True)
    delivery_note = models.TextField(_("delivery note"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    placed_at = models.DateTimeField(_("placed at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "session"],
                condition=Q(state__in=ACTIVE_STATES),
                name="order_one_active_per_community_session",
            ),
            models.CheckConstraint(
                condition=Q(participants__gt=0), name="order_has_participants"
            ),
            models.CheckConstraint(
                condition=Q(holds_seats=False) | Q(session__isnull=False),
                name="order_holds_seats_of_a_session",
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state"], name="order_department_idx"),
            models.Index(fields=["community", "state"], name="order_community_idx"),
            models.Index(
                fields=["session", "state", "placed_at"], name="order_waitlist_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.offering_id}"


class StateChange(models.Model):
    """One change in the life of an order or a need: who took which action,
    when, and why. Each subclass adds what changed and from what to what."""

    # None: the portal itself (a promotion from the waiting list, an
    # escalation, an order that failed reopening its need).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(max_length=20)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]


class OrderEvent(StateChange):
    """One change of an order's state: who, when, from what to what, and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    # Empty for the event that placed the order.
    from_state = models.CharField(max_length=12, choices=OrderState.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=OrderState.choices)

    class Meta(StateChange.Meta):
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_state} → {self.to_state}"


# Needs (需求) ----------------------------------------------------------------


class NeedUrgency(models.TextChoices):
    LOW = "low", _("Not urgent")
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class NeedState(models.TextChoices):
    # Waiting for departments to answer, or for the community to accept one.
    OPEN = "open", pgettext_lazy("need state", "Open")
    # An order was placed from an accepted proposal and is under way.
    MATCHED = "matched", _("Matched")
    # That order was delivered and confirmed by the community.
    FULFILLED = "fulfilled", _("Fulfilled")
    # Withdrawn by the community, with a reason.
    CLOSED = "closed", pgettext_lazy("need state", "Closed")


class Need(models.Model):
    """Something a community needs that the catalog lacks. Changed only through
    ``matching.need_services``, which records a ``NeedEvent`` for each change
    and each answer."""

    community = models.ForeignKey(
        "portal.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="needs",
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=2000)
    # A subcategory, as offerings are filed under.
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="needs",
        limit_choices_to={"parent__isnull": False},
    )
    urgency = models.CharField(
        _("urgency"),
        max_length=10,
        choices=NeedUrgency.choices,
        default=NeedUrgency.NORMAL,
    )
    preferred_from = models.DateField(_("preferred from"), null=True, blank=True)
    preferred_to = models.DateField(_("preferred until"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=NeedState.choices, default=NeedState.OPEN
    )
    closed_reason = models.TextField(_("reason for closing"), blank=True)
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(preferred_from__isnull=True)
                | Q(preferred_to__isnull=True)
                | Q(preferred_to__gte=models.F("preferred_from")),
                name="need_preferred_period_in_order",
            ),
        ]
        indexes = [
            models.Index(fields=["community", "state"], name="need_community_idx"),
            models.Index(fields=["state", "category"], name="need_state_category_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class NeedSuggestion(models.Model):
    """A department the portal suggested to answer a need when it was posted
    (``matching.recommend``), with what the suggestion rests on, so the page
    can say why in the reader's language."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="suggestions")
    department = models.ForeignKey(
        "portal.Department", on_delete=models.CASCADE, related_name="+"
    )
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    # Open offerings serving the community: in the need's subcategory, and in
    # the other subcategories of its top category.
    same_category = models.PositiveSmallIntegerField(default=0)
    same_top_category = models.PositiveSmallIntegerField(default=0)
    # Share (0–1) of the department family's offerings in the need's top category.
    family_affinity = models.FloatField(default=0)
    # Titles of the department's offerings whose text is close to the need's.
    similar_titles = models.JSONField(default=list, blank=True)
    # Phrases of the need found in the department's duties (职责).
    duty_phrases = models.JSONField(default=list, blank=True)
    # Titles of past needs like this one that the department answered.
    similar_needs = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("suggested department")
        verbose_name_plural = _("suggested departments")
        ordering = ["need", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["need", "department"], name="need_suggestion_once"
            )
        ]
        indexes = [
            models.Index(fields=["department", "need"], name="need_suggested_to_idx")
        ]

    def __str__(self) -> str:
        return f"{self.need_id} → {self.department_id}"


class NeedResponseKind(models.TextChoices):
    PROPOSAL = "proposal", _("Proposal")
    DECLINE = "decline", _("Declined")


class NeedResponse(models.Model):
    """A department's answer to a need: one of its offerings proposed, or a
    reasoned decline. A proposal the community accepts leads to an order."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="responses")
    department = models.ForeignKey(
        "portal.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="need_responses",
    )
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(
        _("answer"), max_length=10, choices=NeedResponseKind.choices
    )
    offering = models.ForeignKey(
        "catalog.OfferingPage",
        verbose_name=_("offering"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The proposal's message to the community, or the reason for declining.
    note = models.TextField(_("note"), blank=True, max_length=1000)
    created_at = models.DateTimeField(_("answered at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # The order placed from this proposal while it is under way or done; set
    # back to None when that order is rejected or cancelled.
    order = models.OneToOneField(
        Order,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="need_response",
    )

    class Meta:
        verbose_name = _("answer to a need")
        verbose_name_plural = _("answers to needs")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=NeedResponseKind.PROPOSAL, offering__isnull=False)
                | Q(kind=NeedResponseKind.DECLINE, offering__isnull=True, order=None),
                name="need_response_proposes_an_offering",
            ),
            models.CheckConstraint(
                condition=Q(kind=NeedResponseKind.PROPOSAL) | ~Q(note=""),
                name="need_response_decline_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True)
                | Q(kind=NeedResponseKind.PROPOSAL),
                name="need_response_only_proposals_accepted",
            ),
            models.UniqueConstraint(
                fields=["need", "offering"],
                condition=Q(kind=NeedResponseKind.PROPOSAL),
                name="need_response_offering_proposed_once",
            ),
            models.UniqueConstraint(
                fields=["need", "department"],
                condition=Q(kind=NeedResponseKind.DECLINE),
                name="need_response_declined_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need_id}: {self.department_id} {self.kind}"


class NeedEvent(StateChange):
    """One step in a need's history: posted, answered, accepted, matched to an
    order, reopened, fulfilled or closed — who, when, from what to what."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="events")
    # Empty for the event that posted the need; equal to ``to_state`` for an
    # answer, which does not change the state.
    from_state = models.CharField(max_length=10, choices=NeedState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=NeedState.choices)
    response = models.ForeignKey(
        NeedResponse, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(StateChange.Meta):
        verbose_name = _("need event")
        verbose_name_plural = _("need events")

    def __str__(self) -> str:
        return f"{self.need_id}: {self.from_state} → {self.to_state}"


# Conversations ----------------------------------------------------------------


class Message(models.Model):
    """One message of the conversation of an order or of a need, between the
    community and the department(s) answering it — in place of a WeChat group.
    Written only by ``matching.need_services.message_post``."""

    # Exactly one of the two is set: the thread the message belongs to.
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    need = models.ForeignKey(
        Need, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("message"), max_length=2000)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False, need__isnull=True)
                | Q(order__isnull=True, need__isnull=False),
                name="message_in_exactly_one_thread",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="message_not_empty"),
        ]
        indexes = [
            models.Index(fields=["order", "created_at"], name="message_order_idx"),
            models.Index(fields=["need", "created_at"], name="message_need_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.body[:30]}"


# Ordering campaigns (点单季) ---------------------------------------------------


class CampaignState(models.TextChoices):
    # Being prepared by the organization department; communities do not see it.
    DRAFT = "draft", _("Draft")
    # Communities of the area rank sessions until the closing day.
    OPEN = "open", pgettext_lazy("campaign state", "Open")
    # Ranking is over: both mechanisms' allocations are stored for the preview.
    CLOSED = "closed", pgettext_lazy("campaign state", "Closed")
    # The chosen allocation became orders.
    PUBLISHED = "published", _("Published")


class CampaignPriority(models.TextChoices):
    NONE = "none", _("None: every community alike")
    LEAST_RECEIVED = (
        "least_received",
        _("Communities that received least in earlier campaigns first"),
    )
    OPEN_NEEDS = (
        "open_needs",
        _("Communities with open needs in the sessions' categories first"),
    )


class CampaignMechanism(models.TextChoices):
    # The values are matching.allocation's mechanism names.
    WELFARE = "welfare", _("Most welfare (min-cost flow)")
    DEFERRED_ACCEPTANCE = (
        "deferred_acceptance",
        _("Deferred acceptance (strategy-proof)"),
    )


def campaign_seed() -> int:
    """A fresh lottery seed: drawn once when the campaign is created, stored,
    so anyone may rerun the allocation and find the same result."""
    return secrets.randbelow(2**31)


class Campaign(models.Model):
    """An ordering campaign (点单季): the organization department offers seats
    of a set of sessions, the communities of its area rank up to
    ``max_choices`` of them, and at close the seats are allocated (no first
    come, first served). Changed only through ``matching.campaign_services``,
    which records a ``CampaignEvent`` for each change of state."""

    organizer = models.ForeignKey(
        "portal.Department",
        verbose_name=_("organizer"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    # The communities below this region take part.
    area = models.ForeignKey(
        "portal.Region",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    opens_on = models.DateField(_("ranking opens on"))
    closes_on = models.DateField(_("ranking closes on"))
    quota = models.PositiveSmallIntegerField(_("seats per community"), default=3)
    max_choices = models.PositiveSmallIntegerField(
        _("choices per community"), default=5
    )
    priority_rule = models.CharField(
        _("priority"),
        max_length=20,
        choices=CampaignPriority.choices,
        default=CampaignPriority.NONE,
    )
    mechanism = models.CharField(
        _("allocation"),
        max_length=20,
        choices=CampaignMechanism.choices,
        default=CampaignMechanism.WELFARE,
    )
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=CampaignState.choices,
        default=CampaignState.DRAFT,
    )
    seed = models.PositiveIntegerField(_("lottery seed"), default=campaign_seed)
    # Per mechanism, the figures of its allocation (matching.campaign_services
    # ``STATISTICS_FIELDS``), written at close so the preview never changes.
    statistics = models.JSONField(default=dict, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ordering campaign")
        verbose_name_plural = _("ordering campaigns")
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")),
                name="campaign_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=Q(quota__gt=0, max_choices__gt=0),
                name="campaign_quota_and_choices_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "closes_on"], name="campaign_state_idx")
        ]

    def __str__(self) -> str:
        return self.name


class CampaignSession(models.Model):
    """A session of the catalog offered in a campaign, with how many of its
    seats the campaign allocates (one seat: one community's place)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="sessions"
    )
    session = models.ForeignKey(
        "catalog.OfferingSession",
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The department answering the orders, fixed when the session is added.
    department = models.ForeignKey(
        "portal.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    seats = models.PositiveIntegerField(_("seats offered"))

    class Meta:
        verbose_name = _("campaign session")
        verbose_name_plural = _("campaign sessions")
        ordering = ["session__starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "session"], name="campaign_session_once"
            ),
            models.CheckConstraint(
                condition=Q(seats__gt=0), name="campaign_session_has_seats"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.session_id}"


class CampaignChoice(models.Model):
    """A community's ``rank``-th choice (from 1) in a campaign. When it was
    made plays no part in the allocation."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="choices"
    )
    community = models.ForeignKey(
        "portal.Region", on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        CampaignSession, on_delete=models.CASCADE, related_name="choices"
    )
    rank = models.PositiveSmallIntegerField(_("rank"))

    class Meta:
        verbose_name = _("campaign choice")
        verbose_name_plural = _("campaign choices")
        ordering = ["campaign", "community", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "community", "rank"],
                name="campaign_choice_rank_once",
            ),
            models.UniqueConstraint(
                fields=["campaign", "community", "session"],
                name="campaign_choice_session_once",
            ),
            models.CheckConstraint(
                condition=Q(rank__gt=0), name="campaign_choice_rank_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} #{self.rank}: {self.session_id}"


class CampaignAssignment(models.Model):
    """A seat the allocation of ``mechanism`` gives a community at close.
    Both mechanisms' rows are kept for the preview; publishing turns those of
    the campaign's mechanism into orders and links them here."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="assignments"
    )
    mechanism = models.CharField(max_length=20, choices=CampaignMechanism.choices)
    community = models.ForeignKey(
        "portal.Region", on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        CampaignSession, on_delete=models.CASCADE, related_name="assignments"
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    # Set at publishing; None where the seat could not be taken after all
    # (booked meanwhile) or the community already had an order of the session.
    order = models.OneToOneField(
        Order,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaign_assignment",
    )

    class Meta:
        verbose_name = _("campaign seat")
        verbose_name_plural = _("campaign seats")
        ordering = ["campaign", "mechanism", "community", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "mechanism", "community", "session"],
                name="campaign_assignment_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.mechanism}: {self.community_id}"


class CampaignEvent(StateChange):
    """One change of a campaign's state: who, when, from what to what."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(
        max_length=10, choices=CampaignState.choices, blank=True
    )
    to_state = models.CharField(max_length=10, choices=CampaignState.choices)

    class Meta(StateChange.Meta):
        verbose_name = _("campaign event")
        verbose_name_plural = _("campaign events")

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.from_state} → {self.to_state}"
