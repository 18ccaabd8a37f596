"""The authentication backend: Django's ModelBackend behind the account lockout.

Every password check anywhere (the login page, `Client.login` in tests, any future form) goes
through `authenticate()` and so through here: a locked account is refused before its password is
evaluated. The second factor is not checked here but in the login views (accounts.views), the only
place that calls `login()`.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import lockout
from accounts.models import LoginFailure
from accounts.roles import permissions_of
from crt.client_ip import client_ip


class LockoutModelBackend(ModelBackend):
    def get_user_permissions(self, user_obj, obj=None):
        """None: what a user may do comes from their roles only (docs/decisions/003), so there is
        no per-user grant to look up, nor to forget about in a review of who may do what."""
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        """What the user's roles grant, from accounts.roles (the groups hold exactly that, kept so by
        every migrate and never edited): no permission query on every page."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(permissions_of(user_obj))

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        claimed = lockout.claim(
            username, kind=LoginFailure.Kind.PASSWORD, ip=client_ip(request) if request is not None else None
        )
        if claimed is None:
            # authenticate() stops at PermissionDenied: no other backend gets to evaluate it either.
            raise PermissionDenied("This account is locked for a while after too many failed attempts.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            lockout.succeeded(claimed)
        return user
