"""`flush`, which also works on SQLite with the audit triggers in place.

flush empties every table. On PostgreSQL it uses TRUNCATE, which fires no row trigger. On SQLite it
runs DELETE, which the append-only triggers refuse (as they should refuse any other DELETE), and
which the history triggers would record. So on SQLite the audit triggers are lifted for the flush
only and put back straight after. The test runner flushes after every transactional test.
"""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from audit import triggers


class Command(FlushCommand):
    def handle(self, **options):
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        triggers.drop_sqlite(connection)
        try:
            return super().handle(**options)
        finally:
            triggers.install(connection)
