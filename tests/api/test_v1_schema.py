"""The OpenAPI document: it validates, describes only the lookup API, is served with an
interactive documentation page whose assets are local (no CDN), and the live answers of the
API match it (Schemathesis checks the same over the running server in CI)."""

import copy
import re

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_validates_and_covers_the_lookup_api(openapi):
    validate_schema(openapi)
    paths = set(openapi["paths"])
    assert {
        "/api/v1/entries/{register}/",
        "/api/v1/entries/{register}/{key}/",
        "/api/v1/entries/{register}/{key}/children/",
        "/api/v1/entries/{register}/{key}/ancestors/",
        "/api/v1/entries/{register}/{key}/current/",
        "/api/v1/entries/{register}/{key}/history/",
        "/api/v1/entries/{register}/{key}/versions/",
        "/api/v1/identifiers/{scheme}/{value}/",
        "/api/v1/registers/",
        "/api/v1/entity-types/",
        "/api/v1/events/",
        "/api/v1/lookup/",
        "/api/v1/check/",
    } <= paths
    assert all(path.startswith("/api/v1/") for path in paths)
    detail = openapi["paths"]["/api/v1/entries/{register}/{key}/"]["get"]
    assert "date" in [parameter["name"] for parameter in detail["parameters"]]
    assert set(detail["responses"]) >= {"200", "304", "400", "404", "429"}
    assert list(detail["responses"]["404"]["content"]) == ["application/problem+json"]


def test_schema_is_served_as_json_and_yaml(client):
    as_json = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert as_json.status_code == 200
    assert as_json.json()["info"]["title"] == "Reference Registry lookup API"
    as_yaml = client.get("/api/v1/schema/")
    assert yaml.safe_load(as_yaml.content)["openapi"].startswith("3.")


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_documentation_pages_use_local_assets_only(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(
        r"(?:src|href)='([^']+)'", html
    )
    assert sources
    assets = [s for s in sources if s.endswith((".js", ".css", ".png"))]
    assert assets, sources
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "cdn" not in html.lower()


def _json_schema(node):
    """OpenAPI 3.0 schema objects as JSON Schema: ``nullable`` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _validate(openapi, path, status, body, media="application/json"):
    operation = next(iter(openapi["paths"][path].values()))
    schema = operation["responses"][str(status)]["content"][media]["schema"]
    document = _json_schema({"components": copy.deepcopy(openapi["components"]), **schema})
    jsonschema.validate(body, document)


@pytest.mark.parametrize(
    ("url", "path", "status"),
    [
        ("/api/v1/entries/statistical-geography/E07000004/?date=2019-01-01",
         "/api/v1/entries/{register}/{key}/", 200),
        ("/api/v1/entries/statistical-geography/E07000004/", "/api/v1/entries/{register}/{key}/", 200),
        ("/api/v1/entries/statistical-geography/E06000060/?date=2019-01-01",
         "/api/v1/entries/{register}/{key}/", 200),
        ("/api/v1/entries/local-authority/BIR/", "/api/v1/entries/{register}/{key}/", 200),
        ("/api/v1/entries/statistical-geography/?entity_type=E06&page_size=50",
         "/api/v1/entries/{register}/", 200),
        ("/api/v1/entries/statistical-geography/E06000060/children/?page_size=20",
         "/api/v1/entries/{register}/{key}/children/", 200),
        ("/api/v1/entries/statistical-geography/E05010364/ancestors/",
         "/api/v1/entries/{register}/{key}/ancestors/", 200),
        ("/api/v1/entries/statistical-geography/E01033468/current/",
         "/api/v1/entries/{register}/{key}/current/", 200),
        ("/api/v1/entries/statistical-geography/E07000004/history/",
         "/api/v1/entries/{register}/{key}/history/", 200),
        ("/api/v1/entries/statistical-geography/E07000004/versions/",
         "/api/v1/entries/{register}/{key}/versions/", 200),
        ("/api/v1/entries/statistical-geography/E07000004/versions/1/",
         "/api/v1/entries/{register}/{key}/versions/{number}/", 200),
        ("/api/v1/registers/", "/api/v1/registers/", 200),
        ("/api/v1/entity-types/", "/api/v1/entity-types/", 200),
        ("/api/v1/entity-types/E07/entries/?page_size=5", "/api/v1/entity-types/{key}/entries/", 200),
        ("/api/v1/identifiers/", "/api/v1/identifiers/", 200),
        ("/api/v1/events/?page_size=50", "/api/v1/events/", 200),
        ("/api/v1/entries/statistical-geography/E07999999/", "/api/v1/entries/{register}/{key}/", 404),
        ("/api/v1/entries/statistical-geography/?status=x", "/api/v1/entries/{register}/", 400),
    ],
)  # fmt: skip
def test_answers_match_the_schema(client, openapi, url, path, status):
    response = client.get(url)
    assert response.status_code == status
    media = "application/json" if status == 200 else "application/problem+json"
    _validate(openapi, path, status, response.json(), media)


def test_bulk_answer_matches_the_schema(client, openapi):
    items = ["E07000004", "E0700004", "E99999999", "Newport", "00CN", "", "E01033468"]
    response = client.post("/api/v1/lookup/", {"items": items}, content_type="application/json")
    _validate(openapi, "/api/v1/lookup/", 200, response.json())
