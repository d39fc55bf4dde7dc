# ruff: noqa: T201, S310, S311  (a CI script: it prints, opens loopback URLs, seeds a PRNG)
"""Fuzz a live reconciliation service with hostile input (run by ``.ci/reconcile-fuzz``).

Sends, for a bounded time, batches of generated hostile queries to the 0.2 endpoint
(``/reconcile``: ``queries`` and ``extend`` by POST form, by GET and as JSONP; suggest,
property proposals, preview and view) and to the 1.0 draft (``/reconcile/v1/``: JSON bodies
to ``match`` and ``extend``, suggest, preview): punctuation-only text, zero-width, bidi and
combining characters, NUL, lone surrogates written as JSON ``\\ud800`` escapes (and as raw
CESU-8 bytes), very long strings, emoji, homoglyphs of codes, numbers, objects and arrays where
strings belong, wrong types for ``limit``/``type``/``properties``/``type_strict``, huge and
non-finite numbers, deep nesting, batches of 1-50 queries and a few over the limit.

Every answer must be below 500; every 2xx must validate against the W3C Reconciliation API
JSON Schema of its endpoint and version (``../shared/specs/reconciliation/``), answer every
query of its batch, and carry CORS; every 4xx must have a JSON body (the preview's, an HTML
card for OpenRefine's frame, excepted). Prints requests and statuses per endpoint; exits 1 on
any failure, printing each failing request as a curl command (``$B`` is the server).

Deterministic for a given ``--seed`` and thread count, apart from how far it gets in the time.
GET requests are kept under gunicorn's 4094-byte request line (longer ones are sent by POST),
since gunicorn, not the service, answers past it.
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import random
import re
import shlex
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPECS = ROOT.parent / "shared" / "specs" / "reconciliation"
MAX_GET_URL = 3800
SLOW = 10.0  # seconds: an answer slower than this is a failure (one client must not stall a worker)
MAX_BODY = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE: larger bodies are refused unread
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # what the service drops from query text

# --------------------------------------------------------------------------- schemas


def _registry(version: str) -> Registry:
    resources = []
    for path in sorted((SPECS / version).glob("*.json")):
        doc = json.loads(path.read_text())
        uri = doc.get("$id", path.name).rstrip("#")
        resources.append((uri, Resource.from_contents(doc, default_specification=DRAFT7)))
    return Registry().with_resources(resources)


class Schemas:
    def __init__(self) -> None:
        self._validators: dict[tuple[str, str], jsonschema.Draft7Validator] = {}
        self._registries = {v: _registry(v) for v in ("0.2", "1.0-draft")}

    def errors(self, version: str, name: str, instance: Any) -> list[str]:
        key = (version, name)
        if key not in self._validators:
            schema = json.loads((SPECS / version / f"{name}.json").read_text())
            self._validators[key] = jsonschema.Draft7Validator(
                schema, registry=self._registries[version]
            )
        found = sorted(
            self._validators[key].iter_errors(instance), key=lambda e: list(e.absolute_path)
        )
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
            for e in found[:3]
        ]


# --------------------------------------------------------------------------- JSON text


@dataclass(frozen=True)
class Raw:
    """JSON text sent verbatim: numbers Python cannot write (``1e999``), deep nesting."""

    text: str


def enc(value: Any) -> str:
    """``value`` as JSON text, ASCII only (a lone surrogate becomes the escape ``\\ud800``)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{enc(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(enc(v) for v in value) + "]"
    return json.dumps(value)


# --------------------------------------------------------------------------- hostile values

ATOMS = [
    "",
    " ",
    "   ",
    "-",
    "'",
    '"',
    "!!!",
    ".",
    ",",
    "&",
    "/",
    "\\",
    "%",
    "%00",
    "()",
    "--",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u202e",
    "\u202d",
    "\u2066",
    "\u2069",
    "\u061c",
    "\u0301",
    "\u0301\u0301\u0301",
    "e\u0301",
    "\u0338",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff",
    "x\udc00y",
    "\ud83d",
    "\x01",
    "\x1f",
    "\x7f",
    "\x85",
    "\t",
    "\n",
    "\r\n",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\ufffd",
    "\uffff",
    "\U0010ffff",
    "\ue000",
    "😀",
    "👨‍👩‍👧",
    "🇬🇧",
    "🏴󠁧󠁢󠁷󠁬󠁳󠁿",
    "ß",
    "İ",
    "ﬁ",
    "ǅ",
    "Ⅻ",
    "①",
    "𝐋𝐞𝐞𝐝𝐬",
    "Е06000001",
    "Ｅ06000001",
    "E0６000001",
    "Ε06000001",
    "Hartlepooⅼ",
    "Lееds",
    "Leeds",
    "Hartlepool",
    "Birmingham",
    "Castle",
    "Bristol, City of",
    "St. Albans",
    "Ynys MÃ´n",
    "Cyngor Sir Ynys Môn",
    "London Borough of Camden",
    "E06000001",
    "e06000001",
    " E06000001 ",
    "E0600000",
    "E060000011",
    "E05",
    "00CN",
    "GB-BIR",
    "HPL",
    "ons-legacy:00CN",
    "http://127.0.0.1:8000/id/statistical-geography/E06000001",
    "0",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "null",
    "true",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%s%n",
    "${jndi:x}",
    "{{7*7}}",
    "../../etc/passwd",
    '=HYPERLINK("x")',
]
TYPES = [
    "E06",
    "E05",
    "E08",
    "ward",
    "lsoa",
    "county",
    "local-authority-district",
    "local-authority-area",
    "statistical-geography",
    "local-authority",
    "country",
    "statistical-entity",
    "westminster-constituency",
    "msoa",
    "nonexistent",
    "E99",
]
PROPERTIES = [
    "parent",
    "district",
    "county",
    "region",
    "country",
    "type",
    "code",
    "status",
    "date",
    "nonexistent",
]
IDS = [
    "E06000001",
    "E08000025",
    "E05000026",
    "E92000001",
    "W06000001",
    "E01000001",
    "local-authority/HPL",
    "statistical-geography/E06000001",
    "E07000004",
]
NUMBERS = [
    0,
    -1,
    1,
    3,
    5,
    25,
    100,
    1000,
    10**6,
    2**63,
    -(2**63),
    10**30,
    1.5,
    -0.0,
    1e-300,
    True,
    False,
    None,
    Raw("1e999"),
    Raw("-1e999"),
    Raw("NaN"),
    Raw("Infinity"),
    Raw("-Infinity"),
    Raw("1" + "0" * 400),
    Raw("1" + "0" * 5000),
    Raw("1e400"),
    "5",
    "abc",
    "",
    "1e999",
    "inf",
    "-inf",
    "nan",
    "1" * 400,
    [],
    {},
    [5],
    {"x": 5},
]


def deep(rng: random.Random) -> Raw:
    depth = rng.choice([31, 32, 33, 40, 200, 5000, 10000])
    if rng.random() < 0.5:
        return Raw("[" * depth + '"x"' + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


def noise(rng: random.Random, n: int) -> str:
    ranges = [
        (0x00, 0x1F),
        (0x20, 0x7E),
        (0x7F, 0x9F),
        (0x300, 0x36F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2066, 0x2069),
        (0xD800, 0xDFFF),
        (0xE000, 0xF8FF),
        (0xFE00, 0xFE0F),
        (0x1F300, 0x1F64F),
        (0x4E00, 0x4FFF),
        (0x0400, 0x04FF),
        (0xFF01, 0xFF5E),
        (0x0600, 0x06FF),
        (0x10FFF0, 0x10FFFF),
    ]
    out = []
    for _ in range(n):
        lo, hi = rng.choice(ranges)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def hostile_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 4)))
    if roll < 0.7:
        return noise(rng, rng.randint(1, 30))
    if roll < 0.8:
        base = rng.choice(ATOMS[60:]) or "Leeds"
        return rng.choice(["\u200b", "\u0301", "\x00", "\ud800", " ", "-", "\u202e"]).join(base)
    if roll < 0.9:
        return rng.choice(ATOMS) * rng.randint(2, 200)
    n = rng.choice([499, 500, 501, 1000, 5000, 20000, 100000])
    return (rng.choice(["a", "Leeds ", "-", "\u0301", "😀", "\u200b"]) * n)[:n]


def hostile_value(rng: random.Random, string_bias: float = 0.7) -> Any:
    """Usually a hostile string; otherwise any other JSON value."""
    if rng.random() < string_bias:
        return hostile_text(rng)
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(NUMBERS)
    if roll < 0.55:
        return [hostile_value(rng) for _ in range(rng.randint(0, 3))]
    if roll < 0.75:
        return {hostile_text(rng): hostile_value(rng) for _ in range(rng.randint(0, 3))}
    if roll < 0.85:
        return deep(rng)
    return rng.choice([None, True, False, {"id": hostile_text(rng)}, {"name": 5}])


def maybe(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def type_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: rng.choice(TYPES),
            lambda: [rng.choice(TYPES) for _ in range(rng.randint(0, 3))],
            lambda: {"id": rng.choice(TYPES), "name": hostile_text(rng)},
            lambda: [{"id": rng.choice(TYPES)}, hostile_value(rng)],
            lambda: hostile_value(rng, 0.4),
        ]
    )()


def property_values(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: [
                {"pid": rng.choice(PROPERTIES), "v": hostile_value(rng, 0.6)}
                for _ in range(rng.randint(1, 3))
            ],
            lambda: [{"pid": hostile_value(rng, 0.6), "v": hostile_value(rng)}],
            lambda: [
                {"p": rng.choice(PROPERTIES), "v": [hostile_value(rng), {"id": hostile_text(rng)}]}
            ],
            lambda: [{"pid": "district", "v": rng.choice(["Sunderland", "Leeds", ""])}],
            lambda: [
                {
                    "pid": "date",
                    "v": rng.choice(
                        [
                            "2019-05-01",
                            "2021-99-99",
                            "01/05/2019",
                            "0000-00-00",
                            "9999-12-31",
                            "2019",
                            -1,
                            Raw("1e999"),
                            hostile_text(rng),
                        ]
                    ),
                }
            ],
            lambda: hostile_value(rng, 0.3),
            lambda: [hostile_value(rng, 0.3)],
        ]
    )()


def query_02(rng: random.Random) -> Any:
    if maybe(rng, 0.08):
        return hostile_value(rng, 0.6)  # a query that is not an object
    q: dict[str, Any] = {}
    if maybe(rng, 0.92):
        q["query"] = hostile_value(rng, 0.85)
    if maybe(rng, 0.45):
        q["type"] = type_value(rng)
    if maybe(rng, 0.3):
        q["limit"] = rng.choice(NUMBERS)
    if maybe(rng, 0.25):
        q["type_strict"] = rng.choice(["any", "all", "should", None, 5, [], hostile_text(rng)])
    if maybe(rng, 0.4):
        q["properties"] = property_values(rng)
    if maybe(rng, 0.05):
        q[hostile_text(rng)] = hostile_value(rng)
    return q


def batch_size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice([501, 502, 600])  # over the limit: 413
    if roll < 0.25:
        return 1
    if roll < 0.85:
        return rng.randint(2, 10)
    return rng.randint(11, 50)


def batch_key(rng: random.Random, n: int) -> str:
    return f"q{n}" if maybe(rng, 0.85) else hostile_text(rng)[:50]


def condition_v1(rng: random.Random) -> Any:
    if maybe(rng, 0.05):
        return hostile_value(rng, 0.5)
    kind = rng.choice(["name", "name", "id", "property", "property", hostile_value(rng, 0.5)])
    c: dict[str, Any] = {"matchType": kind}
    if kind == "property" or maybe(rng, 0.1):
        c["propertyId"] = rng.choice(PROPERTIES) if maybe(rng, 0.8) else hostile_value(rng, 0.5)
    if maybe(rng, 0.95):
        c["propertyValue"] = rng.choice(
            [
                lambda: hostile_value(rng, 0.8),
                lambda: [hostile_value(rng), hostile_value(rng)],
                lambda: {"id": hostile_value(rng, 0.7), "name": hostile_value(rng, 0.7)},
                lambda: [],
            ]
        )()
    if maybe(rng, 0.1):
        c["required"] = hostile_value(rng, 0.2)
    if maybe(rng, 0.05):
        c["matchQuantifier"] = hostile_value(rng, 0.5)
    return c


def query_v1(rng: random.Random) -> Any:
    if maybe(rng, 0.05):
        return hostile_value(rng, 0.5)
    q: dict[str, Any] = {}
    if maybe(rng, 0.95):
        q["conditions"] = (
            [condition_v1(rng) for _ in range(rng.randint(1, 4))]
            if maybe(rng, 0.9)
            else hostile_value(rng, 0.3)
        )
    if maybe(rng, 0.4):
        q["type"] = type_value(rng)
    if maybe(rng, 0.3):
        q["limit"] = rng.choice(NUMBERS)
    return q


def extend_body(rng: random.Random) -> Any:
    if maybe(rng, 0.05):
        return hostile_value(rng, 0.3)
    n = rng.choice([0, 1, 2, 5, 20, 50]) if maybe(rng, 0.97) else rng.choice([501, 1001])
    ids = [rng.choice(IDS) if maybe(rng, 0.6) else hostile_value(rng, 0.8) for _ in range(n)]
    props: list[Any] = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.5:
            item: Any = {"id": rng.choice(EXTEND_PROPERTIES)}
        elif roll < 0.6:
            item = rng.choice(EXTEND_PROPERTIES)
        else:
            item = {"id": hostile_value(rng, 0.7)} if maybe(rng, 0.7) else hostile_value(rng, 0.4)
        if isinstance(item, dict) and maybe(rng, 0.4):
            item["settings"] = rng.choice(
                [
                    lambda: {
                        "date": rng.choice(
                            ["2019-01-01", "2019-13-45", "", "9999-99-99", hostile_value(rng, 0.5)]
                        )
                    },
                    lambda: {"limit": rng.choice(NUMBERS)},
                    lambda: hostile_value(rng, 0.3),
                    lambda: {hostile_text(rng): hostile_value(rng)},
                ]
            )()
        props.append(item)
    body: dict[str, Any] = {"ids": ids, "properties": props}
    if maybe(rng, 0.1):
        body[rng.choice(["ids", "properties"])] = hostile_value(rng, 0.3)
    return body


EXTEND_PROPERTIES = [
    "code",
    "name",
    "name_cy",
    "entity_type",
    "status",
    "uri",
    "parent",
    "nonexistent",
]


# --------------------------------------------------------------------------- requests


@dataclass
class Request:
    label: str  # the endpoint, for the summary
    method: str
    path: str  # with its query string
    body: bytes | None = None
    content_type: str | None = None
    check: str | None = None  # (version, schema name) of a 2xx, "html", or None
    version: str = "0.2"
    jsonp: str | None = None
    expect_keys: list[str] | None = None  # the batch's keys, every one answered
    expect_count: int | None = None  # the 1.0 batch's length
    headers: dict[str, str] = field(default_factory=dict)

    def curl(self) -> str:
        parts = ["curl", "-sS", "-i"]
        if self.method != "GET" or self.body is not None:
            parts += ["-X", self.method]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.content_type:
            parts += ["-H", f"Content-Type: {self.content_type}"]
        command = " ".join(shlex.quote(p) for p in parts) + f' "$B"{shell_quote(self.path)}'
        if self.body is not None:
            command += " --data-binary " + shell_quote_bytes(self.body)
        return command


def shell_quote(text: str) -> str:
    return shell_quote_bytes(text.encode("utf-8", "surrogatepass"))


def shell_quote_bytes(data: bytes) -> str:
    if all(32 <= b < 127 for b in data):
        return "'" + data.decode("ascii").replace("'", "'\\''") + "'"
    out = []
    for b in data:
        if 32 <= b < 127 and b not in b"'\\":
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "$'" + "".join(out) + "'"


def qs(params: dict[str, str]) -> str:
    """A query string; text with lone surrogates is sent as its CESU-8 bytes."""
    return "&".join(
        f"{urllib.parse.quote(k)}={urllib.parse.quote(v.encode('utf-8', 'surrogatepass'))}"
        for k, v in params.items()
    )


def form_body(fields: dict[str, str]) -> bytes:
    return qs(fields).encode("ascii")


def callback(rng: random.Random) -> str | None:
    if not maybe(rng, 0.15):
        return None
    return rng.choice(
        [
            "jQuery3710123_1732780000000",
            "cb",
            "ns.cb",
            "alert(1);x",
            "1x",
            "",
            "a" * 150,
            hostile_text(rng)[:30],
        ]
    )


class Generator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def batch_02(self) -> tuple[str, list[str]]:
        rng = self.rng
        items = {batch_key(rng, n): query_02(rng) for n in range(batch_size(rng))}
        # As the service reads them: an escaped surrogate pair is one character.
        keys = list(dict.fromkeys(json.loads(json.dumps(k)) for k in items))
        if maybe(rng, 0.04):
            return enc(hostile_value(rng, 0.5)), []  # a batch that is not an object
        return enc(items), keys

    def reconcile_02(self) -> Request:
        rng = self.rng
        text, keys = self.batch_02()
        path = rng.choice(["/reconcile", "/reconcile/"])
        cb = callback(rng)
        how = rng.random()
        if how < 0.35:
            url = f"{path}?{qs({'queries': text, **({'callback': cb} if cb is not None else {})})}"
            if len(url) <= MAX_GET_URL:
                return Request(
                    "GET /reconcile queries",
                    "GET",
                    url,
                    check="reconciliation-result-batch",
                    jsonp=cb,
                    expect_keys=keys,
                )
        if how < 0.4:
            # Raw bytes: the JSON with its lone surrogates (and everything else) unescaped;
            # the service reads what is not UTF-8 as U+FFFD, one a byte.
            raw = json_unescaped(text)
            body = b"queries=" + urllib.parse.quote_from_bytes(raw).encode()
            keys = [k.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k in keys]
        else:
            body = form_body({"queries": text})
        return Request(
            "POST /reconcile queries",
            "POST",
            path,
            body,
            "application/x-www-form-urlencoded",
            "reconciliation-result-batch",
            expect_keys=keys,
        )

    def extend_02(self) -> Request:
        rng = self.rng
        text = enc(extend_body(rng))
        if maybe(rng, 0.3):
            url = f"/reconcile?{qs({'extend': text})}"
            if len(url) <= MAX_GET_URL:
                return Request("GET /reconcile extend", "GET", url, check="data-extension-response")
        return Request(
            "POST /reconcile extend",
            "POST",
            "/reconcile",
            form_body({"extend": text}),
            "application/x-www-form-urlencoded",
            "data-extension-response",
        )

    def suggest(self, v1: bool) -> Request:
        rng = self.rng
        kind = rng.choice(["entity", "entity", "type", "property"])
        cursor = "offset" if v1 else "cursor"
        params: dict[str, str] = {}
        if maybe(rng, 0.95):
            params["prefix"] = (
                hostile_text(rng)[:600]
                if maybe(rng, 0.8)
                else rng.choice(["Lee", "Hart", "E06", "cou", "ward", "par"])
            )
        if maybe(rng, 0.3):
            params[cursor] = str_number(rng)
        if maybe(rng, 0.3):
            params["limit"] = str_number(rng)
        if kind == "entity" and maybe(rng, 0.3):
            params["type"] = rng.choice(TYPES) if maybe(rng, 0.6) else hostile_text(rng)[:50]
        cb = None if v1 else callback(rng)
        if cb is not None:
            params["callback"] = cb
        prefix = "/reconcile/v1" if v1 else "/reconcile"
        url = f"{prefix}/suggest/{kind}?{qs(params)}"
        while len(url) > MAX_GET_URL and params.get("prefix"):
            params["prefix"] = params["prefix"][: len(params["prefix"]) // 2]
            url = f"{prefix}/suggest/{kind}?{qs(params)}"
        version = "1.0-draft" if v1 else "0.2"
        return Request(
            f"GET {prefix}/suggest/{kind}",
            "GET",
            url,
            check=SUGGEST_SCHEMAS[kind],
            version=version,
            jsonp=cb,
        )

    def propose(self, v1: bool) -> Request:
        rng = self.rng
        params = {}
        if maybe(rng, 0.9):
            params["type"] = rng.choice(TYPES) if maybe(rng, 0.5) else hostile_text(rng)[:200]
        if maybe(rng, 0.4):
            params["limit"] = str_number(rng)
        prefix = "/reconcile/v1" if v1 else "/reconcile"
        return Request(
            f"GET {prefix}/extend/propose",
            "GET",
            f"{prefix}/extend/propose?{qs(params)}",
            check="data-extension-property-proposal",
            version="1.0-draft" if v1 else "0.2",
        )

    def preview(self) -> Request:
        rng = self.rng
        ident = rng.choice(IDS) if maybe(rng, 0.3) else hostile_text(rng)[:300]
        if maybe(rng, 0.5):
            path = "/reconcile/preview/" + urllib.parse.quote(
                ident.encode("utf-8", "surrogatepass"), safe=""
            )
            return Request("GET /reconcile/preview/{id}", "GET", path, check="html")
        return Request(
            "GET /reconcile/v1/preview",
            "GET",
            f"/reconcile/v1/preview?{qs({'id': ident})}",
            check="html",
            version="1.0-draft",
        )

    def view(self) -> Request:
        rng = self.rng
        ident = rng.choice(IDS) if maybe(rng, 0.3) else hostile_text(rng)[:300]
        path = "/reconcile/view/" + urllib.parse.quote(
            ident.encode("utf-8", "surrogatepass"), safe=""
        )
        return Request("GET /reconcile/view/{id}", "GET", path)

    def manifest(self) -> Request:
        rng = self.rng
        path = rng.choice(["/reconcile", "/reconcile/", "/reconcile/v1", "/reconcile/v1/"])
        headers = {}
        if maybe(rng, 0.5):
            headers["X-Forwarded-Host"] = rng.choice(
                [
                    "registry.example.org",
                    "evil.example",
                    "127.0.0.1:1",
                    "",
                    "a,b",
                    "[::1]",
                    "x" * 300,
                    "localhost:99999999999",
                ]
            )
        if maybe(rng, 0.3):
            headers["X-Forwarded-Proto"] = rng.choice(["https", "http", "gopher", "https, http"])
        cb = callback(rng) if not path.startswith("/reconcile/v1") else None
        if cb is not None:
            path += f"?{qs({'callback': cb})}"
        v1 = path.startswith("/reconcile/v1")
        return Request(
            "GET manifest (v1)" if v1 else "GET manifest (0.2)",
            "GET",
            path,
            check="manifest",
            version="1.0-draft" if v1 else "0.2",
            jsonp=cb,
            headers=headers,
        )

    def match_v1(self) -> Request:
        rng = self.rng
        n = batch_size(rng)
        queries = [query_v1(rng) for _ in range(n)]
        body: Any = {"queries": queries}
        if maybe(rng, 0.05):
            body = hostile_value(rng, 0.3)
        text = enc(body)
        expect = n if isinstance(body, dict) else None
        roll = rng.random()
        if roll < 0.75:
            return Request(
                "POST /reconcile/v1/match (JSON)",
                "POST",
                "/reconcile/v1/match",
                text.encode() if maybe(rng, 0.9) else json_unescaped(text),
                rng.choice(["application/json", "application/json; charset=utf-8"]),
                "reconciliation-result-batch",
                "1.0-draft",
                expect_count=expect,
            )
        # The form's queries: the list itself, or the whole body (then as many as it holds).
        form, expect = (enc(queries), n) if maybe(rng, 0.5) else (text, expect)
        return Request(
            "POST /reconcile/v1/match (form)",
            "POST",
            "/reconcile/v1/match",
            form_body({"queries": form}),
            "application/x-www-form-urlencoded",
            "reconciliation-result-batch",
            "1.0-draft",
            expect_count=expect,
        )

    def extend_v1(self) -> Request:
        rng = self.rng
        text = enc(extend_body(rng))
        return Request(
            "POST /reconcile/v1/extend (JSON)",
            "POST",
            "/reconcile/v1/extend",
            text.encode(),
            "application/json",
            "data-extension-response",
            "1.0-draft",
        )

    def garbage(self) -> Request:
        """Bodies and methods no client should send."""
        rng = self.rng
        path = rng.choice(
            [
                "/reconcile",
                "/reconcile/v1/match",
                "/reconcile/v1/extend",
                "/reconcile/suggest/entity",
                "/reconcile/nowhere",
                "/reconcile/v1/x",
            ]
        )
        roll = rng.random()
        if roll < 0.25:
            method = rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS"])
            return Request(f"{method} (any)", method, path, b"", "application/json")
        body = rng.choice(
            [
                b"",
                b"{",
                b"\xff\xfe\x00",
                b"queries=%ZZ",
                b"queries=" + b"%ED%A0%80" * 10,
                b"queries=" + urllib.parse.quote('{"q0":').encode(),
                b'{"queries": [}',
                b'{"queries": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                b"\x00" * 100,
                b"extend=" + urllib.parse.quote("[1,2]").encode(),
                b"queries=%7B%7D&queries=%5B%5D",
                b"a=" + b"b" * 10000,
                b"&" * 2000 + b"queries=1",
            ]
        )
        content_type = rng.choice(
            [
                "application/json",
                "application/x-www-form-urlencoded",
                "text/plain",
                "multipart/form-data; boundary=x",
                "application/x-www-form-urlencoded; charset=latin-1",
            ]
        )
        return Request("POST garbage", "POST", path, body, content_type)

    def next(self) -> Request:
        rng = self.rng
        roll = rng.random()
        for share, make in WEIGHTS:
            if roll < share:
                return make(self)
            roll -= share
        return self.garbage()


def str_number(rng: random.Random) -> str:
    return rng.choice(
        [
            "0",
            "-1",
            "5",
            "1000000",
            "1e999",
            "inf",
            "-inf",
            "nan",
            "NaN",
            "1.5",
            "",
            "abc",
            "9" * 400,
            "0x10",
            " 3 ",
            "\u0663",
            "１",
            "1e-5",
        ]
    )


def json_unescaped(text: str) -> bytes:
    """JSON text with its escapes written as the characters themselves (lone surrogates as
    their CESU-8 bytes, which are not UTF-8): what a careless client sends."""
    try:
        value = json.loads(text)
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (RecursionError, ValueError):
        return text.encode()


STATUS_NAMES = {0: "no answer", -413: "refused unread (over 2.5 MB)"}

SUGGEST_SCHEMAS = {
    "entity": "suggest-entities-response",
    "type": "suggest-types-response",
    "property": "suggest-properties-response",
}

WEIGHTS = [
    (0.30, Generator.reconcile_02),
    (0.08, Generator.extend_02),
    (0.10, lambda g: g.suggest(False)),
    (0.05, lambda g: g.suggest(True)),
    (0.03, lambda g: g.propose(g.rng.random() < 0.5)),
    (0.04, Generator.preview),
    (0.03, Generator.view),
    (0.03, Generator.manifest),
    (0.20, Generator.match_v1),
    (0.08, Generator.extend_v1),
]


# --------------------------------------------------------------------------- checks


class Result:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, collections.Counter[int]] = collections.defaultdict(
            collections.Counter
        )
        self.times: dict[str, list[float]] = collections.defaultdict(list)
        self.failures: list[tuple[Request, str]] = []
        self.failure_kinds: collections.Counter[tuple[str, str]] = collections.Counter()

    def record(self, request: Request, status: int, problem: str | None, took: float = 0.0) -> None:
        if problem is None and took > SLOW:
            problem = f"{status}: slow: answered in {took:.1f} s"
        with self.lock:
            self.counts[request.label][status] += 1
            self.times[request.label].append(took)
            if problem:
                kind = (request.label, problem.split(":")[0][:60])
                self.failure_kinds[kind] += 1
                if self.failure_kinds[kind] <= 3:  # a few examples of each kind
                    self.failures.append((request, problem))


def send(base: str, request: Request, timeout: float) -> tuple[int, dict[str, str], bytes]:
    headers = dict(request.headers)
    if request.content_type:
        headers["Content-Type"] = request.content_type
    req = urllib.request.Request(
        base + request.path, data=request.body, method=request.method, headers=headers
    )
    req.add_header("User-Agent", "OpenRefine/3.10.1 (reconcile-fuzz)")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def problem_with(
    request: Request, status: int, headers: dict[str, str], body: bytes, schemas: Schemas
) -> str | None:
    if status >= 500:
        return f"{status}: server error: {body[:300]!r}"
    if status == 429:
        return "429: throttled although the fuzzer's limits are lifted"
    if request.method != "OPTIONS" and headers.get("access-control-allow-origin") != "*":
        return f"{status}: no Access-Control-Allow-Origin: *"
    content_type = headers.get("content-type", "")
    if request.check == "html" and status in (200, 404):
        if not content_type.startswith("text/html"):
            return f"{status}: preview is {content_type!r}, not HTML"
        return None
    if 400 <= status < 500:
        try:
            json.loads(body)
        except ValueError:
            return f"{status}: 4xx body is not JSON ({content_type}): {body[:200]!r}"
        if not content_type.startswith("application/json"):
            return f"{status}: 4xx is {content_type!r}, not application/json"
        return None
    if 300 <= status < 400:
        if not headers.get("location"):
            return f"{status}: redirect without Location"
        return None
    if status == 204 or request.method == "OPTIONS" or request.check is None:
        return None
    text = body.decode("utf-8", "strict")
    if request.jsonp:
        if not content_type.startswith("application/javascript"):
            return f"{status}: JSONP is {content_type!r}"
        if not (text.startswith(request.jsonp + "(") and text.endswith(");")):
            return f"{status}: JSONP not wrapped in {request.jsonp}(…);"
        text = text[len(request.jsonp) + 1 : -2]
    elif not content_type.startswith("application/json"):
        return f"{status}: answer is {content_type!r}, not JSON"
    data = json.loads(text)
    errors = schemas.errors(request.version, request.check, data)
    if errors:
        return f"{status}: schema {request.version}/{request.check}: " + "; ".join(errors)
    if request.expect_keys is not None and isinstance(data, dict):
        missing = [k for k in request.expect_keys if UNSTORABLE.sub("", k) not in data]
        if missing:
            return f"{status}: batch answer lacks queries {missing[:5]!r}"
    if request.expect_count is not None and isinstance(data, dict):
        got = len(data.get("results", []))
        if got != request.expect_count:
            return f"{status}: {request.expect_count} queries but {got} results"
    return None


def warm_up(base: str, threads: int, timeout: float, limit: float = 180) -> None:
    """Wait until every worker has built its index: batches from ``threads`` clients at once
    until a round answers within a second (the first query to a worker waits for the build)."""
    batch = form_body({"queries": json.dumps({"q0": {"query": "Leeds"}})})
    request = Request("warm-up", "POST", "/reconcile", batch, "application/x-www-form-urlencoded")
    began = time.monotonic()
    while time.monotonic() - began < limit:
        times: list[float] = []

        def one(times: list[float] = times) -> None:
            start = time.monotonic()
            try:
                send(base, request, timeout)
            except OSError:
                times.append(timeout)
            else:
                times.append(time.monotonic() - start)

        pool = [threading.Thread(target=one) for _ in range(threads * 2)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        if max(times) < 1:
            break
    print(f"reconcile-fuzz: the workers were ready after {time.monotonic() - began:.0f} s")


def run(
    base: str, seconds: float, seed: int, threads: int, timeout: float, save: str | None
) -> int:
    schemas = Schemas()
    result = Result()
    opener = urllib.request.build_opener(NoRedirect)
    urllib.request.install_opener(opener)
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        generator = Generator(random.Random(seed * 1000 + n))
        while time.monotonic() < deadline:
            request = generator.next()
            began = time.monotonic()
            try:
                status, headers, body = send(base, request, timeout)
            except (TimeoutError, OSError) as exc:  # no answer in time, or a dropped connection
                if len(request.body or b"") > MAX_BODY and "timed out" not in str(exc):
                    # Refused before it was read (413): the server closes the connection
                    # while the client is still sending.
                    result.record(request, -413, None)
                else:
                    result.record(request, 0, f"no answer: {type(exc).__name__}: {exc}")
                continue
            try:
                problem = problem_with(request, status, headers, body, schemas)
            except (ValueError, UnicodeDecodeError) as exc:
                problem = f"{status}: unreadable answer: {exc}"
            result.record(request, status, problem, time.monotonic() - began)

    warm_up(base, threads, timeout)
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    took = time.monotonic() - started

    total = sum(sum(c.values()) for c in result.counts.values())
    print(f"reconcile-fuzz: {total} requests in {took:.0f} s (seed {seed}, {threads} threads)")
    width = max(len(label) for label in result.counts)
    print(f"  {'endpoint':<{width}}  {'sent':>6}  {'median':>9}  {'slowest':>8}  statuses")
    for label in sorted(result.counts):
        counts = result.counts[label]
        statuses = ", ".join(f"{STATUS_NAMES.get(s, s)}: {n}" for s, n in sorted(counts.items()))
        times = sorted(result.times[label]) or [0.0]
        median, slowest = times[len(times) // 2], times[-1]
        print(
            f"  {label:<{width}}  {sum(counts.values()):6d}  {median * 1000:6.0f} ms"
            f"  {slowest:6.2f} s  {statuses}"
        )
    if not result.failures:
        print("reconcile-fuzz: no 5xx, every 2xx valid, every 4xx JSON")
        return 0
    print(f"\nreconcile-fuzz: FAILED, {sum(result.failure_kinds.values())} failing requests:")
    for (label, kind), n in sorted(result.failure_kinds.items()):
        print(f"  {n:5d} × {label}: {kind}")
    if save:
        with open(save, "w") as out:
            for request, problem in result.failures:
                record = {
                    "problem": problem,
                    "method": request.method,
                    "path": request.path,
                    "content_type": request.content_type,
                    "headers": request.headers,
                    "body": (request.body or b"").decode("latin-1"),
                }
                out.write(json.dumps(record) + "\n")
        print(f"\nThe failing requests are in {save} (bodies as latin-1 text).")
    print("\nExamples (B is the server's address):")
    for request, problem in result.failures[:40]:
        curl = request.curl()
        if len(curl) > 3000:
            curl = curl[:3000] + f"… [{len(curl)} characters]"
        print(f"- {request.label}: {problem}\n  {curl}")
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--save", help="write the failing requests to this file (JSON lines)")
    args = parser.parse_args()
    if not SPECS.is_dir():
        print(f"reconcile-fuzz: {SPECS} not found (CI lays shared/ beside the clone)")
        return 1
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    return run(args.base.rstrip("/"), args.seconds, seed, args.threads, args.timeout, args.save)


if __name__ == "__main__":
    sys.exit(main())
