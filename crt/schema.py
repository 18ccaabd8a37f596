"""The OpenAPI schema's generator: drf-spectacular's, saying what the server enforces (issue 14 item 9).

Kept apart from crt.api: drf_spectacular.openapi imports DRF's views, which read the API settings,
which name crt.api's classes.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's, plus what a field's validators enforce: a validator may carry `openapi`, a
    schema fragment (a pattern, a sentence for the description) saying in the schema what it refuses."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        for validator in getattr(field, "validators", []):
            fragment = getattr(validator, "openapi", None)
            if fragment and isinstance(schema, dict) and "$ref" not in schema:
                schema = {**schema, **{k: v for k, v in fragment.items() if k != "description"}}
                schema = {k: v for k, v in schema.items() if v is not None}  # "format": None drops it
                if fragment.get("description"):
                    schema["description"] = " ".join(filter(None, [schema.get("description"), fragment["description"]]))
        return schema
