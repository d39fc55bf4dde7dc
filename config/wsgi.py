"""WSGI entry point for production servers (gunicorn config.wsgi): Django's application,
inside :class:`api.service.BodyDeadline`, so a request body that never arrives frees its
thread after ``REGISTRY_BODY_SECONDS``, and behind :class:`api.early.EarlyAnswers`, which
answers the ``/id/`` 303 and an entry document's 304 before Django does any work."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()

from api.early import EarlyAnswers  # noqa: E402 (needs the settings configured above)
from api.service import BodyDeadline  # noqa: E402

application = EarlyAnswers(BodyDeadline(django_application))
