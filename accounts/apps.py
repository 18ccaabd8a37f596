from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def sync_roles_after_migrate(sender, apps=global_apps, using="default", **kwargs):
    """Keep the role groups' permissions exact after every migrate, so a model added later is
    covered (the Staff admin role holds every permission of our apps) without a data migration."""
    from accounts.roles import sync_role_groups

    # flush sends post_migrate without an app registry: the live one is as good then.
    sync_role_groups(apps, using=using)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff and partner users"

    def ready(self) -> None:
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="accounts.sync_roles")
