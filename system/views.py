"""``/healthz`` and ``/readyz``: JSON for load balancers and process supervisors.

- ``/healthz`` (liveness): the process answers and can read the database file
  (:data:`system.health.LIVENESS_CHECKS`). Writes nothing.
- ``/readyz`` (readiness): the database takes a write (a rolled-back transaction), every
  migration is applied and every trigger, view and index the migrations install is present
  (:data:`system.health.READINESS_CHECKS`).

Both answer 200 unless a check failed (503), need no login, are never cached, and show
each check's name, status and message, but not its details (paths, sizes): they are public.
``manage.py doctor`` runs the full set and records it.
"""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from system import health


def _answer(names) -> JsonResponse:
    results = health.run_checks(names)
    status = health.overall(results)
    return JsonResponse(
        {
            "status": status,
            "checks": [r.as_dict(with_details=False) for r in results],
        },
        status=503 if status == health.FAIL else 200,
    )


@never_cache
@require_safe
def healthz(request):
    return _answer(health.LIVENESS_CHECKS)


@never_cache
@require_safe
def readyz(request):
    return _answer(health.READINESS_CHECKS)
