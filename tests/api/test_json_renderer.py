"""The API's JSON renderer (crt.api.JSONRenderer, orjson) writes the bytes DRF's JSONRenderer writes."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from crt.api import JSONRenderer

PAYLOAD = {
    "next": "http://testserver/api/v1/partner/referrals/?cursor=cD0yMDI2&page_size=100",
    "previous": None,
    "results": ReturnList(
        [
            ReturnDict(
                {
                    "id": 2**40,
                    "reason": 'Line\u2028and paragraph\u2029separators, "quotes", </script>, ünïcödé, 🙂, \x00',
                    "flag": True,
                    "score": 12.5,
                    "at": datetime(2026, 12, 7, 0, 20, 56, 328858, tzinfo=UTC),
                    "local": datetime(2026, 12, 6, 18, 0, tzinfo=UTC).astimezone(
                        __import__("zoneinfo").ZoneInfo("America/Chicago")
                    ),
                    "born": date(1990, 1, 2),
                    "opens": time(9, 30),
                    "wait": timedelta(minutes=5),
                    "amount": Decimal("10.50"),
                    "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
                    "label": gettext_lazy("Open"),
                    "channels": ["text", "phone"],
                    "empty": {},
                },
                serializer=None,
            )
        ],
        serializer=None,
    ),
}


def test_it_writes_the_bytes_drf_writes():
    assert JSONRenderer().render(PAYLOAD) == DRFJSONRenderer().render(PAYLOAD)


def test_an_indented_answer_is_drfs():
    assert JSONRenderer().render(PAYLOAD, "application/json; indent=2") == DRFJSONRenderer().render(
        PAYLOAD, "application/json; indent=2"
    )


def test_what_orjson_cannot_write_is_left_to_drf():
    data = {"big": 2**70, 1: "an integer key"}
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)
