from django.urls import path

from assessments import report_views

urlpatterns = [
    path(
        "rounds/<int:round_id>/bulletin.pdf",
        report_views.round_bulletin_pdf,
        name="round_bulletin_pdf",
    ),
    path(
        "rounds/<int:round_id>/results/<int:department_id>/card.pdf",
        report_views.department_card_pdf,
        name="department_card_pdf",
    ),
]
