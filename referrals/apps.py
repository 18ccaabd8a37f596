from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self):
        # cases sits below referrals and calls these through cases.hooks (docs/decisions/017-layers.md).
        from cases import hooks
        from referrals import caseload, services

        hooks.register_referrals(
            hooks.Referrals(
                to_decide=services.referrals_to_decide,
                cancel=services.cancel_referral,
                move_to_person=services.move_referrals_to_person,
                consent_revoked=services.consent_revoked,
                waiting_on_partner=caseload.waiting_on_partner,
            )
        )
