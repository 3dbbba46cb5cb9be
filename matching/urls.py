from django.urls import path

from matching import campaign_views, report_views, views

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("export/", views.order_export, name="order_export"),
    path("new/<int:offering_id>/", views.order_new, name="order_new"),
    path("statistics/", report_views.order_statistics_page, name="order_statistics"),
    path(
        "statistics/export/",
        report_views.order_statistics_export,
        name="order_statistics_export",
    ),
    path(
        "sessions/<int:session_id>/roster/",
        report_views.session_roster_page,
        name="session_roster",
    ),
    path(
        "sessions/<int:session_id>/roster/export/",
        report_views.session_roster_export,
        name="session_roster_export",
    ),
    path("campaigns/", campaign_views.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaign_views.campaign_new, name="campaign_new"),
    path(
        "campaigns/<int:campaign_id>/",
        campaign_views.campaign_detail,
        name="campaign_detail",
    ),
    path(
        "campaigns/<int:campaign_id>/edit/",
        campaign_views.campaign_edit,
        name="campaign_edit",
    ),
    path(
        "campaigns/<int:campaign_id>/preview/",
        campaign_views.campaign_preview_page,
        name="campaign_preview",
    ),
    path(
        "campaigns/<int:campaign_id>/<slug:action>/",
        campaign_views.campaign_act,
        name="campaign_act",
    ),
    path("<int:order_id>/", views.order_detail, name="order_detail"),
    path("<int:order_id>/<slug:action>/", views.order_act, name="order_act"),
]
