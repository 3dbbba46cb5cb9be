from django.urls import path

from assessments import rectification_views, result_views, round_views

urlpatterns = [
    path("rounds/", round_views.round_list, name="round_list"),
    path("rounds/new/", round_views.round_new, name="round_new"),
    path("rounds/<int:round_id>/", round_views.round_detail, name="round_detail"),
    path("rounds/<int:round_id>/edit/", round_views.round_edit, name="round_edit"),
    path("rounds/<int:round_id>/units/", round_views.round_units, name="round_units"),
    path(
        "rounds/<int:round_id>/comments/",
        round_views.round_comments,
        name="round_comments",
    ),
    path(
        "rounds/<int:round_id>/do/<slug:action>/",
        round_views.round_act,
        name="round_act",
    ),
    path(
        "rounds/<int:round_id>/results/",
        result_views.round_results,
        name="round_results",
    ),
    path(
        "rounds/<int:round_id>/results/export/",
        result_views.round_results_export,
        name="round_results_export",
    ),
    path(
        "rounds/<int:round_id>/results/<int:department_id>/",
        result_views.department_result,
        name="department_result",
    ),
    path("results/", result_views.results_mine, name="evaluation_results_mine"),
    path(
        "rectifications/",
        rectification_views.rectification_list,
        name="rectification_list",
    ),
    path(
        "rectifications/<int:rectification_id>/",
        rectification_views.rectification_detail,
        name="rectification_detail",
    ),
    path(
        "rectifications/<int:rectification_id>/do/<slug:action>/",
        rectification_views.rectification_act,
        name="rectification_act",
    ),
]
