"""OpenAPI generation: every operation documents the common error shape and, for POSTs,
the ``Idempotency-Key`` header."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from system.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from system.api.serializers import ErrorSerializer

_ERRORS_ALWAYS = ("401", "403")
_ERRORS_WITH_PATH_PARAMS = ("404",)
_ERRORS_ON_WRITE = ("400", "409")
_ERRORS_ON_POST = ("422",)


class MotusAutoSchema(AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [
                *parameters,
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    str,
                    OpenApiParameter.HEADER,
                    description="Retry safely: the same key and body replays the first "
                    "response; the same key with another body gets 422.",
                ),
            ]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = list(_ERRORS_ALWAYS)
        if "{" in self.path:
            codes += _ERRORS_WITH_PATH_PARAMS
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += _ERRORS_ON_WRITE
        if self.method == "POST":
            codes += _ERRORS_ON_POST
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "system.api.authentication.TokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token printed by `python manage.py create_agent NAME`.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "system.api.authentication.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A staff user's admin session (unsafe methods need the CSRF token).",
        }
