from django.urls import path

from matching import views

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/<int:offering_id>/", views.order_new, name="order_new"),
    path("<int:order_id>/", views.order_detail, name="order_detail"),
    path("<int:order_id>/<slug:action>/", views.order_act, name="order_act"),
]
