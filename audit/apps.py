from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit"

    def ready(self):
        from audit import triggers

        # SQLite drops a table's triggers whenever Django rebuilds the table (most ALTERs do), so the
        # triggers are (re)installed after every migrate, on both vendors, idempotently.
        post_migrate.connect(triggers.install_after_migrate, sender=self, dispatch_uid="audit_triggers")
