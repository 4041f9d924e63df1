"""`manage.py ensure_demo_admin`: make sure the demo superuser of the quick start exists (idempotent)."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "admin"  # noqa: S105 - the documented local-demo credential, never a production default


class Command(BaseCommand):
    help = (
        "Create the demo superuser (OPSPORTAL_DEMO_USER / OPSPORTAL_DEMO_PASSWORD, default admin/admin) "
        "if it does not exist. An existing user keeps its password unless --reset-password is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default=os.environ.get("OPSPORTAL_DEMO_USER") or DEFAULT_USER)
        parser.add_argument("--password", default=os.environ.get("OPSPORTAL_DEMO_PASSWORD") or DEFAULT_PASSWORD)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--reset-password", action="store_true", help="Set the password of an existing user to --password."
        )

    def handle(self, *args, username: str, password: str, email: str, reset_password: bool, **options) -> None:
        if not username.strip() or not password:
            raise CommandError("The demo user needs a non-empty username and password.")
        user_model = get_user_model()
        user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            user_model.objects.create_superuser(username, email or f"{username}@example.com", password)
            self.stdout.write(f"Created demo superuser {username!r}.")
            return

        changed = []
        for flag in ("is_active", "is_staff", "is_superuser"):
            if not getattr(user, flag):
                setattr(user, flag, True)
                changed.append(flag)
        if reset_password:
            user.set_password(password)
            changed.append("password")
        if changed:
            user.save()
        if user.check_password(password):
            self.stdout.write(
                f"Demo superuser {username!r} exists" + (f"; updated {', '.join(changed)}." if changed else ".")
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Demo superuser {username!r} exists with a password other than OPSPORTAL_DEMO_PASSWORD; "
                    "left unchanged (run `manage.py ensure_demo_admin --reset-password` to reset it)."
                )
            )
