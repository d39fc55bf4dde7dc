"""Every write endpoint and admin page, tried as an anonymous visitor, a plain signed-in user
and a curator; login throttling; CSRF; safe production settings."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry.models import Entry, Version

WRITE_API = [
    ("post", "/api/v1/curation/entries/"),
    ("put", "/api/v1/curation/entries/statistical-geography/E06000001/"),
    ("post", "/api/v1/curation/entries/statistical-geography/E06000001/names/"),
    ("post", "/api/v1/curation/entries/statistical-geography/E06000001/identifiers/"),
    ("post", "/api/v1/curation/entries/statistical-geography/E06000001/terminate/"),
]


def admin_pages(entry: Entry, version: Version) -> list[str]:
    pages = ["/admin/", "/admin/change-import/", "/admin/change-import/apply/",
             f"/admin/registry/entry/{entry.pk}/versions/",
             f"/admin/registry/entry/{entry.pk}/versions/{version.number}/restore/"]  # fmt: skip
    for model in admin.site._registry:
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        pages += [base, f"{base}add/"]
    return pages


@pytest.fixture
def users(db):
    make = get_user_model().objects.create_user
    plain = make("pat", password="x-long-enough-pw")
    staff = make("sam", password="x-long-enough-pw", is_staff=True)  # staff, but in no group
    curator = make("cora", password="x-long-enough-pw", is_staff=True)
    curator.groups.add(Group.objects.get(name="curator"))
    boss = make("ada", password="x-long-enough-pw", is_staff=True)
    boss.groups.add(Group.objects.get(name="registry admin"))
    return {"plain": plain, "staff": staff, "curator": curator, "admin": boss}


@pytest.mark.parametrize(("method", "url"), WRITE_API)
def test_write_api_refuses_anonymous_and_unprivileged(users, method, url):
    anonymous = getattr(APIClient(), method)(url, {}, format="json")
    assert anonymous.status_code == 401
    assert anonymous["Content-Type"] == "application/problem+json"
    for who in ("plain", "staff"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=users[who]).key}")
        assert getattr(client, method)(url, {}, format="json").status_code == 403
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=users['curator']).key}"
    )
    # Authorised: the empty body is refused for what it lacks, not for who sent it.
    assert getattr(client, method)(url, {}, format="json").status_code == 400


def test_a_bad_token_is_refused(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.post(WRITE_API[0][1], {}, format="json").status_code == 401


def test_admin_pages_by_role(users, area):
    entry = area("E06000001")
    version = entry.versions.first()
    pages = admin_pages(entry, version)
    for page in pages:
        anonymous = Client().get(page)
        assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"], page
    plain = Client()
    plain.force_login(users["plain"])
    for page in pages:
        response = plain.get(page)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], page
    staff = Client()
    staff.force_login(users["staff"])
    for page in pages[1:]:
        assert staff.get(page).status_code == 403, page
    curator = Client()
    curator.force_login(users["curator"])
    allowed = {"/admin/", "/admin/change-import/", "/admin/registry/entry/", "/admin/registry/entry/add/",
               "/admin/registry/changeevent/", "/admin/registry/version/", "/admin/registry/importrun/",
               "/admin/registry/register/", f"/admin/registry/entry/{entry.pk}/versions/",
               f"/admin/registry/entry/{entry.pk}/versions/{version.number}/restore/"}  # fmt: skip
    for page in pages:
        response = curator.get(page)
        if page == "/admin/change-import/apply/":
            assert response.status_code == 302, page  # GET only redirects back to the upload
        elif page in allowed:
            assert response.status_code == 200, page
        else:
            assert response.status_code == 403, page
    # Curators cannot manage users or change registers; registry admins can.
    assert curator.get("/admin/auth/user/").status_code == 403
    assert curator.get("/admin/registry/register/add/").status_code == 403
    boss = Client()
    boss.force_login(users["admin"])
    assert boss.get("/admin/auth/user/").status_code == 200
    assert boss.get("/admin/registry/register/add/").status_code == 200


def test_nobody_can_delete_an_entry(users, area):
    entry = area("E06000001")
    boss = Client()
    boss.force_login(users["admin"])
    assert (
        boss.post(f"/admin/registry/entry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_admin_forms_need_a_csrf_token(users, area):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["curator"])
    response = client.post("/admin/change-import/", {})
    assert response.status_code == 403


def test_login_is_throttled_after_repeated_failures(users, settings):
    from django.core.cache import caches

    caches["throttle"].clear()
    settings.REGISTRY_LOGIN_ATTEMPTS = 3
    client = Client()
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "cora", "password": "wrong"})
        assert "Please enter the correct username and password" in response.content.decode()
    # Even the right password is refused now.
    response = client.post("/admin/login/", {"username": "cora", "password": "x-long-enough-pw"})
    assert response.status_code == 200
    assert (
        "Too many failed attempts to log in. Try again in 15 minutes." in response.content.decode()
    )
    caches["throttle"].clear()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "cora", "password": "x-long-enough-pw"}
    )
    assert response.status_code == 302


def test_guessing_a_username_elsewhere_does_not_lock_its_owner_out(users, settings):
    from django.core.cache import caches

    caches["throttle"].clear()
    settings.REGISTRY_LOGIN_ATTEMPTS = 3
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(5):
        attacker.post("/admin/login/", {"username": "cora", "password": "wrong"})
    refused = attacker.post("/admin/login/", {"username": "cora", "password": "x-long-enough-pw"})
    assert "Too many failed attempts to log in" in refused.content.decode()
    owner = Client(REMOTE_ADDR="203.0.113.7")
    ok = owner.post(
        "/admin/login/?next=/admin/", {"username": "cora", "password": "x-long-enough-pw"}
    )
    assert ok.status_code == 302
    caches["throttle"].clear()


def test_a_distributed_guess_slows_new_addresses_but_never_the_owners_own(users, settings):
    from django.core.cache import caches

    caches["throttle"].clear()
    settings.REGISTRY_LOGIN_USERNAME_BACKOFF = 4
    owner = Client(REMOTE_ADDR="203.0.113.7")
    ok = {"username": "cora", "password": "x-long-enough-pw"}
    assert owner.post("/admin/login/?next=/admin/", ok).status_code == 302
    owner.logout()
    for n in range(4):  # one guess each from four addresses
        Client(REMOTE_ADDR=f"198.51.100.{n}").post("/admin/login/", {**ok, "password": "no"})
    stranger = Client(REMOTE_ADDR="192.0.2.1").post("/admin/login/", ok)
    assert "Too many failed attempts to log in" in stranger.content.decode()
    assert owner.post("/admin/login/?next=/admin/", ok).status_code == 302
    caches["throttle"].clear()


def test_a_parallel_burst_gets_no_more_guesses_than_the_limit(settings, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from django.core.cache import caches
    from django.test import RequestFactory

    from registry.auth import attempt

    settings.CACHES = {
        **settings.CACHES,
        "throttle": {"BACKEND": "registry.cache.FileCache", "LOCATION": str(tmp_path)},
    }
    settings.REGISTRY_LOGIN_ATTEMPTS = 5
    try:
        request = RequestFactory().post("/admin/login/", REMOTE_ADDR="198.51.100.66")
        with ThreadPoolExecutor(30) as pool:
            allowed = list(pool.map(lambda _: attempt(request, "cora"), range(30)))
        assert allowed.count(True) == 5
    finally:
        caches["throttle"].clear()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "10.0.0.1"),
        (0, "203.0.113.7", "10.0.0.1"),  # no proxy trusted: the header is anyone's to forge
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client's own entry is ignored
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, "", "10.0.0.1"),  # the proxy sent none: the peer
        (2, "203.0.113.7", "10.0.0.1"),  # fewer hops than proxies: the peer
    ],
)
def test_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    from django.test import RequestFactory

    from registry.auth import client_address

    settings.REGISTRY_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(users, settings):
    from django.core.cache import caches

    caches["throttle"].clear()
    settings.REGISTRY_LOGIN_ATTEMPTS = 3
    settings.REGISTRY_LOGIN_ADDRESS_ATTEMPTS = 3
    settings.REGISTRY_TRUSTED_PROXIES = 1
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.66")
    for name in ("admin", "root", "test"):
        attacker.post("/admin/login/", {"username": name, "password": "wrong"})
    locked = attacker.post("/admin/login/", {"username": "cora", "password": "x-long-enough-pw"})
    assert "Too many failed attempts to log in" in locked.content.decode()
    # Another client through the same proxy still logs in.
    curator = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    response = curator.post(
        "/admin/login/?next=/admin/", {"username": "cora", "password": "x-long-enough-pw"}
    )
    assert response.status_code == 302
    caches["throttle"].clear()


def _settings_in_a_fresh_process(env: dict, *names: str):
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
        "from django.conf import settings as s;"
        f"print(repr([getattr(s, n, None) for n in {list(names)!r}]))"
    )
    env = {"PATH": "/usr/bin:/bin", "REGISTRY_SECRET_KEY_FILE": "/nonexistent/secret", **env}
    # The interpreter running the tests, on a fixed snippet: nothing untrusted.
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)  # noqa: S603


def test_production_settings_are_safe_by_default():
    import ast

    out = _settings_in_a_fresh_process(
        {"SECRET_KEY": "x" * 50},
        "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
    )  # fmt: skip
    assert ast.literal_eval(out.stdout) == [False, True, True, 31536000, None]
    # Without a key (none in the environment, no key file) and not in debug: no start.
    failed = _settings_in_a_fresh_process({}, "SECRET_KEY")
    assert failed.returncode != 0 and "SECRET_KEY must be set" in failed.stderr
    # In debug, a development key; from a key file, that key.
    debug = _settings_in_a_fresh_process({"DEBUG": "true"}, "SECRET_KEY")
    assert ast.literal_eval(debug.stdout)[0].startswith("dev-only-insecure-key")


def test_the_key_file_bin_setup_writes_is_read(tmp_path):
    import ast

    key = tmp_path / "secret-key"
    key.write_text("k" * 50 + "\n")
    out = _settings_in_a_fresh_process({"REGISTRY_SECRET_KEY_FILE": str(key)}, "SECRET_KEY")
    assert ast.literal_eval(out.stdout) == ["k" * 50]


def test_x_forwarded_proto_is_trusted_only_behind_a_trusted_proxy():
    import ast

    env = {"SECRET_KEY": "x" * 50}
    alone = _settings_in_a_fresh_process(env, "SECURE_PROXY_SSL_HEADER")
    assert ast.literal_eval(alone.stdout) == [None]
    proxied = _settings_in_a_fresh_process(
        {**env, "REGISTRY_TRUSTED_PROXIES": "1"}, "SECURE_PROXY_SSL_HEADER"
    )
    assert ast.literal_eval(proxied.stdout) == [("HTTP_X_FORWARDED_PROTO", "https")]


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        ("", "registry.cache.FileCache", "/srv/throttle"),
        ("redis://cache:6379/1", "django_redis.cache.RedisCache", "redis://cache:6379/1"),
        ("file:///var/cache/registry", "registry.cache.FileCache", "/var/cache/registry"),
    ],
)  # fmt: skip
def test_the_shared_cache_is_chosen_by_one_setting(url, backend, location):
    from pathlib import Path

    from config.settings import cache_for

    chosen = cache_for(url, Path("/srv/throttle"))
    assert (chosen["BACKEND"], chosen["LOCATION"]) == (backend, location)


@pytest.mark.parametrize(
    ("url", "location", "prefix"),
    [
        ("", "/srv/cache", None),
        ("redis://cache:6379/1", "redis://cache:6379/1", "render"),
        ("file:///var/cache/registry", "/var/cache/registry/render", None),
    ],
)
def test_answers_are_kept_in_the_same_shared_cache_apart_from_the_counts(url, location, prefix):
    from pathlib import Path

    from config.settings import cache_for

    chosen = cache_for(url, Path("/srv/cache"), part="render")
    assert (chosen["LOCATION"], chosen.get("KEY_PREFIX")) == (location, prefix)


def test_every_worker_reads_an_answer_another_kept(tmp_path):
    """The default (file) cache is shared by processes: what one process keeps, a fresh one
    reads."""
    import os
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
        "django.setup(); from django.core.cache import cache; import sys; "
        "print(cache.get('answer')) if sys.argv[1] == 'get' else cache.set('answer', 'kept', 60)"
    )
    env = {**os.environ, "REGISTRY_RENDER_CACHE": str(tmp_path), "SECRET_KEY": "x" * 50}
    env.pop("REGISTRY_CACHE_URL", None)
    for step in ("set", "get"):
        # The interpreter running the tests, on a fixed snippet: nothing untrusted.
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-c", code, step], env=env, capture_output=True, text=True, check=True
        )
    assert done.stdout.strip() == "kept"


def test_an_unknown_cache_url_is_refused():
    from pathlib import Path

    from django.core.exceptions import ImproperlyConfigured

    from config.settings import cache_for

    with pytest.raises(ImproperlyConfigured, match="REGISTRY_CACHE_URL"):
        cache_for("memcached://x", Path("throttle"))


def test_http_basic_credentials_are_ignored_so_passwords_cannot_be_guessed_through_the_api(users):
    import base64

    for password in ("wrong", "x-long-enough-pw"):
        header = "Basic " + base64.b64encode(f"cora:{password}".encode()).decode()
        response = APIClient().post(WRITE_API[0][1], {}, format="json", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401  # the same answer whether the password is right or not
        assert Client().get("/api/v1/schema/", HTTP_AUTHORIZATION=header).status_code == 200


def test_curators_cannot_post_to_pages_they_may_not_use(users, area):
    curator = Client()
    curator.force_login(users["curator"])
    register_pk = area("E06000001").register_id
    response = curator.post(f"/admin/registry/register/{register_pk}/change/", {"name": "Renamed"})
    assert response.status_code == 403
    assert curator.post("/admin/auth/user/add/", {"username": "eve"}).status_code == 403
    staff = Client()
    staff.force_login(users["staff"])
    entry = area("E06000001")
    restore = f"/admin/registry/entry/{entry.pk}/versions/{entry.version}/restore/"
    assert staff.post(restore, {"change_note": "x"}).status_code == 403
    assert (
        staff.post("/admin/change-import/apply/", {"token": "abc", "change_note": "x"}).status_code
        == 403
    )


def test_registry_admins_issue_api_tokens(users):
    boss = Client()
    boss.force_login(users["admin"])
    assert boss.get("/admin/authtoken/tokenproxy/").status_code == 200


def test_two_workers_count_one_clients_requests_together(tmp_path):
    """Two cache objects on one folder are what two gunicorn workers hold: a client's count
    is one count, so a limit cannot be multiplied by the number of workers."""
    from registry.cache import FileCache, count

    first, second = (FileCache(str(tmp_path), {}) for _ in range(2))
    assert [count(first, "k", 60), count(second, "k", 60), count(first, "k", 60)] == [1, 2, 3]
    assert count(second, "k", 60, amount=10) == 13  # reconciliation counts queries by cost


def test_a_cache_with_atomic_add_and_incr_counts_as_well():
    from django.core.cache.backends.locmem import LocMemCache

    from registry.cache import count

    cache = LocMemCache("count-test", {})
    assert [count(cache, "k", 60), count(cache, "k", 60, amount=4)] == [1, 5]


def test_with_redis_every_node_shares_the_answers_and_the_counts(tmp_path):
    """REGISTRY_CACHE_URL=redis://… against a real Redis (Debian's redis-server, started here
    on a free loopback port): an answer kept by one cache client is read by another, apart
    from the counts, which stay atomic."""
    import shutil
    import socket
    import subprocess
    import time

    from config.settings import cache_for
    from registry.cache import count

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    RedisCache = pytest.importorskip("django_redis.cache").RedisCache  # noqa: N806 (a class)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # A fixed command on this machine's own redis-server, loopback only, nothing kept on disk.
    process = subprocess.Popen(  # noqa: S603
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"

        def client(part=""):
            config = cache_for(url, tmp_path, part=part)
            return RedisCache(config["LOCATION"], {"KEY_PREFIX": config["KEY_PREFIX"]})

        node_a, node_b, counts = client("render"), client("render"), client()
        for _ in range(50):
            try:
                node_a.set("document:x", b"rendered", 60)
                break
            except Exception:  # noqa: BLE001 (the server is still starting)
                time.sleep(0.1)
        assert node_b.get("document:x") == b"rendered"
        assert counts.get("document:x") is None
        assert [count(counts, "hits", 60) for _ in range(3)] == [1, 2, 3]
        assert count(counts, "hits", 60, amount=5) == 8  # reconciliation counts by cost
        assert counts.get("hits") == 8  # as the login lock-out reads it
        assert 0 < counts.ttl("hits") <= 60  # and it expires
    finally:
        process.terminate()
        process.wait(timeout=10)
