"""The API throttle on Redis, as deployed (CACHE_URL=redis://...): one counter per credential and
minute, counted in one round trip, that expires once its minute is over."""

import uuid
from types import SimpleNamespace

import pytest
from django.core.cache.backends.redis import RedisCache

from crt.api import ApiRateThrottle
from providers.models import PartnerCredential

pytestmark = pytest.mark.redis


def test_the_counter_refuses_past_the_rate_and_expires_after_its_minute(settings):
    settings.API_THROTTLE_RATE = "2/min"
    cache = RedisCache(settings.CELERY_BROKER_URL, {"KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"})
    request = SimpleNamespace(auth=PartnerCredential(pk=424242))
    minute = 29_000_000 * 60.0

    def allowed(at: float) -> bool:
        throttle = ApiRateThrottle()
        throttle.cache, throttle.timer = cache, lambda: at
        return throttle.allow_request(request, view=None)

    assert [allowed(minute + 10), allowed(minute + 20), allowed(minute + 59.5)] == [True, True, False]
    assert allowed(minute + 60)  # the next minute counts afresh

    redis = cache._cache.get_client()
    keys = redis.keys(f"{cache.key_prefix}*")
    try:
        assert len(keys) == 2  # one counter per minute
        assert all(0 < redis.ttl(key) <= 61 for key in keys)
    finally:
        redis.delete(*keys)  # only ours: the database is the broker's
