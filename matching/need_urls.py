"""The need pages, and posting to an order's conversation. Mounted at the
site's root by ``portal.urls``, ahead of ``orders/``: the order pages'
``<order_id>/<action>/`` would otherwise take ``<order_id>/messages/``."""

from django.urls import path

from matching import need_views

urlpatterns = [
    path("needs/", need_views.need_list, name="need_list"),
    path("needs/new/", need_views.need_new, name="need_new"),
    path("needs/export/", need_views.need_export, name="need_export"),
    path("needs/gap/", need_views.need_gap, name="need_gap"),
    path("needs/gap/export/", need_views.need_gap_export, name="need_gap_export"),
    path("needs/<int:need_id>/", need_views.need_detail, name="need_detail"),
    path(
        "needs/<int:need_id>/answer/<slug:kind>/",
        need_views.need_respond,
        name="need_respond",
    ),
    path(
        "needs/<int:need_id>/accept/<int:response_id>/",
        need_views.need_accept,
        name="need_accept",
    ),
    path("needs/<int:need_id>/close/", need_views.need_close, name="need_close"),
    path(
        "needs/<int:need_id>/messages/",
        need_views.need_message_post,
        name="need_message_post",
    ),
    path(
        "orders/<int:order_id>/messages/",
        need_views.message_post_view,
        name="order_message_post",
    ),
]
