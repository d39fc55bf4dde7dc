"""The reconciliation service over HTTP: manifests, JSONP, CORS, errors, suggest paging,
preview, view, data extension and the 1.0 draft."""

import json
from urllib.parse import urlencode

import pytest

from api.reconcile import index
from api.reconcile.responses import guard

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def no_background_build(monkeypatch):
    # The manifest starts building the index in a thread; tests build it in their own.
    monkeypatch.setattr(index, "warm", lambda: None)


def post(client, path, **fields):
    extra = {k: fields.pop(k) for k in list(fields) if k.isupper()}  # REMOTE_ADDR, HTTP_…
    body = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()})
    return client.post(path, body, content_type=FORM, **extra)


@pytest.mark.parametrize("path", ["/reconcile", "/reconcile/"])
def test_manifest(client, db, path):
    response = client.get(path, HTTP_HOST="testserver")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    manifest = response.json()
    assert manifest["versions"] == ["0.1", "0.2"]
    assert manifest["identifierSpace"] == "http://127.0.0.1:8000/id/"
    assert manifest["schemaSpace"] == "http://127.0.0.1:8000/def/"
    assert manifest["view"] == {"url": "http://testserver/reconcile/view/{{id}}"}
    assert manifest["preview"] == {
        "url": "http://testserver/reconcile/preview/{{id}}",
        "width": 420,
        "height": 240,
    }
    assert manifest["batchSize"] == 50
    assert manifest["suggest"]["entity"] == {
        "service_url": "http://testserver/reconcile",
        "service_path": "/suggest/entity",
    }
    assert manifest["extend"]["propose_properties"] == {
        "service_url": "http://testserver/reconcile",
        "service_path": "/extend/propose",
    }
    ids = [t["id"] for t in manifest["defaultTypes"]]
    assert ids[:3] == ["local-authority-district", "local-authority-area", "county"]
    assert {"statistical-geography", "local-authority", "E06", "E05", "S12"} <= set(ids)
    assert "E00" not in ids  # no entries of that type


def test_manifest_honours_the_proxy(client, db, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 1
    settings.ALLOWED_HOSTS = ["registry.example.org", "testserver"]
    response = client.get(
        "/reconcile",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="registry.example.org",
    )
    assert response.json()["view"]["url"] == "https://registry.example.org/reconcile/view/{{id}}"
    # A forwarded host outside ALLOWED_HOSTS is not believed.
    response = client.get("/reconcile", HTTP_X_FORWARDED_HOST="evil.example")
    assert response.json()["view"]["url"] == "http://testserver/reconcile/view/{{id}}"


def test_jsonp(client, db):
    response = client.get("/reconcile", {"callback": "jQuery3710123_1732780000000"})
    assert response["Content-Type"] == "application/javascript"
    body = response.content.decode()
    assert body.startswith("jQuery3710123_1732780000000({") and body.endswith(");")


@pytest.mark.parametrize("callback", ["alert(1);x", "a b", "1abc", "x" * 200])
def test_jsonp_refuses_unsafe_callbacks(client, db, callback):
    response = client.get("/reconcile", {"callback": callback})
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {
        "status": 400,
        "error": "callback must be a JavaScript function name",
    }


def test_preflight(client):
    response = client.options(
        "/reconcile",
        HTTP_ORIGIN="http://127.0.0.1:3333",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


def test_post_needs_no_csrf_token(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = post(client, "/reconcile", queries={"q0": {"query": "E06000001"}})
    assert response.status_code == 200


def test_queries_by_post_and_get_agree(client, db):
    batch = {"a": {"query": "Hartlepool", "type": "E06"}, "b": {"query": "E08000025"}}
    by_post = post(client, "/reconcile", queries=batch).json()
    by_get = client.get("/reconcile", {"queries": json.dumps(batch)}).json()
    assert by_post == by_get
    assert [(c["id"], c["match"]) for c in by_post["a"]["result"]] == [("E06000001", True)]
    first = by_post["b"]["result"][0]
    assert first == {
        "id": "E08000025",
        "name": "Birmingham",
        "description": "Metropolitan district in West Midlands, 2009–",
        "score": 100.0,
        "match": True,
        # Broad groups first, narrowest first: OpenRefine pre-selects the first type.
        "type": [
            {"id": "local-authority-district", "name": "Local authority district (any kind)"},
            {"id": "local-authority-area", "name": "Local authority area (any tier)"},
            {"id": "E08", "name": "Metropolitan Districts"},
        ],
        "features": first["features"],
    }
    assert {"id": "identifier", "value": True} in first["features"]


def test_one_bad_query_never_fails_its_batch(client, db):
    batch = {
        "good": {"query": "Hartlepool", "type": ["E06"]},
        "empty": {},
        "wrong": {"query": ["not", "text"]},
        "props": {"query": "Hartlepool", "properties": "district"},
        "odd": 42,
    }
    body = post(client, "/reconcile", queries=batch).json()
    assert body["good"]["result"][0]["id"] == "E06000001"
    assert body["empty"] == {"result": [], "error": "a query needs query text or properties"}
    assert body["wrong"] == {"result": [], "error": "query must be a string"}
    assert body["props"] == {"result": [], "error": "properties must be a list of {pid, v}"}
    assert body["odd"] == {"result": [], "error": "a query must be an object"}


@pytest.mark.parametrize(
    "v",
    [
        "Hartlepool",
        12,
        True,
        "2020-01-01",
        {"id": "E12000001", "name": "North East"},
        [True, "x"],
        None,
    ],
)
def test_property_values_of_every_shape(client, db, v):
    batch = {
        "q0": {"query": "Hartlepool", "type": "E06", "properties": [{"pid": "parent", "v": v}]}
    }
    response = post(client, "/reconcile", queries=batch)
    assert response.status_code == 200
    assert response.json()["q0"]["result"][0]["id"] == "E06000001"


@pytest.mark.parametrize(
    ("pid", "v", "unreadable"),
    [
        ("date", "2021-99-99", "date"),
        ("parent", "Nowhere At All", "parent"),
        ("status", "maybe", "status"),
    ],
)
def test_an_unreadable_property_is_reported_and_blocks_the_match(client, db, pid, v, unreadable):
    batch = {"q0": {"query": "Hartlepool", "type": "E06", "properties": [{"pid": pid, "v": v}]}}
    top = post(client, "/reconcile", queries=batch).json()["q0"]["result"][0]
    assert (top["id"], top["match"]) == ("E06000001", False)
    assert {"id": f"unreadable_{unreadable}", "value": True} in top["features"]
    plain = {"q0": {"query": "Hartlepool", "type": "E06"}}
    top = post(client, "/reconcile", queries=plain).json()["q0"]["result"][0]
    assert top["match"] is True
    assert not any(f["id"].startswith("unreadable_") for f in top["features"])


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"queries": "{not json"}, 400, "queries is not valid JSON"),
        ({"queries": "[1, 2]"}, 400, "queries must be a JSON object of queries by key"),
        ({"extend": "{not json"}, 400, "extend is not valid JSON"),
        ({"extend": '{"ids": "E06000001"}'}, 400, "extend.ids must be a list of entity ids"),
        (
            {
                "extend": '{"ids": ["E06000001"], "properties": [{"id": "name", "settings": {"date": "soon"}}]}'
            },
            400,
            "setting date 'soon' is not a date (YYYY-MM-DD)",
        ),
    ],
)
def test_malformed_input(client, db, body, status, error):
    response = client.post("/reconcile", urlencode(body), content_type=FORM)
    assert response.status_code == status
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {"status": status, "error": error}


def test_over_large_batch(client, db):
    batch = {f"q{i}": {"query": "x"} for i in range(501)}
    response = post(client, "/reconcile", queries=batch)
    assert response.status_code == 413
    assert response.json()["error"] == "at most 500 queries per request"
    ids = [f"E0600000{i % 10}" for i in range(501)]
    response = post(client, "/reconcile", extend={"ids": ids, "properties": []})
    assert response.status_code == 413


def test_overload_gets_429_with_retry_after(client, db, settings, monkeypatch):
    settings.REGISTRY_RECONCILE_RATE = 1
    settings.REGISTRY_RECONCILE_BURST = 5
    monkeypatch.setattr(guard, "clock", lambda: 1_000_000.5)  # 0.5 s into a 5-s window
    ours = {"REMOTE_ADDR": "192.0.2.77"}
    one = {"q": {"query": "Hartlepool"}}
    assert post(client, "/reconcile", queries=one, **ours).status_code == 200
    batch = {f"q{i}": {"query": "Hartlepool"} for i in range(10)}
    response = post(client, "/reconcile", queries=batch, **ours)
    assert response.status_code == 429
    assert response["Retry-After"] == "5"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_busy_process_gets_429(client, db, settings):
    settings.REGISTRY_RECONCILE_CONCURRENCY = 0
    response = client.get("/reconcile")
    assert response.status_code == 429
    assert response["Retry-After"] == "1"


def test_unknown_path_and_method(client, db):
    response = client.get("/reconcile/nothing/here")
    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {
        "status": 404,
        "error": "no reconciliation resource at /reconcile/nothing/here",
    }
    response = client.delete("/reconcile")
    assert response.status_code == 405


# --------------------------------------------------------------------------- suggest


def test_suggest_entity_pages_with_a_cursor(client, db):
    first = client.get("/reconcile/suggest/entity", {"prefix": "castle", "type": "ward"}).json()
    assert len(first["result"]) == 10
    assert first["cursor"] == 10
    assert first["result"][0] == {
        "id": "E05001154",
        "name": "Castle",
        "description": "Ward in Sunderland, 2009–",  # the CHD's date
        "notable": [
            {"id": "ward", "name": "Electoral ward or division (any country)"},
            {"id": "E05", "name": "Electoral Wards/Divisions"},
        ],
    }
    seen = {item["id"] for item in first["result"]}
    cursor, pages = first["cursor"], 1
    while cursor is not None:
        page = client.get(
            "/reconcile/suggest/entity", {"prefix": "castle", "type": "ward", "cursor": cursor}
        ).json()
        assert not seen & {item["id"] for item in page["result"]}
        seen |= {item["id"] for item in page["result"]}
        cursor, pages = page.get("cursor"), pages + 1
    assert pages > 2
    # The last page carries no cursor, so OpenRefine offers no "view more".
    assert "cursor" not in page


def test_suggest_entity_by_id(client, db):
    result = client.get("/reconcile/suggest/entity", {"prefix": "E06000001"}).json()["result"]
    assert result[0]["id"] == "E06000001"
    assert client.get("/reconcile/suggest/entity", {"prefix": ""}).json() == {"result": []}


def test_suggest_entity_offers_authorities_before_small_areas_of_a_name(client, db):
    # With every CHD code, three wards called Hart would fill the first page before
    # Hartlepool, whose name "Hart" begins (the W3C checker suggests by such a prefix).
    result = client.get("/reconcile/suggest/entity", {"prefix": "Hart"}).json()["result"]
    assert [item["id"] for item in result[:4]] == ["E07000089", "HAT", "E06000001", "HPL"]
    assert {item["id"] for item in result[4:]} >= {"E05013042", "E05001473"}  # wards: Hart


def test_suggest_type(client, db):
    body = client.get("/reconcile/suggest/type", {"prefix": "ward"}).json()
    assert body["result"][0]["id"] == "ward"
    assert "E05" in [t["id"] for t in body["result"]]
    assert "cursor" not in body


def test_suggest_property(client, db):
    body = client.get("/reconcile/suggest/property", {"prefix": ""}).json()
    ids = [p["id"] for p in body["result"]]
    assert ids[:5] == ["parent", "district", "county", "region", "country"]
    assert body["cursor"] == 10


# --------------------------------------------------------------------------- preview, view


def test_preview_is_framable_html(client, db):
    response = client.get("/reconcile/preview/E06000001")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "X-Frame-Options" not in response
    html = response.content.decode()
    assert "<script" not in html
    assert "Hartlepool" in html and "<code>E06000001</code>" in html
    assert "Hartlepool Borough Council" in html


@pytest.mark.parametrize("ident", ["ZZ-NO-SUCH-ID", ""])
def test_preview_unknown(client, db, ident):
    response = client.get(f"/reconcile/preview/{ident}")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "X-Frame-Options" not in response


def test_view_redirects_to_the_document(client, db):
    response = client.get("/reconcile/view/e06000001")
    assert response.status_code == 302
    assert response["Location"] == "/doc/statistical-geography/E06000001"
    assert client.get("/reconcile/view/NOPE").status_code == 404


# --------------------------------------------------------------------------- extend


@pytest.mark.parametrize(
    ("type_id", "first", "count"),
    # One property per identifier scheme, including the five the CHD's Equivalents table
    # brings (empty unless loaded with --chd).
    [
        ("E05", "code", 33),
        ("", "code", 34),
        ("local-authority", "code", 18),
        ("statistical-entity", "code", 3),
    ],
)
def test_propose_properties(client, db, type_id, first, count):
    body = client.get("/reconcile/extend/propose", {"type": type_id}).json()
    assert body["type"] == type_id
    assert body["properties"][0]["id"] == first
    assert len(body["properties"]) == count


def test_extend_get_and_post_agree(client, db):
    query = {
        "ids": ["E07000004", "NOPE"],
        "properties": [
            {"id": "name"},
            {"id": "current"},
            {"id": "parent-county", "settings": {"date": "2019-01-01"}},
            {"id": "terminated"},
            {"id": "identifier-ons-legacy"},
            {"id": "zz-unknown"},
        ],
    }
    by_post = post(client, "/reconcile", extend=query).json()
    by_get = client.get("/reconcile", {"extend": json.dumps(query)}).json()
    assert by_post == by_get
    assert by_post == {
        "meta": [
            {"id": "name", "name": "Name"},
            {
                "id": "current",
                "name": "Current code(s)",
                "type": {"id": "statistical-geography", "name": "Statistical geography (any area)"},
            },
            {
                "id": "parent-county",
                "name": "County",
                "type": {"id": "county", "name": "County (any kind)"},
            },
            {"id": "terminated", "name": "Terminated date"},
            {"id": "identifier-ons-legacy", "name": "Legacy ONS (SNAC) code"},
            {"id": "zz-unknown", "name": "zz-unknown (unknown property)"},
        ],
        "rows": {
            "E07000004": {
                "name": [{"str": "Aylesbury Vale"}],
                "current": [{"id": "E06000060", "name": "Buckinghamshire"}],
                "parent-county": [{"id": "E10000002", "name": "Buckinghamshire"}],
                "terminated": [{"date": "2020-03-31T00:00:00Z"}],
                "identifier-ons-legacy": [{"str": "11UB"}],
                "zz-unknown": [],
            },
            "NOPE": {
                "name": [],
                "current": [],
                "parent-county": [],
                "terminated": [],
                "identifier-ons-legacy": [],
                "zz-unknown": [],
            },
        },
    }


# --------------------------------------------------------------------------- 1.0 draft


@pytest.mark.parametrize("path", ["/reconcile/v1", "/reconcile/v1/"])
def test_v1_manifest(client, db, path):
    manifest = client.get(path).json()
    assert manifest["versions"] == ["1.0-draft"]
    assert manifest["view"] == {"url": "http://testserver/reconcile/view/{id}"}
    assert manifest["suggest"] == {"entity": True, "type": True, "property": True}
    assert manifest["extend"]["proposeProperties"] is True


def test_v1_match(client, db):
    body = {
        "queries": [
            {
                "conditions": [
                    {"matchType": "name", "propertyValue": "Castle"},
                    {
                        "matchType": "property",
                        "propertyId": "district",
                        "propertyValue": "Tamworth",
                    },
                ],
                "type": "ward",
            },
            {"conditions": [{"matchType": "id", "propertyValue": "E06000001"}]},
            {"conditions": []},
        ]
    }
    response = client.post("/reconcile/v1/match", json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(c["id"], c["match"]) for c in results[0]["candidates"][:1]] == [("E05007069", True)]
    assert results[1]["candidates"][0]["id"] == "E06000001"
    assert results[2] == {"candidates": [], "error": "a query needs a non-empty list of conditions"}
    feature = results[1]["candidates"][0]["features"][0]
    assert set(feature) == {"id", "name", "value"}


def test_v1_extend(client, db):
    body = {"ids": ["E06000001"], "properties": [{"id": "governed_by"}]}
    response = client.post(
        "/reconcile/v1/extend", json.dumps(body), content_type="application/json"
    )
    assert response.json()["rows"] == [
        {
            "id": "E06000001",
            "properties": [
                {
                    "id": "governed_by",
                    "values": [{"id": "HPL", "name": "Hartlepool Borough Council"}],
                }
            ],
        }
    ]


def test_v1_suggest_uses_offset(client, db):
    body = client.get(
        "/reconcile/v1/suggest/entity", {"prefix": "castle", "offset": 0, "limit": 5}
    ).json()
    assert len(body["result"]) == 5
    assert body["offset"] == 5


def test_extend_answers_nothing_outside_the_lifetime(client, db):
    """Asked as at a day before E07000004 began or after it ended, a name or a parent is
    not there; its own dates, and where it leads, always are."""

    def extend(date):
        settings = {"date": date}
        query = {
            "ids": ["E07000004"],
            "properties": [
                {"id": "name", "settings": settings},
                {"id": "parent-county", "settings": settings},
                {"id": "terminated", "settings": settings},
                {"id": "current", "settings": settings},
            ],
        }
        return post(client, "/reconcile", extend=query).json()["rows"]["E07000004"]

    assert extend("2019-01-01") == {
        "name": [{"str": "Aylesbury Vale"}],
        "parent-county": [{"id": "E10000002", "name": "Buckinghamshire"}],
        "terminated": [{"date": "2020-03-31T00:00:00Z"}],
        "current": [{"id": "E07000004", "name": "Aylesbury Vale"}],
    }
    after = extend("2021-01-01")
    assert after["name"] == [] and after["parent-county"] == []
    assert after["terminated"] == [{"date": "2020-03-31T00:00:00Z"}]
    assert after["current"] == [{"id": "E06000060", "name": "Buckinghamshire"}]
    before = extend("2001-01-01")
    assert before["name"] == [] and before["parent-county"] == []


def test_extend_the_new_hierarchies(client, db):
    query = {
        "ids": ["S01013481", "E04012107", "E38000265"],
        "properties": [
            {"id": "parent-intermediate-zone"},
            {"id": "parent-district"},
            {"id": "parent-icb"},
            {"id": "parent-nhs-region"},
        ],
    }
    rows = post(client, "/reconcile", extend=query).json()["rows"]
    # A data zone's intermediate zone and council area; a parish's district.
    assert rows["S01013481"]["parent-intermediate-zone"] == [
        {"id": "S02002514", "name": "Broxburn East"}
    ]
    assert rows["S01013481"]["parent-district"] == [{"id": "S12000040", "name": "West Lothian"}]
    assert rows["E04012107"]["parent-district"] == [{"id": "E06000024", "name": "North Somerset"}]
    # A sub-ICB location's ICB, and that ICB's NHS region.
    assert rows["E38000265"]["parent-icb"] == [
        {"id": "E54000064", "name": "NHS Sussex Integrated Care Board"}
    ]
    assert rows["E38000265"]["parent-nhs-region"] == [{"id": "E40000005", "name": "South East"}]
    proposed = client.get("/reconcile/extend/propose", {"type": "data-zone"}).json()
    assert "parent-intermediate-zone" in {p["id"] for p in proposed["properties"]}


def test_an_identifier_of_another_type_says_so(client, db):
    queries = {"q0": {"query": "E10000016", "type": "local-authority-district"}}
    first = post(client, "/reconcile", queries=queries).json()["q0"]["result"][0]
    assert (first["id"], first["match"]) == ("E10000016", True)
    assert {"id": "type_differs", "value": True} in first["features"]


def test_a_confirmed_typo_says_how_far_it_is(client, db):
    queries = {
        "q0": {"query": "Wrarington", "type": "local-authority-district"},
        "q1": {"query": "Wrarington"},
    }
    body = post(client, "/reconcile", queries=queries).json()
    typed = body["q0"]["result"][0]
    assert (typed["id"], typed["match"]) == ("E06000007", True)
    assert {"id": "typing_slips", "value": 1} in typed["features"]
    assert not any(c["match"] for c in body["q1"]["result"])  # no type: nothing confirms it
