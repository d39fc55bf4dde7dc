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


def test_production_settings_are_safe_by_default():
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings';"
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)"
    )
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 50}
    # The interpreter running the tests, on a fixed snippet: nothing untrusted.
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True", "True", "True"]
    env["REGISTRY_INSECURE_DEV_KEY"] = "false"
    del env["SECRET_KEY"]
    failed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)  # noqa: S603
    assert failed.returncode != 0 and "SECRET_KEY must be set" in failed.stderr


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
