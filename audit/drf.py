"""DRF: a viewset mixin that records every object it returns before serialising it.

    class ReferralViewSet(AuditedReadMixin, viewsets.GenericViewSet):
        def get_queryset(self):
            return Referral.objects.visible_to(self.request.user)   # or the partner credential

`list` records one "list" row per object of the page, `retrieve` one "view" row, both before the
serializer runs: if the audit write fails (AuditWriteError), the client gets a 500 and no data.
Writes go through services; the view records them with record_access(request, action=Action.CREATE
or UPDATE, objects=[obj]) in the same transaction as the service call.
"""

from rest_framework.response import Response

from audit.access import record_access
from audit.models import Action


class AuditedReadMixin:
    audit_list_action = Action.LIST
    audit_retrieve_action = Action.VIEW

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        objects = list(page if page is not None else queryset)
        record_access(request, action=self.audit_list_action, objects=objects)
        data = self.get_serializer(objects, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        record_access(request, action=self.audit_retrieve_action, objects=[instance])
        return Response(self.get_serializer(instance).data)
