# ruff: noqa: T201, S310 (a command-line check: it reports on standard output; URLs are its arguments)
"""OpenRefine itself as a client of the reconciliation service (run by .ci/openrefine-check).

Drives a headless OpenRefine 3.6 through the HTTP commands its web UI sends, in the order the
UI sends them, against the live registry:

1. ``get-csrf-token`` (before every POST, as the UI does), the service added as the UI's
   *Add standard service* does (the manifest read, then the ``reconciliation.standardServices``
   preference set), and ``create-project-from-upload`` with a messy CSV (:data:`CSV`).
2. ``guess-types-of-column`` for each column: OpenRefine's untyped probe of the first rows.
3. ``reconcile`` (the ``core/recon`` operation) of each column with a type and a parent
   property from another column, then ``get-processes`` until the long-running process ends.
4. ``extend-data`` (the ``core/extend-reconciled-data`` operation) of each reconciled column
   with current code, parent district, region and Welsh name, waiting again.
5. ``get-models`` and ``get-rows``, then ``export-rows`` as CSV: every cell's judgement,
   matched id and extended values are compared with :data:`EXPECTED_ROWS`, exactly, and the
   types guessed with :data:`GUESSED_TYPE_FIRST` and :data:`GUESSED_TYPES_TOP3`.

Usage: openrefine_check.py OPENREFINE_URL SERVICE_URL [--report FILE]. Exit status 1 if any
cell differs; the differences are listed one a line.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import urllib.parse
import urllib.request
import uuid

# The messy CSV: council names in many spellings (with the region beside them), ward names
# beside their districts, and old codes (legacy ONS codes, terminated GSS codes) beside the
# region or district they lay in. Blank cells, stray spaces and a mis-cased header included,
# as spreadsheets arrive.
CSV = """\
Council,Council region,Ward,Ward district,Old code,Old code region
Hartlepool Borough Council,North East,Castle,Sunderland,00EB,North East
  london borough of hackney ,London,Hetton,Sunderland,E07000004,South East
"BRISTOL, CITY OF",South West,Abbey,Barking and Dagenham,00CN,West Midlands
Rhondda Cynon Taf,Wales,Treforest,Rhondda Cynon Taf,E06000020,West Midlands
Wrarington,North West,Cathays,Cardiff,E07000008,East of England
Kingston upon Hull,Yorkshire and The Humber,Castle,Northumberland,E10000002,South East
Cyngor Sir Ynys Môn,Wales,Leith,City of Edinburgh,E05000026,London
Co Durham,North East,Tiinity,East Lindsey,W06000001,Wales
Herefordshire,West Midlands,,,00HG,South West
"""

# Column → (type id, parent property id, column whose value is the parent).
RECONCILE = {
    "Council": ("local-authority-district", "region", "Council region"),
    "Ward": ("ward", "district", "Ward district"),
    "Old code": ("local-authority-district", "region", "Old code region"),
}

# The properties added from each reconciled column, and the names of the columns OpenRefine
# makes for them (the property's name, as propose_properties and the manifest give it).
EXTEND = [
    ("current", "Current code(s)"),
    ("parent-district", "Local authority district"),
    ("parent-region", "Region"),
    ("name_cy", "Welsh name"),
]

# What OpenRefine's type guessing (its untyped probe of a column's first rows) must offer: the
# type it pre-selects, and types among its top three. A UK-wide ward column must get the broad
# group, not England's E05; a column of council names both the area group and the councils.
GUESSED_TYPE_FIRST = {"Ward": "ward"}
GUESSED_TYPES_TOP3 = {
    "Council": {"local-authority-area", "local-authority"},
    "Ward": {"ward"},
    "Old code": {"local-authority-area"},
}


class Refine:
    """The few OpenRefine commands the web UI sends, over plain HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def _open(self, request: urllib.request.Request, timeout: float = 60) -> bytes:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()

    def get(self, command: str, **params: object) -> dict:
        url = f"{self.base}/command/core/{command}?{urllib.parse.urlencode(params)}"
        return json.loads(self._open(urllib.request.Request(url)))

    def token(self) -> str:
        return self.get("get-csrf-token")["token"]

    def post(self, command: str, params: dict | None = None, form: dict | None = None) -> bytes:
        # As Refine.postCSRF: the parameters in the query string, a fresh token in the body.
        url = f"{self.base}/command/core/{command}?{urllib.parse.urlencode(params or {})}"
        body = urllib.parse.urlencode(dict(form or {}, csrf_token=self.token())).encode()
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
        )
        return self._open(request)

    def post_json(self, command: str, params: dict | None = None, form: dict | None = None):
        answer = json.loads(self.post(command, params, form))
        if isinstance(answer, dict) and answer.get("code") == "error":
            raise RuntimeError(f"{command}: {answer.get('message')}")
        return answer

    def create_project(self, name: str, text: str) -> str:
        """create-project-from-upload with a CSV file; returns the project id."""
        options = {
            "encoding": "UTF-8",
            "separator": ",",
            "ignoreLines": -1,
            "headerLines": 1,
            "skipDataLines": 0,
            "limit": -1,
            "storeBlankRows": True,
            "guessCellValueTypes": False,
            "processQuotes": True,
            "quoteCharacter": '"',
            "storeBlankCellsAsNulls": True,
            "includeFileSources": False,
            "includeArchiveFileName": False,
            "trimStrings": False,
        }
        boundary = uuid.uuid4().hex
        parts = [
            ("project-name", None, name.encode()),
            ("format", None, b"text/line-based/*sv"),
            ("options", None, json.dumps(options).encode()),
            ("project-file", "councils.csv", text.encode()),
        ]
        body = b""
        for field, filename, value in parts:
            disposition = f'form-data; name="{field}"'
            if filename:
                disposition += f'; filename="{filename}"'
            body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
            if filename:
                body += b"Content-Type: text/csv\r\n"
            body += b"\r\n" + value + b"\r\n"
        body += f"--{boundary}--\r\n".encode()
        query = urllib.parse.urlencode({"csrf_token": self.token()})
        request = urllib.request.Request(
            f"{self.base}/command/core/create-project-from-upload?{query}",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=60) as response:
                location = response.headers.get("Location", "")
                page = response.read().decode(errors="replace")
        except urllib.error.HTTPError as redirect:
            if redirect.code not in (301, 302, 303):
                raise
            location = redirect.headers.get("Location", "")
            page = ""
        project = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("project")
        if not project:
            raise RuntimeError(f"create-project-from-upload did not redirect: {page[:300]}")
        return project[0]

    def wait(self, project: str, timeout: float = 120) -> None:
        """get-processes until no long-running process is left (as the UI polls)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            processes = self.get("get-processes", project=project)["processes"]
            if not processes:
                return
            time.sleep(0.25)
        raise RuntimeError(f"long-running processes did not finish in {timeout} s: {processes}")


ENGINE = json.dumps({"facets": [], "mode": "row-based"})


def add_service(refine: Refine, service: str) -> dict:
    """As the UI's Add standard service: read the manifest, then keep it in the preference."""
    with urllib.request.urlopen(service, timeout=60) as response:  # noqa: S310
        manifest = json.loads(response.read())
    services = [dict(manifest, url=service, ui={"handler": "ReconStandardServicePanel"})]
    refine.post_json(
        "set-preference",
        form={"name": "reconciliation.standardServices", "value": json.dumps(services)},
    )
    stored = refine.get("get-preference", name="reconciliation.standardServices")
    if json.loads(stored["value"])[0]["url"] != service:
        raise RuntimeError(f"reconciliation.standardServices not kept: {stored}")
    return manifest


def type_name(manifest: dict, service: str, type_id: str) -> str:
    """The type's name as the reconcile dialog shows it (suggest/type, by id)."""
    url = f"{service}/suggest/type?{urllib.parse.urlencode({'prefix': type_id})}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
        for result in json.loads(response.read())["result"]:
            if result["id"] == type_id:
                return result["name"]
    return type_id


def run(refine_url: str, service: str) -> tuple[list[str], dict]:
    refine = Refine(refine_url)
    problems: list[str] = []
    report: dict = {"version": refine.get("get-version")["full_name"]}
    manifest = add_service(refine, service)
    project = refine.create_project("Reference Registry CI", CSV)
    report["project"] = project

    # Type guessing, column by column, as the reconcile dialog opens.
    report["guessed"] = {}
    for column in RECONCILE:
        guess = refine.post_json(
            "guess-types-of-column",
            params={"project": project},
            form={"columnName": column, "service": service},
        )
        ids = [entry["id"] for entry in guess["types"]]
        report["guessed"][column] = ids
        first = GUESSED_TYPE_FIRST.get(column)
        if first is not None and ids[:1] != [first]:
            problems.append(f"guess-types-of-column {column!r}: {ids[:1]} first, not {first}")
        for wanted in sorted(GUESSED_TYPES_TOP3.get(column, set())):
            if wanted not in ids[:3]:
                problems.append(
                    f"guess-types-of-column {column!r}: {wanted} not among the top three {ids[:5]}"
                )

    # Reconciliation with a type and a parent property, then data extension.
    for column, (type_id, pid, parent_column) in RECONCILE.items():
        config = {
            "mode": "standard-service",
            "service": service,
            "identifierSpace": manifest["identifierSpace"],
            "schemaSpace": manifest["schemaSpace"],
            "type": {"id": type_id, "name": type_name(manifest, service, type_id)},
            "autoMatch": True,
            "columnDetails": [{"column": parent_column, "propertyName": pid, "propertyID": pid}],
            "limit": 0,
        }
        refine.post_json(
            "reconcile",
            params={"project": project},
            form={"columnName": column, "config": json.dumps(config), "engine": ENGINE},
        )
        refine.wait(project)

    # The column OpenRefine makes for each (reconciled column, property): named after the
    # property, with a number added when a column of that name exists already.
    extended: dict[tuple[str, str], str] = {}
    for column in RECONCILE:
        columns = refine.get("get-models", project=project)["columnModel"]["columns"]
        before = [c["name"] for c in columns]
        index = before.index(column)
        extension = {"properties": [{"id": pid, "name": name} for pid, name in EXTEND]}
        # As the column menu's "Add columns from reconciled values" posts it: the service in
        # the query string, the extension (properties with no settings changed) in the body.
        refine.post_json(
            "extend-data",
            params={
                "baseColumnName": column,
                "endpoint": service,
                "identifierSpace": manifest["identifierSpace"],
                "schemaSpace": manifest["schemaSpace"],
                "columnInsertIndex": str(index + 1),
                "project": project,
            },
            form={"extension": json.dumps(extension), "engine": ENGINE},
        )
        refine.wait(project)
        after = [
            c["name"] for c in refine.get("get-models", project=project)["columnModel"]["columns"]
        ]
        added = after[index + 1 : index + 1 + len(EXTEND)]
        if [name for name in after if name not in before] != added or not all(
            name.startswith(label) for name, (_, label) in zip(added, EXTEND, strict=False)
        ):
            raise RuntimeError(f"extend-data on {column!r} added {added} to {before}")
        extended.update({(column, pid): name for (pid, _), name in zip(EXTEND, added, strict=True)})

    # The operations OpenRefine recorded: one core/recon, then one core/extend-reconciled-data,
    # per column.
    history = refine.get("get-operations", project=project)["entries"]
    ops = [entry["operation"]["op"] for entry in history]
    wanted_ops = ["core/recon"] * len(RECONCILE) + ["core/extend-reconciled-data"] * len(RECONCILE)
    if ops != wanted_ops:
        problems.append(f"operations recorded {ops}, expected {wanted_ops}")

    cells = read_cells(refine, project)
    report["cells"] = cells
    problems += compare(cells, extended)
    return problems, report


def read_cells(refine: Refine, project: str) -> list[dict[str, object]]:
    """Every row as {column: shown cell}: reconciled columns as (judgement, id), extended
    entity cells as "id|name", strings as themselves; cross-checked with export-rows."""
    models = refine.get("get-models", project=project)
    columns = models["columnModel"]["columns"]
    reconciled = set(RECONCILE)
    answer = refine.post_json(
        "get-rows", params={"project": project, "start": 0, "limit": 1000}, form={"engine": ENGINE}
    )
    # get-rows gives a cell's recon by id ("r"), the recons themselves in the answer's pool.
    rows, recons = answer["rows"], answer.get("pool", {}).get("recons", {})
    exported = refine.post(
        "export-rows",
        params={"project": project},
        form={"engine": ENGINE, "format": "csv", "project": project},
    ).decode("utf-8")
    exported_rows = list(csv.reader(io.StringIO(exported)))
    header, exported_rows = exported_rows[0], exported_rows[1:]
    if header != [c["name"] for c in columns]:
        raise RuntimeError(f"export-rows header {header} differs from get-models {columns}")
    table = []
    for row, exported_row in zip(rows, exported_rows, strict=True):
        shown: dict[str, object] = {}
        for position, column in enumerate(columns):
            cell = (
                row["cells"][column["cellIndex"]]
                if column["cellIndex"] < len(row["cells"])
                else None
            )
            value = "" if cell is None or cell.get("v") is None else str(cell["v"])
            recon = (cell or {}).get("r")
            if recon is not None:
                recon = recons[str(recon)]
            # export-rows writes a matched cell as its match's name (the CSV exporter's
            # default, "entity-name"), any other cell as its value.
            written = (
                recon["m"]["name"]
                if recon is not None and recon.get("j") == "matched" and recon.get("m")
                else value
            )
            if written != exported_row[position]:
                raise RuntimeError(
                    f"row {row['i']} {column['name']}: get-rows {written!r}, "
                    f"export-rows {exported_row[position]!r}"
                )
            if column["name"] in reconciled:
                if recon is None:
                    shown[column["name"]] = ("blank", None) if not value else ("unreconciled", None)
                else:
                    match = recon.get("m")
                    shown[column["name"]] = (recon["j"], match["id"] if match else None)
            elif recon is not None:
                match = recon.get("m")
                shown[column["name"]] = f"{match['id']}|{match['name']}" if match else f"?{value}"
            else:
                shown[column["name"]] = value
        table.append(shown)
    return table


def compare(cells: list[dict[str, object]], extended: dict[tuple[str, str], str]) -> list[str]:
    problems = []
    if len(cells) != len(EXPECTED_ROWS):
        return [f"{len(cells)} rows, expected {len(EXPECTED_ROWS)}"]
    for number, (row, expected) in enumerate(zip(cells, EXPECTED_ROWS, strict=True), start=1):
        for column, (judgement, match, values) in expected.items():
            got = row.get(column, "<no column>")
            if got != (judgement, match):
                problems.append(
                    f"row {number} {column!r}: expected {(judgement, match)!r}, got {got!r}"
                )
            for pid, want in values.items():
                got = row.get(extended[column, pid], "<no column>")
                if got != want:
                    problems.append(
                        f"row {number} {column!r} → {pid}: expected {want!r}, got {got!r}"
                    )
    return problems


def cell(
    judgement: str,
    match: str | None,
    current: str = "",
    district: str = "",
    region: str = "",
    name_cy: str = "",
) -> tuple[str, str | None, dict[str, str]]:
    """One reconciled cell as OpenRefine shows it: its judgement and matched id, then the cells
    data extension added beside it (an entity as "id|name", a string as itself, none as "")."""
    values = [current, district, region, name_cy]
    return judgement, match, {pid: value for (pid, _), value in zip(EXTEND, values, strict=True)}


NONE = cell("none", None)
BLANK = cell("blank", None)
NE, LONDON, SW = "E12000001|North East", "E12000007|London", "E12000009|South West"
WM, SE = "E12000005|West Midlands", "E12000008|South East"
BUCKS = "E06000060|Buckinghamshire"
SUNDERLAND, RCT = "E08000024|Sunderland", "W06000016|Rhondda Cynon Taf"
ANGLESEY = "W06000001|Isle of Anglesey"

# Every row of CSV, checked against the loaded data and the README's matching rules:
# - Council (typed local-authority-district, the region as a property): every spelling is
#   matched, the typo "Wrarington" because the type confirms it, "Co Durham" as County Durham;
#   a unitary has no parent district; Wales has no region.
# - Ward (typed ward, the district as a property): the one live ward of the name in that
#   district, Welsh and Scottish wards too; "Tiinity" (a slip of Trinity) confirmed by East
#   Lindsey; no ward called "Castle" in Northumberland (only "Alnwick Castle"): none matched.
# - Old code (typed local-authority-district): legacy ONS codes and GSS codes found whatever
#   the type (a county, a ward, a Welsh principal area); a terminated entry answers as when
#   last live, its current code its successor (Aylesbury Vale and Buckinghamshire county:
#   Buckinghamshire unitary; the 2002-2022 Abbey ward of Barking and Dagenham has none).
EXPECTED_ROWS: list[dict[str, tuple[str, str | None, dict[str, str]]]] = [
    {
        "Council": cell("matched", "E06000001", "E06000001|Hartlepool", "", NE),
        "Ward": cell("matched", "E05001154", "E05001154|Castle", SUNDERLAND, NE),
        "Old code": cell("matched", "E06000001", "E06000001|Hartlepool", "", NE),
    },
    {
        "Council": cell("matched", "E09000012", "E09000012|Hackney", "", LONDON),
        "Ward": cell("matched", "E05001159", "E05001159|Hetton", SUNDERLAND, NE),
        "Old code": cell("matched", "E07000004", BUCKS, "", SE),
    },
    {
        "Council": cell("matched", "E06000023", "E06000023|Bristol, City of", "", SW),
        "Ward": cell(
            "matched", "E05014053", "E05014053|Abbey", "E09000002|Barking and Dagenham", LONDON
        ),
        "Old code": cell("matched", "E08000025", "E08000025|Birmingham", "", WM),
    },
    {
        "Council": cell("matched", "W06000016", RCT, "", "", "Rhondda Cynon Taf"),
        "Ward": cell("matched", "W05001110", "W05001110|Treforest", RCT, "", "Trefforest"),
        "Old code": cell("matched", "E06000020", "E06000020|Telford and Wrekin", "", WM),
    },
    {
        "Council": cell("matched", "E06000007", "E06000007|Warrington", "", "E12000002|North West"),
        "Ward": cell(
            "matched", "W05001274", "W05001274|Cathays", "W06000015|Cardiff", "", "Cathays"
        ),
        "Old code": cell(
            "matched", "E07000008", "E07000008|Cambridge", "", "E12000006|East of England"
        ),
    },
    {
        "Council": cell(
            "matched",
            "E06000010",
            "E06000010|Kingston upon Hull, City of",
            "",
            "E12000003|Yorkshire and The Humber",
        ),
        "Ward": NONE,
        "Old code": cell("matched", "E10000002", BUCKS, "", SE),
    },
    {
        "Council": cell("matched", "W06000001", ANGLESEY, "", "", "Ynys Môn"),
        "Ward": cell("matched", "S13002931", "S13002931|Leith", "S12000036|City of Edinburgh"),
        "Old code": cell("matched", "E05000026", "", "E09000002|Barking and Dagenham", LONDON),
    },
    {
        "Council": cell("matched", "E06000047", "E06000047|County Durham", "", NE),
        "Ward": cell(
            "matched",
            "E05009903",
            "E05009903|Trinity",
            "E07000137|East Lindsey",
            "E12000004|East Midlands",
        ),
        "Old code": cell("matched", "W06000001", ANGLESEY, "", "", "Ynys Môn"),
    },
    {
        "Council": cell("matched", "E06000019", "E06000019|Herefordshire, County of", "", WM),
        "Ward": BLANK,
        "Old code": cell("matched", "E06000026", "E06000026|Plymouth", "", SW),
    },
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("refine")
    parser.add_argument("service")
    parser.add_argument("--report", help="write what OpenRefine showed here, as JSON")
    args = parser.parse_args()
    started = time.monotonic()
    problems, report = run(args.refine, args.service)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=1, ensure_ascii=False, default=list)
    print(f"--> {report['version']}: project {report['project']}")
    for column, ids in report["guessed"].items():
        print(f"--> type guessing for {column!r}: {', '.join(ids[:5])}")
    cells = sum(1 + len(values) for row in EXPECTED_ROWS for _, _, values in row.values())
    for problem in problems:
        print(f"FAIL {problem}")
    print(
        f"--> {cells - len(problems)} of {cells} expected cells as OpenRefine shows them, "
        f"{len(problems)} differences ({time.monotonic() - started:.1f} s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
