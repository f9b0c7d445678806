"""Default paging for list endpoints."""

from rest_framework.pagination import CursorPagination


class DefaultCursorPagination(CursorPagination):
    """Stable paging for long lists: newest first, by primary key, ``?page_size`` up to 200."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 200
