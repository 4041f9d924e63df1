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


class IsReleaseManager(BasePermission):
    """Release Managers and superusers only (the audit trail, role-restricted reads)."""

    message = "This needs the Release Managers role."

    def has_permission(self, request, view) -> bool:
        from opsportal.roles import is_release_manager

        return bool(request.user and request.user.is_authenticated and is_release_manager(request.user))
