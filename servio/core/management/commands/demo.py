"""`servio demo`: load the demo service desk."""

import time

from django.core.management.base import BaseCommand

from servio import demo


class Command(BaseCommand):
    help = "Load demo data (organisations, teams, people, tickets) and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when demo data is already there"
        )

    def handle(self, *args, **options):
        if demo.demo_loaded():
            if options["if_empty"]:
                return
            self.stdout.write("Demo data is already loaded.")
            return
        started = time.monotonic()
        summary = demo.load_demo()
        self.stdout.write(
            f"Demo loaded in {time.monotonic() - started:.1f} s: {summary.organizations} "
            f"organisations, {summary.teams} teams, {summary.users} users, {summary.tickets} "
            f"incidents with {summary.comments} comments and {summary.events} history events.\n"
            f"Sign in as {demo.ADMIN_EMAIL}, {demo.AGENT_EMAIL} or {demo.REQUESTER_EMAIL} "
            f"with password '{demo.DEMO_PASSWORD}'."
        )
