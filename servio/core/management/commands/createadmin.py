"""`servio createadmin`: create an administrator account."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from servio.accounts.models import Organization
from servio.accounts.roles import Role
from servio.accounts.services import user_create
from servio.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create an administrator (prompts for what is not given)."

    def add_arguments(self, parser):
        parser.add_argument("--email")
        parser.add_argument("--name", default="")
        parser.add_argument("--password", help="prefer the prompt; this shows in shell history")

    def handle(self, *args, **options):
        email = options["email"] or input("Email: ").strip()
        password = options["password"] or getpass.getpass("Password: ")
        if len(password) < 8:
            raise CommandError("Choose a password of at least 8 characters.")
        provider = Organization.objects.filter(kind=Organization.Kind.PROVIDER).first()
        try:
            user = user_create(
                actor=None,
                email=email,
                full_name=options["name"],
                role=Role.ADMIN,
                organization=provider,
                password=password,
            )
        except ValidationFailed as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(f"Administrator {user.email} created. Sign in at /login/ or /admin/.")
