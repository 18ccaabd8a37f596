"""Print a partner API key and a staff API token for the schemathesis run (manage.py shell < this).

Two lines, "partner=<key>" and "staff=<key>": a new key of the demo partner that receives the most
referrals, and a new token of the demo supervisor. Only their hashes are stored, as always.
"""

from django.db.models import Count

from accounts.credentials import issue_key
from accounts.models import User
from accounts.tokens import issue_token
from providers.models import Organization, PartnerCredential

organization = Organization.objects.annotate(n=Count("referrals")).filter(n__gt=0).order_by("-n").first()
key = issue_key(PartnerCredential(organization=organization, name="schemathesis run"))
print(f"partner={key}")
_token, staff_key = issue_token(User.objects.get(username="sam.supervisor"), name="schemathesis run", by=None)
print(f"staff={staff_key}")
