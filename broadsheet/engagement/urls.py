from django.urls import path

from . import views

app_name = "engagement"

urlpatterns = [
    path("stories/<int:story_id>/state/", views.story_state, name="state"),
    path("stories/<int:story_id>/vote/", views.vote, name="vote"),
    path("stories/<int:story_id>/comments/", views.post_comment, name="comment"),
    path("stories/<int:story_id>/comments/new/", views.comment_form, name="comment_form"),
    path("comments/<int:comment_id>/flag/", views.flag_comment, name="flag"),
]
