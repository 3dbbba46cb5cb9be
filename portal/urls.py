from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from portal import views

accounts = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "activate/<uidb64>/<token>/",
        views.AccountActivateView.as_view(),
        name="account_activate",
    ),
    path(
        "activate/done/",
        TemplateView.as_view(template_name="registration/account_activate_done.html"),
        name="account_activate_done",
    ),
]

inbox = [
    path("", views.inbox, name="inbox"),
    path("<int:notification_id>/", views.inbox_open, name="inbox_open"),
    path("read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("mail/", views.inbox_mail, name="inbox_mail"),
]

urlpatterns = [
    path("accounts/", include(accounts)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("workbench/", views.workbench, name="workbench"),
    path("unit/", views.my_unit, name="my_unit"),
    path("units/<str:code>/", views.unit_detail, name="unit_detail"),
    path("inbox/", include(inbox)),
    # Mounted by name: portal imports no app above it.
    path("search/", include("search.urls")),
    # Needs, and orders' conversations: ahead of orders/ (see matching.need_urls).
    path("", include("matching.need_urls")),
    path("orders/", include("matching.urls")),
    path("evaluations/", include("assessments.urls")),
    path("cms/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns.append(path("", include(wagtail_urls)))
