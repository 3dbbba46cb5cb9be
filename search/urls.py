from django.urls import path

from search import views

urlpatterns = [path("suggest/", views.suggest, name="search_suggest")]
