"""A small API of personal records, only for testing audit.drf.AuditedReadMixin."""

from rest_framework import routers, serializers, viewsets
from rest_framework.pagination import PageNumberPagination

from audit.drf import AuditedReadMixin
from cases.models import Individual


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Individual
        fields = ["id", "legal_last_name"]


class TwoPerPage(PageNumberPagination):
    page_size = 2


class PersonViewSet(AuditedReadMixin, viewsets.GenericViewSet):
    serializer_class = PersonSerializer
    pagination_class = TwoPerPage

    def get_queryset(self):
        return Individual.objects.visible_to(self.request.user).order_by("pk")


router = routers.SimpleRouter()
router.register("people", PersonViewSet, basename="person")
urlpatterns = router.urls
