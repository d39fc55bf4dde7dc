import pytest

from geography.registers import ons_uri
from registry import uris


@pytest.fixture(autouse=True)
def uri_base(settings):
    settings.REGISTRY_URI_BASE = "https://registry.example.org"


@pytest.mark.parametrize(
    ("register", "key", "expected"),
    [
        (
            "statistical-geography",
            "E06000001",
            "https://registry.example.org/id/statistical-geography/E06000001",
        ),
        ("statistical-entity", "E06", "https://registry.example.org/id/statistical-entity/E06"),
        ("local-authority", "BIR", "https://registry.example.org/id/local-authority/BIR"),
        ("local-authority", "NIR-A", "https://registry.example.org/id/local-authority/NIR-A"),
    ],
)
def test_mint_and_parse_round_trip(register, key, expected):
    uri = uris.entry_uri(register, key)
    assert uri == expected
    assert uris.parse(uri) == uris.Parsed("id", register, key)
    assert uris.parse(uris.document_uri(register, key)) == uris.Parsed("doc", register, key)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "http://other-host:8000/id/statistical-geography/E06000001?date=2019-01-01",
            uris.Parsed("id", "statistical-geography", "E06000001"),
        ),
        ("/id/statistical-geography", uris.Parsed("id", "statistical-geography", None)),
        ("/doc/local-authority/BIR/", uris.Parsed("doc", "local-authority", "BIR")),
        ("https://registry.example.org/def/status", None),
        ("/id/", None),
        ("not a uri", None),
    ],
)
def test_parse(uri, expected):
    assert uris.parse(uri) == expected


def test_uris_do_not_depend_on_the_request_host(rf):
    assert (
        uris.register_uri("statistical-geography")
        == "https://registry.example.org/id/statistical-geography"
    )
    assert (
        uris.event_uri("2020-04-01-E06000060")
        == "https://registry.example.org/id/change-event/2020-04-01-E06000060"
    )
    assert (
        ons_uri("E06000001") == "http://statistics.data.gov.uk/id/statistical-geography/E06000001"
    )
