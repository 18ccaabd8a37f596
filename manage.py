#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crt.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings now, so a bad variable is named plainly
    except ImproperlyConfigured as error:
        # Django would otherwise carry on and fail later with an unrelated "Models aren't loaded yet".
        sys.exit(f"crt: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
