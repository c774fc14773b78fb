from django.urls import path

from . import views

app_name = "news"

urlpatterns = [
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    path("agencies/<slug:slug>/", views.agency_detail, name="agency"),
    path("tags/<slug:slug>/", views.tag_detail, name="tag"),
    path("corrections/", views.corrections, name="corrections"),
    path("archive/", views.archive_index, name="archive_index"),
    path("archive/<int:year>/", views.archive, name="archive_year"),
    path("archive/<int:year>/<int:month>/", views.archive, name="archive_month"),
    path("archive/<int:year>/<int:month>/<int:day>/", views.archive, name="archive_day"),
]
