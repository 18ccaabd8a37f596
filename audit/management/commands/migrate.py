"""`migrate`, run as the database owner when MIGRATE_DATABASE_URL is set (audit.roles).

Django's migrate, with two differences when MIGRATE_DATABASE_URL names an owner role for the same
database as DATABASE_URL (PostgreSQL): it connects with the owner's credentials for the run, and
afterwards grants the app's role (DATABASE_URL's user) SELECT and INSERT on the audit tables and
normal DML elsewhere, refusing to go on if that role owns anything. Without it, nothing changes.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections

from audit.roles import grant_app_role, owned_by

CREDENTIALS = ("USER", "PASSWORD")


class Command(DjangoMigrate):
    help = DjangoMigrate.help + " With MIGRATE_DATABASE_URL: as that owner role, then grants the app's role."

    def handle(self, *args, **options):
        owner = settings.MIGRATE_DATABASE
        connection = connections[options["database"]]
        if owner is None or connection.vendor != "postgresql" or options["database"] != "default":
            return super().handle(*args, **options)
        app = {key: connection.settings_dict[key] for key in CREDENTIALS}
        if owner["USER"] == app["USER"]:
            raise CommandError("MIGRATE_DATABASE_URL names the same role as DATABASE_URL: give the owner role.")
        connection.close()
        connection.settings_dict.update({key: owner[key] for key in CREDENTIALS})
        try:
            super().handle(*args, **options)
            owns = owned_by(connection, app["USER"])
            if owns:
                raise CommandError(
                    f"The app's role {app['USER']} owns {', '.join(owns[:5])}{'...' if len(owns) > 5 else ''}: "
                    f"as the owner, run REASSIGN OWNED BY {app['USER']} TO {owner['USER']}; (docs/deploy.md)."
                )
            grant_app_role(connection, app["USER"])
            if options["verbosity"] >= 1:
                self.stdout.write(f"Granted {app['USER']} the app's privileges (audit tables: SELECT, INSERT).")
        finally:
            connection.close()
            connection.settings_dict.update(app)
