"""The questionnaire editor in the CMS (反向评价 → 问卷), for administrators and
the organization department.

A version is edited with its dimensions and questions inline until a round
uses it; from then on it is frozen (its answers must keep the questions they
answered): its edit page shows it read only instead, with a button that makes
the next version of it, and a questionnaire any round uses cannot be deleted.
Wagtail's generic copy is switched off: a copy would start a new lineage
instead of the next version (``services.questionnaire_new_version``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.panels import ObjectList
from wagtail.admin.ui.tables import StatusTagColumn
from wagtail.log_actions import log
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import (
    EditView,
    IndexView,
    InspectView,
    SnippetViewSet,
    SnippetViewSetGroup,
)

from assessments.admin_forms import QuestionnaireAdminForm
from assessments.models import QuestionKind, Questionnaire, RoundState
from assessments.questionnaires import question_options
from assessments.services import (
    EvaluationError,
    questionnaire_check_editable,
    questionnaire_new_version,
)

# Wagtail's Chinese catalog lacks the button of its error banner, which the
# editor shows when a questionnaire is refused; the portal's catalog (first
# in LOCALE_PATHS) carries it.
WAGTAIL_CATALOG_GAPS = (gettext_noop("Go to the first error"),)

ERROR_DELETE_USED = gettext_lazy(
    "“%(questionnaire)s” is used by a round and cannot be deleted."
)


def questionnaire_status(questionnaire: Questionnaire) -> str:
    """可编辑 or 已冻结, and how many rounds use the version."""
    used = getattr(questionnaire, "round_count", None)
    if used is None:
        used = questionnaire.rounds.count()
    if questionnaire.is_frozen:
        return ngettext(
            "Frozen — used by %(count)d round",
            "Frozen — used by %(count)d rounds",
            used,
        ) % {"count": used}
    if used:
        return ngettext(
            "Editable — chosen by %(count)d draft round",
            "Editable — chosen by %(count)d draft rounds",
            used,
        ) % {"count": used}
    return _("Editable")


class QuestionnaireIndexView(IndexView):
    """The versions, newest first within each title; a frozen one opens
    read only, and one that a round uses offers no delete."""

    def get_edit_url(self, instance):
        if instance.is_frozen:
            return None
        return super().get_edit_url(instance)

    def get_delete_url(self, instance):
        if getattr(instance, "round_count", 0):
            return None
        return super().get_delete_url(instance)


class QuestionnaireEditView(EditView):
    """Editing a version that no round has frozen yet. For a frozen one, GET
    and POST alike lead to its read-only page and change nothing."""

    def get(self, request, *args, **kwargs):
        return self._refuse_frozen() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self._refuse_frozen() or super().post(request, *args, **kwargs)

    def _refuse_frozen(self) -> HttpResponse | None:
        questionnaire = getattr(self, "object", None) or self.get_object()
        try:
            questionnaire_check_editable(questionnaire)
        except EvaluationError as error:
            messages.warning(self.request, str(error))
            return redirect(_url("inspect", questionnaire))
        return None

    def form_valid(self, form):
        # A round may open (and freeze the version) between the page's check
        # and this save: lock the row and look again. round_open's freezing
        # UPDATE waits for this transaction, so the round then asks the
        # questions saved here.
        try:
            with transaction.atomic():
                locked = Questionnaire.objects.select_for_update().get(
                    pk=self.object.pk
                )
                questionnaire_check_editable(locked)
                return super().form_valid(form)
        except EvaluationError as error:
            messages.warning(self.request, str(error))
            return redirect(_url("inspect", self.object))


class QuestionnaireInspectView(InspectView):
    """A version read only: its dimensions and questions, the rounds that
    use it, the other versions, and — when frozen — the way to a new one."""

    template_name = "assessments/admin/questionnaire_inspect.html"

    def get_edit_url(self):
        if self.object.is_frozen:
            return None
        return super().get_edit_url()

    def get_delete_url(self):
        if self.object.rounds.exists():
            return None
        return super().get_delete_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        questionnaire = self.object
        dimensions = list(questionnaire.dimensions.all())
        questions = list(questionnaire.questions.all())
        for question in questions:
            question.choices = (
                question_options(question)
                if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
                else []
            )
        context.update(
            questionnaire=questionnaire,
            status=questionnaire_status(questionnaire),
            dimensions=[
                (d, [q for q in questions if q.dimension_code == d.code])
                for d in dimensions
            ],
            rounds=list(questionnaire.rounds.order_by("-opens_on", "-pk")),
            round_states=RoundState,
            versions=list(
                Questionnaire.objects.filter(lineage=questionnaire.lineage)
                .annotate(round_count=Count("rounds"))
                .order_by("-version")
            ),
            can_make_version=self.user_has_permission("add"),
            new_version_url=_url("new_version", questionnaire),
        )
        return context


class QuestionnaireViewSet(SnippetViewSet):
    """Questionnaire versions: dimensions with weights and questions of
    every kind, with their weights, directions and display conditions."""

    model = Questionnaire
    icon = "form"
    menu_label = gettext_lazy("Questionnaires")
    list_display = [
        "title",
        "version",
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor=questionnaire_status,
            primary=lambda questionnaire: not questionnaire.is_frozen,
        ),
        "created_at",
    ]
    search_fields = ["title"]
    search_backend_name = None
    ordering = ["title", "-version"]
    copy_view_enabled = False
    inspect_view_enabled = True
    index_view_class = QuestionnaireIndexView
    edit_view_class = QuestionnaireEditView
    inspect_view_class = QuestionnaireInspectView
    # The panels are the model's; the form adds the check of the whole.
    edit_handler = ObjectList(
        Questionnaire.panels, base_form_class=QuestionnaireAdminForm
    )

    def get_queryset(self, request):
        return Questionnaire.objects.annotate(round_count=Count("rounds"))

    @property
    def new_version_view(self):
        return _new_version_view(self)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("new-version/<int:pk>/", self.new_version_view, name="new_version"),
        ]


def _new_version_view(viewset: QuestionnaireViewSet):
    @require_POST
    def new_version(request: HttpRequest, pk: int) -> HttpResponse:
        if not viewset.permission_policy.user_has_permission(request.user, "add"):
            raise PermissionDenied
        questionnaire = get_object_or_404(Questionnaire, pk=pk)
        copy = questionnaire_new_version(questionnaire=questionnaire)
        log(instance=copy, action="wagtail.create", user=request.user)
        messages.success(
            request,
            _(
                "Version %(version)s of “%(title)s” has been made from version "
                "%(based_on)s. Change it here; rounds choose it once it is saved."
            )
            % {
                "version": copy.version,
                "title": copy.title,
                "based_on": questionnaire.version,
            },
        )
        return redirect(_url("edit", copy))

    return new_version


def _url(name: str, questionnaire: Questionnaire) -> str:
    return reverse(
        f"wagtailsnippets_assessments_questionnaire:{name}",
        args=[quote(questionnaire.pk)],
    )


class EvaluationViewSetGroup(SnippetViewSetGroup):
    menu_label = gettext_lazy("Reverse evaluation")
    menu_icon = "form"
    menu_order = 280
    items = (QuestionnaireViewSet,)


register_snippet(EvaluationViewSetGroup)


@hooks.register("before_delete_snippet")
def questionnaire_delete_refuse(request: HttpRequest, instances) -> HttpResponse | None:
    """A questionnaire a round uses stays (the round and its answers need
    it): refuse the delete view and the bulk delete alike, before asking."""
    used = [
        instance
        for instance in instances
        if isinstance(instance, Questionnaire) and instance.rounds.exists()
    ]
    if not used:
        return None
    for questionnaire in used:
        messages.error(
            request, ERROR_DELETE_USED % {"questionnaire": str(questionnaire)}
        )
    return redirect("wagtailsnippets_assessments_questionnaire:list")
