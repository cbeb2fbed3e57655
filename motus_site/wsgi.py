"""WSGI entry point (gunicorn motus_site.wsgi; README: ``gunicorn -c gunicorn.conf.py``).

A web request waits at most ``MOTUS_BUSY_TIMEOUT_MS`` (5 s here, unless set) for another
process's write lock, then answers 503 ``database_busy`` with ``Retry-After``: well before
any server's worker timeout (gunicorn's is 30 s), which would otherwise kill the worker and
send its own HTML 500. Management commands keep the settings' 30 s.
"""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("MOTUS_BUSY_TIMEOUT_MS", "5000")  # the same default as gunicorn.conf.py
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "motus_site.settings")
application = get_wsgi_application()

# Import the URLconf now, while the worker boots, rather than in its first request: it
# imports every view module (and the MCP SDK, about a second of CPU), which would
# otherwise make each worker's first request that much slower.
get_resolver().url_patterns  # noqa: B018 (an import with effects)
