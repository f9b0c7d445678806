"""Store screens under ``/store/`` (namespace ``store``).

Other store features include their own URL modules here (ship-from-store:
``path("<slug:store>/ship/", include("fulfillment.store.ship_urls"))``; returns desk).
"""

from django.urls import include, path

from fulfillment.store import views, views_handover, views_pick

app_name = "store"

urlpatterns = [
    path("", views.store_chooser, name="chooser"),
    path("login/", views.StoreLoginView.as_view(), name="login"),
    path("logout/", views.StoreLogoutView.as_view(), name="logout"),
    path("<slug:store>/", views.store_home, name="home"),
    path("<slug:store>/ship/", include("fulfillment.store.ship_urls")),
    path("<slug:store>/queue/", views.QueueView.as_view(), name="queue"),
    path("<slug:store>/queue/board/", views.QueueBoardView.as_view(), name="queue-board"),
    path("<slug:store>/fo/<int:pk>/pick/", views_pick.PickView.as_view(), name="pick"),
    path("<slug:store>/fo/<int:pk>/ready/", views_pick.ReadyView.as_view(), name="ready"),
    path("<slug:store>/fo/<int:pk>/code/", views_pick.CodeResendView.as_view(), name="code-resend"),
    path("<slug:store>/handover/", views_handover.HandoverFindView.as_view(), name="handover"),
    path(
        "<slug:store>/handover/<int:pk>/",
        views_handover.HandoverOrderView.as_view(),
        name="handover-order",
    ),
]
