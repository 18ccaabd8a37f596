"""Print a partner API key and a staff API token for the schemathesis run (manage.py shell < this).

Two lines, "partner=<key>" and "staff=<key>": a new key of the demo partner that receives the most
referrals, and a new token of the demo supervisor. Only their hashes are stored, as always.
"""

from django.db.models import Count

from accounts.models import User
from accounts.tokens import issue_token
from providers.models import Organization, PartnerCredential, hash_key

organization = Organization.objects.annotate(n=Count("referrals")).filter(n__gt=0).order_by("-n").first()
prefix, key = PartnerCredential.new_key()
PartnerCredential.objects.create(
    organization=organization, name="schemathesis run", prefix=prefix, key_hash=hash_key(key)
)
print(f"partner={key}")
_token, staff_key = issue_token(User.objects.get(username="sam.supervisor"), name="schemathesis run", by=None)
print(f"staff={staff_key}")
