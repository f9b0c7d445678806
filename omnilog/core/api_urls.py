from django.urls import path

from omnilog.core.api_views import PingApi

urlpatterns = [path("ping", PingApi.as_view(), name="ping")]
