"""Print the current second-factor code of a demo user. Development only (DEBUG=true)."""

import pyotp
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import TwoFactorDevice


class Command(BaseCommand):
    help = "Print the current TOTP code of USERNAME's authenticator (refuses unless DEBUG=true)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code is for development only: it refuses to run unless DEBUG=true.")
        device = TwoFactorDevice.objects.filter(user__username=username).first()
        if device is None:
            raise CommandError(f"{username} has no authenticator (seed_demo enrols the demo users).")
        self.stdout.write(pyotp.TOTP(device.secret).now())
