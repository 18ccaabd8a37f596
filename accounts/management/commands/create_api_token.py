"""Make an API token for a staff member or a program's service account, and print it once."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from accounts.tokens import issue_token


class Command(BaseCommand):
    help = (
        "Make an API token for USERNAME (active staff of a program, never a partner user) and print it once: "
        "only its hash is stored. Revoke it in the admin (Accounts → Staff tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'CAD integration'.")
        parser.add_argument("--days", type=int, default=None, help="Lifetime in days (default: until revoked).")

    def handle(self, *args, username, name, days, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username}.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1 (leave it out for a token that lasts until revoked).")
        expires_at = timezone.now() + timedelta(days=days) if days is not None else None
        try:
            token, key = issue_token(user, name=name, by=None, expires_at=expires_at)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        until = "until revoked"
        if token.expires_at is not None:
            until = f"until {timezone.localtime(token.expires_at):%Y-%m-%d %H:%M %Z}"
        # The token on stdout, alone, so `$(manage.py create_api_token ...)` captures it; the rest on stderr.
        self.stderr.write(f"API token {token.prefix}… for {user.username} ({token.name}), {until}. Shown once:")
        self.stdout.write(key)
