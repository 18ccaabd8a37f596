from tests import factories as f


def test_every_factory_builds_a_valid_record(db):
    for factory in [
        f.ServiceAtLocationFactory,
        f.ServiceCapacityFactory,
        f.PartnerCredentialFactory,
        f.SupportContactFactory,
        f.EncounterResponderFactory,
        f.AssessmentFactory,
        f.FollowUpFactory,
        f.ContactFactory,
        f.SafetyPlanFactory,
        f.ConsentFactory,
        f.ReferralEventFactory,
        f.DeliveryAttemptFactory,
        f.PartnerUserFactory,
        f.StaffAdminFactory,
    ]:
        obj = factory()
        obj.full_clean()
