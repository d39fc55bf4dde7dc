"""The server's own cost per request: a WSGI application that answers two bytes, served by
gunicorn with the production server's worker class, workers and threads
(``benchmarks/read_path.py`` runs it beside the registry). No Django, no database: what is
left is gunicorn's reading, parsing, dispatch to a thread, writing and its access log, the
floor under any answer the registry gives, however little work that answer does."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
