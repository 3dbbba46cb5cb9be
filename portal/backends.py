"""Authentication backends."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UnitModelBackend(ModelBackend):
    """Django's model backend, loading the signed-in user together with their
    unit: every page shows the unit in its header and scopes data by it, so
    one query serves both on each request."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related(
            "region", "department__region"
        )
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
