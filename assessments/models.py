"""Reverse evaluation (反向评价): communities and street offices score the
departments on how much burden they really take off them.

A ``Questionnaire`` version holds weighted dimensions and questions; an
``EvaluationRound`` asks the units of an area to answer it about chosen
departments. Anonymity is built into the storage (docs/subsystems/anonymity.md):

- ``Participation`` says *who* has answered about which department — one row
  per unit asked, with the day it answered and nothing it said;
- ``Response`` and its ``Answer`` rows say *what* was answered — a random id,
  the round, the department and the respondent class, never a unit, a user or
  a time — written in the same transaction as the participation;
- free-text ``Comment`` rows wait for the organization department to release
  or redact them before a department reads them.

At close the round's results are computed once (``DepartmentResult``,
``QuestionResult``) with the formula version and weights stored beside them;
numbers are stored only where at least ``min_responses`` units answered.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

from matching.models import StateChange

# The code refuses rounds that would show figures of fewer units than this.
MIN_RESPONSES_FLOOR = 3
MIN_RESPONSES_DEFAULT = 5


class QuestionKind(models.TextChoices):
    LIKERT = "likert", _("Scale of 1 to 5")
    YES_NO = "yes_no", _("Yes or no")
    COUNT = "count", _("A number (e.g. meetings attended)")
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    TEXT = "text", _("Free text")


# Kinds whose answers turn into a 0–100 score.
SCORED_KINDS = (
    QuestionKind.LIKERT,
    QuestionKind.YES_NO,
    QuestionKind.COUNT,
    QuestionKind.SINGLE,
)


class Direction(models.TextChoices):
    HIGHER_BETTER = "higher", _("Higher is better")
    LOWER_BETTER = "lower", _("Lower is better")


class RespondentClass(models.TextChoices):
    COMMUNITY = "community", _("Communities")
    STREET = "street", _("Street offices")


class Questionnaire(ClusterableModel):
    """One version of an evaluation form: its dimensions and questions.

    Editors write a version until a round first uses it; from then on it is
    frozen, so that every answer keeps the questions it answered. A change is
    made in a new version (the same ``lineage``, the next ``version``)."""

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    # Every version of one questionnaire shares its lineage.
    lineage = models.UUIDField(default=uuid.uuid4, editable=False)
    version = models.PositiveSmallIntegerField(_("version"), default=1, editable=False)
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("based on"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    frozen_at = models.DateTimeField(_("frozen at"), null=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("description"),
        InlinePanel("dimensions", heading=_("Dimensions"), min_num=1),
        InlinePanel("questions", heading=_("Questions"), min_num=1),
    ]

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["title", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["lineage", "version"], name="questionnaire_one_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Dimension(Orderable):
    """A weighted part of the score, e.g. 文件会议精简 (documents and meetings)."""

    questionnaire = ParentalKey(
        Questionnaire, on_delete=models.CASCADE, related_name="dimensions"
    )
    code = models.SlugField(
        _("code"),
        max_length=30,
        help_text=_("Short Latin name that questions refer to, e.g. meetings."),
    )
    name = models.CharField(_("name"), max_length=50)
    description = models.CharField(_("description"), max_length=300, blank=True)
    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Relative weight in the total score."),
    )

    panels = [
        FieldRowPanel([FieldPanel("code"), FieldPanel("name"), FieldPanel("weight")]),
        FieldPanel("description"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("dimension")
        verbose_name_plural = _("dimensions")
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="dimension_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Question(Orderable):
    """One question of a questionnaire, in one of its dimensions.

    Scored kinds turn each answer into 0–100 (see ``assessments.scoring``):
    a scale of 1 to 5 and yes/no by ``direction``; a number against
    ``scale_max`` (with "lower is better", ``scale_max`` and more meetings
    score 0); one choice by the score given to each option. Several choices and
    free text are reported, not scored. ``show_if`` shows a question only
    when an earlier one was answered with one of ``show_if_values``."""

    questionnaire = ParentalKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    dimension_code = models.SlugField(
        _("dimension"), max_length=30, help_text=_("The code of its dimension.")
    )
    code = models.SlugField(_("code"), max_length=30)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("explanation"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    weight = models.DecimalField(
        _("weight"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Relative weight within its dimension; 0 reports without scoring."),
    )
    direction = models.CharField(
        _("direction"),
        max_length=10,
        choices=Direction.choices,
        default=Direction.HIGHER_BETTER,
    )
    required = models.BooleanField(_("required"), default=True)
    options = models.TextField(
        _("options"),
        blank=True,
        help_text=_(
            "Choices only: one option per line, optionally with its score "
            "after a bar, e.g. “每月一次以上|20”."
        ),
    )
    scale_max = models.PositiveIntegerField(
        _("number that scores fully"),
        null=True,
        blank=True,
        help_text=_(
            "Numbers only: with “lower is better”, this many or more scores 0; "
            "with “higher is better”, this many or more scores 100."
        ),
    )
    show_if = models.SlugField(
        _("show only if question"),
        max_length=30,
        blank=True,
        help_text=_("The code of an earlier question."),
    )
    show_if_values = models.CharField(
        _("was answered with"),
        max_length=100,
        blank=True,
        help_text=_(
            "Comma-separated answers: 1 for yes and 0 for no, 1–5 on a scale, "
            "option numbers from 1 for a choice."
        ),
    )

    panels = [
        FieldRowPanel(
            [FieldPanel("dimension_code"), FieldPanel("code"), FieldPanel("kind")]
        ),
        FieldPanel("text"),
        FieldPanel("help_text"),
        FieldRowPanel(
            [FieldPanel("weight"), FieldPanel("direction"), FieldPanel("required")]
        ),
        FieldPanel("options"),
        FieldPanel("scale_max"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("show_if"), FieldPanel("show_if_values")])],
            heading=_("Display condition"),
        ),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="question_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_scored(self) -> bool:
        return self.kind in SCORED_KINDS and self.weight > 0


class RoundState(models.TextChoices):
    # Being prepared by the organization department; nobody is asked yet.
    DRAFT = "draft", _("Draft")
    # Units answer; departments see nothing.
    OPEN = "open", _("Open")
    # Answers are in and the results computed; the organization department
    # reviews them and the comments; departments see nothing yet.
    CLOSED = "closed", _("Closed")
    # Departments see their results, rankings and released comments.
    PUBLISHED = "published", _("Published")


class RespondentScope(models.TextChoices):
    ALL = "all", _("Every community of the area")
    SERVED = "served", _("Communities the department delivered orders to")


class EvaluationRound(models.Model):
    """One period of reverse evaluation (测评轮次) run by an organization
    department over its area: which departments are evaluated, by whom, with
    which questionnaire version, and how the respondent classes weigh (the
    Pudong "7+3" is communities 0.7 and street offices 0.3)."""

    name = models.CharField(_("name"), max_length=100)
    organizer = models.ForeignKey(
        "portal.Department",
        verbose_name=_("organized by"),
        on_delete=models.PROTECT,
        related_name="evaluation_rounds",
    )
    # The organizer's region, fixed when the round is made.
    area = models.ForeignKey(
        "portal.Region",
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="evaluation_rounds",
    )
    questionnaire = models.ForeignKey(
        Questionnaire,
        verbose_name=_("questionnaire"),
        on_delete=models.PROTECT,
        related_name="rounds",
    )
    departments = models.ManyToManyField(
        "portal.Department",
        verbose_name=_("departments evaluated"),
        related_name="+",
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"))
    respondent_scope = models.CharField(
        _("communities asked"),
        max_length=10,
        choices=RespondentScope.choices,
        default=RespondentScope.ALL,
    )
    community_weight = models.DecimalField(
        _("weight of communities"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    street_weight = models.DecimalField(
        _("weight of street offices"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    min_responses = models.PositiveSmallIntegerField(
        _("minimum number of answers"),
        default=MIN_RESPONSES_DEFAULT,
        validators=[MinValueValidator(MIN_RESPONSES_FLOOR)],
        help_text=_(
            "Figures of a department show only where this many units answered."
        ),
    )
    rectification_threshold = models.DecimalField(
        _("rectification below"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("60"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_(
            "A department whose total falls below this gets a rectification item."
        ),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=RoundState.choices, default=RoundState.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    reminded_at = models.DateTimeField(_("last reminder"), null=True, blank=True)

    class Meta:
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        ordering = ["-opens_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_responses__gte=MIN_RESPONSES_FLOOR),
                name="round_min_responses_at_least_three",
            ),
            models.CheckConstraint(
                condition=Q(community_weight__gt=0) | Q(street_weight__gt=0),
                name="round_someone_answers",
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on"))
                & Q(period_end__gte=models.F("period_start")),
                name="round_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def class_weights(self) -> dict[str, Decimal]:
        """The weight of each respondent class that answers this round."""
        weights = {
            RespondentClass.COMMUNITY: self.community_weight,
            RespondentClass.STREET: self.street_weight,
        }
        return {name: weight for name, weight in weights.items() if weight > 0}


class RoundEvent(StateChange):
    """One change of a round's state: who, when, from what to what."""

    round = models.ForeignKey(
        EvaluationRound, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(max_length=10, choices=RoundState.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=RoundState.choices)

    class Meta(StateChange.Meta):
        verbose_name = _("round event")
        verbose_name_plural = _("round events")


class Participation(models.Model):
    """That a unit was asked, and whether it has answered, about a department
    in a round: who answered, never what. ``answered_on`` is a day, not a
    time, so that it cannot be lined up with the order answers arrive in."""

    round = models.ForeignKey(
        EvaluationRound, on_delete=models.CASCADE, related_name="participations"
    )
    unit = models.ForeignKey(
        "portal.Region", on_delete=models.PROTECT, related_name="participations"
    )
    department = models.ForeignKey(
        "portal.Department", on_delete=models.PROTECT, related_name="+"
    )
    respondent_class = models.CharField(max_length=10, choices=RespondentClass.choices)
    answered_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "unit", "department"],
                name="participation_once_per_unit_and_department",
            )
        ]
        indexes = [
            models.Index(
                fields=["round", "answered_on"], name="participation_done_idx"
            ),
            models.Index(fields=["unit", "round"], name="participation_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} → {self.department_id} ({self.round_id})"


class Response(models.Model):
    """What one unit answered about one department, without saying which unit:
    no unit, no user, no time, and a random id rather than a number that
    would tell the order answers came in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(
        EvaluationRound, on_delete=models.CASCADE, related_name="responses"
    )
    department = models.ForeignKey(
        "portal.Department", on_delete=models.PROTECT, related_name="+"
    )
    respondent_class = models.CharField(max_length=10, choices=RespondentClass.choices)

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        indexes = [
            models.Index(fields=["round", "department"], name="response_department_idx")
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.department_id}"


class Answer(models.Model):
    """One answer of a response. ``value`` is the number answered: 1–5 on a
    scale, 1 or 0 for yes or no, the count, or the option's number (from 1)
    for one choice; several choices set one bit per option (option n: bit
    n − 1). Free text is kept as a ``Comment``."""

    pk = models.CompositePrimaryKey("response_id", "question_id")
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers"
    )
    value = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"


class CommentState(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    RELEASED = "released", _("Released")
    REDACTED = "redacted", _("Released with changes")
    WITHHELD = "withheld", _("Withheld")


class Comment(models.Model):
    """A free-text answer. The department reads it only after the organization
    department released it, as written or with what could identify the unit
    taken out (``released_text``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(
        EvaluationRound, on_delete=models.CASCADE, related_name="comments"
    )
    department = models.ForeignKey(
        "portal.Department", on_delete=models.PROTECT, related_name="+"
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="comments"
    )
    text = models.TextField(_("comment"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=CommentState.choices,
        default=CommentState.PENDING,
    )
    released_text = models.TextField(_("text released"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [
            models.Index(fields=["round", "department"], name="comment_department_idx")
        ]

    def __str__(self) -> str:
        return self.text[:50]


class RoundResult(models.Model):
    """How a round's results were computed: the formula version and every
    weight, kept with the results so that they can be explained later."""

    round = models.OneToOneField(
        EvaluationRound, on_delete=models.CASCADE, related_name="result"
    )
    formula_version = models.CharField(max_length=20)
    # Dimension and question weights, class weights, k, threshold.
    weights = models.JSONField()
    computed_at = models.DateTimeField()
    responses = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("round result")
        verbose_name_plural = _("round results")

    def __str__(self) -> str:
        return f"{self.round_id} ({self.formula_version})"


class DepartmentResult(models.Model):
    """A department's scores in a round. Scores are null where fewer than the
    round's ``min_responses`` units answered: they are never stored, so no
    page can show them by mistake."""

    round = models.ForeignKey(
        EvaluationRound, on_delete=models.CASCADE, related_name="department_results"
    )
    department = models.ForeignKey(
        "portal.Department", on_delete=models.PROTECT, related_name="evaluation_results"
    )
    # Copied from the department at close: peer groups stay as they were.
    family = models.ForeignKey(
        "portal.DepartmentFamily",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # {class: n answered} and {class: n asked}.
    answered = models.JSONField(default=dict)
    asked = models.JSONField(default=dict)
    # {class: total}, {dimension code: {class: score, "composite": score}}.
    class_totals = models.JSONField(default=dict)
    dimensions = models.JSONField(default=dict)
    total = models.FloatField(null=True)
    rank_overall = models.PositiveSmallIntegerField(null=True)
    ranked_overall = models.PositiveSmallIntegerField(null=True)
    rank_in_family = models.PositiveSmallIntegerField(null=True)
    ranked_in_family = models.PositiveSmallIntegerField(null=True)
    previous_total = models.FloatField(null=True)
    # Outliers and drops found at close, as codes (assessments.scoring.FLAGS).
    flags = models.JSONField(default=list)

    class Meta:
        verbose_name = _("department result")
        verbose_name_plural = _("department results")
        ordering = ["rank_overall", "department__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "department"], name="result_once_per_department"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.department_id}: {self.total}"

    @property
    def change(self) -> float | None:
        if self.total is None or self.previous_total is None:
            return None
        return self.total - self.previous_total


class QuestionResult(models.Model):
    """One question's figures for a department and respondent class: how many
    answered, the mean, the 0–100 score and the distribution of answers —
    null (and an empty distribution) below the round's ``min_responses``."""

    round = models.ForeignKey(
        EvaluationRound, on_delete=models.CASCADE, related_name="question_results"
    )
    department = models.ForeignKey(
        "portal.Department", on_delete=models.PROTECT, related_name="+"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    respondent_class = models.CharField(max_length=10, choices=RespondentClass.choices)
    answered = models.PositiveIntegerField()
    mean = models.FloatField(null=True)
    score = models.FloatField(null=True)
    # {answer value as text: how many}, or for several choices {option: how many}.
    distribution = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("question result")
        verbose_name_plural = _("question results")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "department", "question", "respondent_class"],
                name="question_result_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.department_id}/{self.question_id}"


class RectificationState(models.TextChoices):
    # The department has to say what it will change.
    OPEN = "open", _("Plan due")
    # Its plan is in; it reports progress.
    UNDER_WAY = "under_way", _("Under way")
    # It reports the work done; the organization department checks.
    REPORTED = "reported", _("Reported done")
    # The organization department accepted it.
    CLOSED = "closed", _("Closed")


class Rectification(models.Model):
    """A follow-up item (整改) for a department whose total fell below the
    round's threshold: its plan, its progress, and the next round's total
    that checks it again."""

    round = models.ForeignKey(
        EvaluationRound, on_delete=models.PROTECT, related_name="rectifications"
    )
    department = models.ForeignKey(
        "portal.Department", on_delete=models.PROTECT, related_name="rectifications"
    )
    # The total and the dimensions below the threshold, by code, at publishing.
    total = models.FloatField()
    dimensions = models.JSONField(default=list)
    plan = models.TextField(_("plan"), blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=RectificationState.choices,
        default=RectificationState.OPEN,
    )
    # Set when a later round's results are published.
    recheck_round = models.ForeignKey(
        EvaluationRound,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recheck_total = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "department"], name="rectification_once_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.department_id}"


class RectificationEvent(StateChange):
    """A step of a rectification: the plan, progress, the report, the check."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(max_length=10, choices=RectificationState.choices)
    to_state = models.CharField(max_length=10, choices=RectificationState.choices)

    class Meta(StateChange.Meta):
        verbose_name = _("rectification event")
        verbose_name_plural = _("rectification events")


def reports_storage():
    """Where PDFs are kept: outside the media served to anyone, downloaded
    only through the views that check who may read them."""
    return storages["reports"]


class ReportKind(models.TextChoices):
    CARD = "card", _("Department report card")
    BULLETIN = "bulletin", _("Round bulletin")


class ReportState(models.TextChoices):
    PENDING = "pending", _("Being generated")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Report(models.Model):
    """A PDF made from a published round: a department's report card or the
    round's bulletin, stored once and downloaded by those allowed."""

    round = models.ForeignKey(
        EvaluationRound, on_delete=models.CASCADE, related_name="reports"
    )
    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    # The department of a report card; null for the bulletin.
    department = models.ForeignKey(
        "portal.Department", null=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=ReportState.choices, default=ReportState.PENDING
    )
    file = models.FileField(upload_to="%Y/", storage=reports_storage, blank=True)
    pages = models.PositiveSmallIntegerField(null=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "department"],
                condition=Q(department__isnull=False),
                name="report_card_once",
            ),
            models.UniqueConstraint(
                fields=["round"],
                condition=Q(department__isnull=True),
                name="report_bulletin_once",
            ),
            models.CheckConstraint(
                condition=Q(kind=ReportKind.BULLETIN, department__isnull=True)
                | Q(kind=ReportKind.CARD, department__isnull=False),
                name="report_card_has_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.round_id}/{self.department_id or '-'}"
