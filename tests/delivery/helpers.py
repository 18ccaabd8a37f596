from referrals import delivery as service
from referrals.models import Delivery


def attempt_when_due(time_machine, delivery: Delivery) -> service.Result:
    """Move the clock to the delivery's next attempt and make it, as the sweep would."""
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.PENDING, delivery.state
    time_machine.move_to(delivery.next_attempt_at, tick=True)
    return service.deliver(delivery.pk)
