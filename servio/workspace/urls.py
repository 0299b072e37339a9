"""The agent workspace, mounted at /desk/."""

from django.urls import path

from servio.workspace.views import bulk, canned, dashboard, queue, saved, ticket

app_name = "workspace"
urlpatterns = [
    path("", queue.queue, name="queue"),
    path("bulk/", bulk.bulk, name="bulk"),
    path("bulk/form/", bulk.bulk_fields, name="bulk_fields"),
    path("counts/", queue.queue_counts, name="queue_counts"),
    path("views/", saved.saved_views, name="views"),
    path("views/<int:view_id>/", saved.saved_view_open, name="view_open"),
    path("views/<int:view_id>/edit/", saved.saved_view_edit, name="view_edit"),
    path("views/<int:view_id>/filters/", saved.saved_view_refilter, name="view_refilter"),
    path("views/<int:view_id>/move/", saved.saved_view_move, name="view_move"),
    path("views/<int:view_id>/delete/", saved.saved_view_delete, name="view_delete"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("new/", ticket.ticket_new, name="ticket_new"),
    path("responses/", canned.canned_list, name="canned_list"),
    path("responses/preview/", canned.canned_preview, name="canned_preview"),
    path("responses/<int:response_id>/edit/", canned.canned_edit, name="canned_edit"),
    path("responses/<int:response_id>/delete/", canned.canned_delete, name="canned_delete"),
    path("t/<str:reference>/", ticket.ticket_page, name="ticket"),
    path("t/<str:reference>/part/<str:part>/", ticket.ticket_part, name="ticket_part"),
    path("t/<str:reference>/poll/", ticket.ticket_poll, name="ticket_poll"),
    path("t/<str:reference>/edit/<str:field>/", ticket.ticket_edit, name="ticket_edit"),
    path("t/<str:reference>/assign-me/", ticket.ticket_assign_me, name="ticket_assign_me"),
    path(
        "t/<str:reference>/transition/<str:name>/",
        ticket.ticket_transition,
        name="ticket_transition",
    ),
    path("t/<str:reference>/comment/", ticket.ticket_comment, name="ticket_comment"),
    path("t/<str:reference>/links/", ticket.link_add, name="link_add"),
    path("t/<str:reference>/links/<int:link_id>/delete/", ticket.link_remove, name="link_remove"),
    path("t/<str:reference>/watchers/", ticket.watcher_add, name="watcher_add"),
    path(
        "t/<str:reference>/watchers/<int:user_id>/delete/",
        ticket.watcher_remove,
        name="watcher_remove",
    ),
]
