from django.apps import AppConfig
from django.db.models.signals import post_save


def _new_program_gets_default_rules(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from cases.services import add_default_follow_up_rules

        add_default_follow_up_rules(instance)


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "People and cases"

    def ready(self):
        # A new program starts with the default follow-up schedule (cases.services.DEFAULT_FOLLOW_UP_RULES).
        post_save.connect(
            _new_program_gets_default_rules, sender="accounts.Program", dispatch_uid="cases.default_rules"
        )
