"""Signing in with email and password, and loading the signed-in person per request."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class UserBackend(ModelBackend):
    """Django's model backend, loading the person with their organisation in the same query:
    every page reads the organisation's time zone (decision 37)."""

    def get_user(self, user_id):
        from servio.accounts.models import User

        user = User.objects.select_related("organization").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
