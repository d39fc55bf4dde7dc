"""gunicorn's settings for serving the registry (bin/serve: ``gunicorn -c config/gunicorn.py``).

- **Threaded workers** (``WEB_CONCURRENCY`` processes of ``GUNICORN_THREADS`` threads): a
  client sending its body slowly holds one thread, and for at most ``REGISTRY_BODY_SECONDS``
  (``api.service.BodyDeadline``), while the others keep answering.
- **The application, the reconciliation index and the boundaries' spatial index are loaded
  once, in the master**, before
  the workers are forked: every worker starts with the index built (a worker killed and
  replaced answers its first reconciliation at once, not after rebuilding it for 15 s), and
  the workers share its memory, which ``gc.freeze()`` after the build keeps from being
  copied. The database connections the build used are closed before the fork.
"""

import os
import time

wsgi_app = "config.wsgi:application"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 120
preload_app = True
accesslog = "-"
# No control socket (gunicorn 27's ~/.gunicorn/gunicorn.ctl): several servers on one machine
# (tests, benchmarks, CI) would share its one path; signals still control the server.
control_socket_disable = True


def when_ready(server):
    """In the master, after the application is loaded and before any worker is forked. If
    the database cannot be read now (down, not migrated), the server starts anyway and each
    worker builds the index at its first reconciliation request, as without preloading."""
    from django.db import DatabaseError, connections

    from api.reconcile import index

    started = time.monotonic()
    try:
        index.current().prepare()
    except DatabaseError as error:
        server.log.warning("reconciliation index not built before the fork: %s", error)
    else:
        server.log.info("reconciliation index built in %.1f s", time.monotonic() - started)
    # The boundaries' spatial index (geography/spatial.py), shared by the workers the same way.
    started = time.monotonic()
    try:
        from geography import spatial

        shapes = spatial.current()
        import gc

        gc.freeze()  # keep the workers from copying the index's pages as they count refs
    except DatabaseError as error:
        server.log.warning("spatial index not built before the fork: %s", error)
    else:
        server.log.info(
            "spatial index of %d boundaries built in %.1f s",
            len(shapes),
            time.monotonic() - started,
        )
        # Which engine answers point lookups (REGISTRY_SPATIAL_ENGINE): resolved here so that
        # a configured postgis without its column stops the start (ImproperlyConfigured).
        server.log.info("point lookups: the %s engine", spatial.engine_name())
    finally:
        connections.close_all()
