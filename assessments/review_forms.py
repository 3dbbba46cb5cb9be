"""Forms of the review pages: a round's settings, its lifecycle's actions,
the decision on a comment and the steps of a rectification item. They check
the shape of what was typed and hand it to ``assessments.services``; what the
services refuse comes back as a form error, with nothing saved."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessments.lifecycle import Transition
from assessments.models import (
    MIN_RESPONSES_DEFAULT,
    MIN_RESPONSES_FLOOR,
    Comment,
    CommentState,
    EvaluationRound,
    Questionnaire,
    Rectification,
    RespondentScope,
)
from assessments.selectors import departments_to_evaluate
from assessments.services import (
    EvaluationError,
    comment_review,
    rectification_act,
    round_close,
    round_open,
    round_problems,
    round_publish,
    round_remind,
    round_save,
)
from portal.models import Department, DepartmentFamily, User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

# The weights of communities and street offices a round is usually given.
PRESET_COMMUNITIES = "communities"
PRESET_SEVEN_THREE = "seven_three"
PRESET_CUSTOM = "custom"
WEIGHT_PRESETS: dict[str, tuple[Decimal, Decimal]] = {
    PRESET_COMMUNITIES: (Decimal("1"), Decimal("0")),
    PRESET_SEVEN_THREE: (Decimal("0.7"), Decimal("0.3")),
}
# The name a new round is offered: the quarter it evaluates.
QUARTER_NAMES = {
    1: _("%(year)s, first quarter"),
    2: _("%(year)s, second quarter"),
    3: _("%(year)s, third quarter"),
    4: _("%(year)s, fourth quarter"),
}


class QuestionnaireChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Questionnaire) -> str:
        state = _("frozen, used by a round") if obj.is_frozen else _("editable")
        return _("%(title)s, version %(version)s (%(state)s)") % {
            "title": obj.title,
            "version": obj.version,
            "state": state,
        }


class DepartmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return obj.name


@dataclass(frozen=True)
class DepartmentGroup:
    """The departments of one family, as the round form lists them."""

    family: DepartmentFamily | None
    choices: list[forms.boundfield.BoundWidget]


def _quarter(today: date) -> tuple[date, date, int]:
    quarter = (today.month - 1) // 3 + 1
    start = date(today.year, 3 * quarter - 2, 1)
    end_month = 3 * quarter
    end = (
        date(today.year + 1, 1, 1)
        if end_month == 12
        else date(today.year, end_month + 1, 1)
    ) - timedelta(days=1)
    return start, end, quarter


class RoundForm(forms.Form):
    """Every setting of a round, for its organization department; the
    service checks them as a whole (``round_problems``) and its findings
    stand at their fields."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_(
            "How units and departments will see the round, e.g. 2026年第四季度."
        ),
    )
    questionnaire = QuestionnaireChoiceField(
        label=_("Questionnaire version"),
        queryset=Questionnaire.objects.none(),
        empty_label=None,
        help_text=_(
            "Latest versions first. The version is frozen when the round opens, so "
            "that every answer keeps the questions it answered."
        ),
    )
    period_start = forms.DateField(label=_("Period evaluated from"), widget=DATE_INPUT)
    period_end = forms.DateField(label=_("Period evaluated until"), widget=DATE_INPUT)
    opens_on = forms.DateField(
        label=_("Opens on"),
        widget=DATE_INPUT,
        help_text=_(
            "The schedule opens the round that morning, unless you open it first."
        ),
    )
    closes_on = forms.DateField(
        label=_("Closes on"),
        widget=DATE_INPUT,
        help_text=_("Units answer until the end of this day."),
    )
    all_departments = forms.BooleanField(
        label=_("Every functional department of the area"),
        required=False,
        help_text=_("Or choose the departments below."),
    )
    departments = DepartmentChoiceField(
        label=_("Departments evaluated"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    respondent_scope = forms.ChoiceField(
        label=_("Communities asked"),
        choices=RespondentScope.choices,
        widget=forms.RadioSelect,
        initial=RespondentScope.ALL,
        help_text=_(
            "“Delivered orders” asks each community only about the departments "
            "that delivered orders to it in the period evaluated."
        ),
    )
    weights_preset = forms.ChoiceField(
        label=_("Who evaluates, and how much each counts"),
        choices=[
            (PRESET_COMMUNITIES, _("Communities only (1 + 0)")),
            (
                PRESET_SEVEN_THREE,
                _("“7 + 3”: communities 0.7, street offices 0.3"),
            ),
            (PRESET_CUSTOM, _("Other weights")),
        ],
        widget=forms.RadioSelect,
        initial=PRESET_COMMUNITIES,
    )
    community_weight = forms.DecimalField(
        label=_("Weight of communities"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        max_digits=3,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    street_weight = forms.DecimalField(
        label=_("Weight of street offices"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("1"),
        max_digits=3,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text=_("With other weights only; the two add up to 1."),
    )
    min_responses = forms.IntegerField(
        label=_("Minimum number of answers (k)"),
        initial=MIN_RESPONSES_DEFAULT,
        max_value=1000,
        widget=forms.NumberInput(attrs={"min": MIN_RESPONSES_FLOOR, "step": 1}),
    )
    rectification_threshold = forms.DecimalField(
        label=_("Rectification below this total"),
        initial=Decimal("60"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        help_text=_(
            "When the results are published, a department whose total falls below "
            "it gets a rectification item (整改)."
        ),
    )

    def __init__(
        self,
        *args: Any,
        user: User,
        evaluation_round: EvaluationRound | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.evaluation_round = evaluation_round
        self.fields["questionnaire"].queryset = Questionnaire.objects.order_by(
            "-created_at", "-version"
        )
        self.fields["departments"].queryset = departments_to_evaluate(user)
        self.fields["min_responses"].help_text = gettext(
            "A department's figures show only where at least this many units "
            "answered about it, so that no answer can be traced back to the unit "
            "that gave it. The portal refuses fewer than %(floor)s."
        ) % {"floor": MIN_RESPONSES_FLOOR}
        if evaluation_round is not None:
            self.initial.update(self._initial_of(evaluation_round))
        else:
            start, end, quarter = _quarter(timezone.localdate())
            today = timezone.localdate()
            self.initial.setdefault(
                "name", str(QUARTER_NAMES[quarter]) % {"year": start.year}
            )
            self.initial.setdefault("period_start", start)
            self.initial.setdefault("period_end", end)
            self.initial.setdefault("opens_on", today)
            self.initial.setdefault("closes_on", today + timedelta(days=14))
            self.initial.setdefault("all_departments", True)
            first = self.fields["questionnaire"].queryset.first()
            if first is not None:
                self.initial.setdefault("questionnaire", first.pk)

    @staticmethod
    def _initial_of(evaluation_round: EvaluationRound) -> dict[str, Any]:
        weights = (evaluation_round.community_weight, evaluation_round.street_weight)
        preset = next(
            (name for name, pair in WEIGHT_PRESETS.items() if pair == weights),
            PRESET_CUSTOM,
        )
        return {
            "name": evaluation_round.name,
            "questionnaire": evaluation_round.questionnaire_id,
            "period_start": evaluation_round.period_start,
            "period_end": evaluation_round.period_end,
            "opens_on": evaluation_round.opens_on,
            "closes_on": evaluation_round.closes_on,
            "departments": list(
                evaluation_round.departments.values_list("pk", flat=True)
            ),
            "respondent_scope": evaluation_round.respondent_scope,
            "weights_preset": preset,
            "community_weight": evaluation_round.community_weight,
            "street_weight": evaluation_round.street_weight,
            "min_responses": evaluation_round.min_responses,
            "rectification_threshold": evaluation_round.rectification_threshold,
        }

    def department_groups(self) -> Iterator[DepartmentGroup]:
        """The department checkboxes by family, in the families' order."""
        departments = {d.pk: d for d in self.fields["departments"].queryset}
        group: DepartmentGroup | None = None
        for choice in self["departments"]:
            department = departments[choice.data["value"].value]
            if group is None or group.family != department.family:
                if group is not None:
                    yield group
                group = DepartmentGroup(family=department.family, choices=[])
            group.choices.append(choice)
        if group is not None:
            yield group

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("all_departments"):
            cleaned["departments"] = list(self.fields["departments"].queryset)
        preset = cleaned.get("weights_preset")
        if preset in WEIGHT_PRESETS:
            cleaned["community_weight"], cleaned["street_weight"] = WEIGHT_PRESETS[
                preset
            ]
        elif preset == PRESET_CUSTOM:
            for name in ("community_weight", "street_weight"):
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Give the weight, from 0 to 1."))
        needed = (
            "period_start",
            "period_end",
            "opens_on",
            "closes_on",
            "community_weight",
            "street_weight",
            "min_responses",
        )
        if all(cleaned.get(name) is not None for name in needed):
            problems = round_problems(
                area=self._area(),
                departments=cleaned.get("departments") or [],
                **{name: cleaned[name] for name in needed},
            )
            for name, message in problems.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, message)
                elif name not in self.fields:
                    self.add_error(None, message)
        return cleaned

    def _area(self):
        if self.evaluation_round is not None:
            return self.evaluation_round.area
        return self.user.department.region

    def save(self) -> EvaluationRound | None:
        """Create or change the round; None, with the service's refusal among
        the form's errors, when it is refused. Call after ``is_valid()``;
        ``PermissionDenied`` passes through."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "name",
                "questionnaire",
                "period_start",
                "period_end",
                "opens_on",
                "closes_on",
                "respondent_scope",
                "community_weight",
                "street_weight",
                "min_responses",
                "rectification_threshold",
            )
        }
        try:
            return round_save(
                user=self.user,
                evaluation_round=self.evaluation_round,
                departments=data["departments"],
                **fields,
            )
        except EvaluationError as error:
            self.add_error(None, str(error))
            return None


# Round actions ---------------------------------------------------------------------

REMIND = "remind"


class RoundActionForm(forms.Form):
    """One step of a round's life (open, close, publish) or the reminder.
    The first post asks for confirmation; the confirmed one acts."""

    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        evaluation_round: EvaluationRound,
        action: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.evaluation_round = evaluation_round
        self.action = action

    @property
    def is_confirmed(self) -> bool:
        return self.is_valid() and self.cleaned_data["confirmed"]

    def act(self, *, user: User) -> str | None:
        """Take the action; the error in words, when it is refused (also
        among the form's errors). ``PermissionDenied`` passes through."""
        evaluation_round = self.evaluation_round
        try:
            if self.action == "open":
                round_open(evaluation_round=evaluation_round, user=user)
            elif self.action == "close":
                round_close(evaluation_round=evaluation_round, user=user)
            elif self.action == "publish":
                round_publish(evaluation_round=evaluation_round, user=user)
            elif self.action == REMIND:
                round_remind(evaluation_round=evaluation_round, user=user)
            else:
                raise ValueError(self.action)
        except EvaluationError as error:
            self.add_error(None, str(error))
            return str(error)
        return None


# Comments -------------------------------------------------------------------------


class CommentReviewForm(forms.Form):
    """The organization department's decision on one free-text comment."""

    comment = forms.UUIDField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[
            (CommentState.RELEASED, _("Release as written")),
            (CommentState.REDACTED, _("Release with changes")),
            (CommentState.WITHHELD, _("Withhold")),
        ]
    )
    released_text = forms.CharField(
        label=_("Text the department reads"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "For “Release with changes”: take out names, places and anything "
            "else that could tell which unit wrote it."
        ),
    )

    def __init__(self, *args: Any, comment: Comment | None = None, **kwargs: Any):
        if comment is not None:
            # One form per comment on the page: ids of their own, same names.
            kwargs.setdefault("auto_id", f"c{comment.pk.hex[:12]}_%s")
            kwargs.setdefault(
                "initial",
                {
                    "comment": comment.pk,
                    "released_text": comment.released_text or comment.text,
                },
            )
        super().__init__(*args, **kwargs)
        self.comment = comment

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if (
            cleaned.get("decision") == CommentState.REDACTED
            and not (cleaned.get("released_text") or "").strip()
        ):
            self.add_error(
                "released_text", _("Write the text the department should read.")
            )
        return cleaned

    def review(self, *, user: User, comment: Comment) -> Comment | None:
        try:
            return comment_review(
                comment=comment,
                user=user,
                state=self.cleaned_data["decision"],
                released_text=self.cleaned_data["released_text"],
            )
        except EvaluationError as error:
            self.add_error(None, str(error))
            return None


# Rectification ----------------------------------------------------------------------


class RectificationActionForm(forms.Form):
    """One step of a rectification item. Each form on the page has its
    action as prefix, so that the ids of their fields never collide."""

    note = forms.CharField(
        label=_("Note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        transition: Transition,
        rectification: Rectification,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", transition.action)
        super().__init__(*args, **kwargs)
        self.transition = transition
        self.rectification = rectification
        note = self.fields.get("note")
        if note is not None:
            note.required = transition.note_required
            note.help_text = RECTIFICATION_NOTE_HELP.get(transition.action, "")

    @property
    def help(self) -> str | Promise | None:
        return RECTIFICATION_HELP.get(self.transition.action)

    def act(self, *, user: User) -> Rectification | None:
        data = self.cleaned_data
        try:
            return rectification_act(
                rectification=self.rectification,
                user=user,
                action=self.transition.action,
                note=data.get("note", ""),
                plan=data.get("plan", ""),
                due_on=data.get("due_on"),
            )
        except EvaluationError as error:
            self.add_error(None, str(error))
            return None


class RectificationPlanForm(RectificationActionForm):
    plan = forms.CharField(
        label=_("Plan"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "What your department will change: fewer meetings and documents, "
            "inspections merged, ledgers dropped, quicker answers."
        ),
    )
    due_on = forms.DateField(
        label=_("To be done by"),
        widget=DATE_INPUT,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["note"]
        self.initial.setdefault("plan", self.rectification.plan)
        self.initial.setdefault("due_on", self.rectification.due_on)
        self.order_fields(["plan", "due_on"])

    def clean_due_on(self) -> date | None:
        due_on = self.cleaned_data["due_on"]
        if due_on is not None and due_on < timezone.localdate():
            raise forms.ValidationError(_("Choose a day that is still to come."))
        return due_on


RECTIFICATION_HELP = {
    "plan": _("Say what your department will change, and by when."),
    "progress": _("Tell the organization department how the work goes."),
    "report": _("The work is done: the organization department checks it."),
    "return": _("Not done yet: send it back to the department, and say why."),
    "close": _("The work is done as planned: close the item."),
}
RECTIFICATION_NOTE_HELP = {
    "progress": _("What was done since the plan or the last note."),
    "report": _("What was changed, with the figures where there are any."),
    "return": _("What is still missing."),
    "close": _("Optional: a word for the department."),
}
RECTIFICATION_FORMS: dict[str, type[RectificationActionForm]] = {
    "plan": RectificationPlanForm,
}


def rectification_form(
    transition: Transition, rectification: Rectification, data: Any = None
) -> RectificationActionForm:
    form_class = RECTIFICATION_FORMS.get(transition.action, RectificationActionForm)
    return form_class(data, transition=transition, rectification=rectification)
