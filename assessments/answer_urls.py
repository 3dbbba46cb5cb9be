from django.urls import path

from assessments import answer_views

urlpatterns = [
    path("", answer_views.evaluation_list, name="evaluation_list"),
    path(
        "<int:round_id>/<int:department_id>/",
        answer_views.evaluation_form,
        name="evaluation_form",
    ),
]
