"""Default API permission: writes need authentication; anonymous reads only when
`OPSPORTAL_ANONYMOUS_READ` is on."""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadAnonymousIfAllowed(BasePermission):
    message = "Authentication credentials were not provided."

    def has_permission(self, request, view) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        return request.method in SAFE_METHODS and settings.ANONYMOUS_READ
