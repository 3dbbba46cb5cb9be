from django.apps import AppConfig
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("Reverse evaluation")

    def ready(self) -> None:
        from assessments.dashboards import workbench_panels
        from assessments.selectors import published_department_totals
        from matching.offering_recommend import register_evaluation_totals
        from portal import dashboard, navigation

        navigation.register(_evaluation_navigation)
        dashboard.register(workbench_panels)
        # Recommendations weigh departments by their published totals.
        register_evaluation_totals(published_department_totals)


def _evaluation_navigation(request: HttpRequest) -> list[tuple[str, str]]:
    """Units answer, the organization department runs rounds, departments
    read their results; nobody else has anything of reverse evaluation."""
    from assessments.lifecycle import DEPARTMENT_ROLES, ORGANIZER_ROLES
    from assessments.selectors import RESPONDENT_ROLES

    role = request.user.role
    if role in RESPONDENT_ROLES:
        return [(_("Reverse evaluation"), reverse("evaluation_list"))]
    if role in ORGANIZER_ROLES:
        return [(_("Evaluation rounds"), reverse("round_list"))]
    if role in DEPARTMENT_ROLES:
        return [(_("Evaluation results"), reverse("evaluation_results_mine"))]
    return []
