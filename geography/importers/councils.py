"""Councils: the ``local-authority`` register, keyed by the three-letter local-authority code
(``BIR``), each governing its area(s) over time.

Editorial decisions
-------------------
- The bodies, their codes, names and identifiers come from mySociety's UK local authority
  names and codes (CC BY 4.0); Welsh names from the GOV.UK register of principal local
  authorities in Wales.
- A council is recorded from its start date. 280 councils have no start date in any source;
  they are recorded from the start of the first area they govern, or else from 2009-01-01 (the
  earliest date these sources cover), with ``start_date_known`` false.
- End dates: where a council's end is one day after the end of the area it governed, the
  Code History Database's area end is used (mySociety ends the 2021 and 2023 councils on 1
  April, a day late).
- A council governs its GSS area and its former GSS codes, each over the part of the
  council's life the area existed; when the area is recoded (Barnsley E08000016 →
  E08000038) the council governs the successor, which mySociety does not yet list.
- Legacy ONS (SNAC) codes such as ``00CN`` name areas, so they are identifiers of the area;
  ISO 3166-2:GB codes (``GB-BIR``) and GOV.UK register ids name the council body and are its
  identifiers. ISO 3166-2 is stale for the 2021 and 2023 unitaries and is used only for the
  codes it has.
- ``replaced-by`` makes change events between councils, dated the day after the old council
  ended.
- A council that changed its name keeps its code (Shepway District Council became Folkestone
  and Hythe District Council on 2018-04-01, SHE throughout), and mySociety lists only the
  newest name. The former names, with their dates and evidence, are in
  ``curated/council_names.csv``; a council's mySociety names then start the day after its
  last former name of the same language and kind ended, so a page as at 2018 names the
  council as it was named then.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from registry.models import NAME_KIND

from ..registers import AREAS, COUNCIL_PATTERN, COUNCILS
from .base import DAY, Dataset, LoadError, read_csv

COUNCIL_KEY = re.compile(COUNCIL_PATTERN)
EARLIEST = dt.date(2009, 1, 1)
SOURCE = "local_authorities/mysociety_uk_local_authorities.csv"
FORMER_NAMES = "curated/council_names.csv"


def former_names(root: Path) -> dict[str, list[tuple[str, str, str, dt.date | None, dt.date]]]:
    """The former names of councils from ``curated/council_names.csv``, by council code:
    (language, kind, text, valid_from, valid_to). The file is optional, so that a
    ``--fixtures`` folder in the older layout still loads."""
    if not (root / FORMER_NAMES).exists():
        return {}
    found: dict[str, list[tuple[str, str, str, dt.date | None, dt.date]]] = {}
    columns = ["local-authority-code", "language", "kind", "name", "valid_from", "valid_to"]
    for row in read_csv(root, FORMER_NAMES, columns):
        key = row.text("local-authority-code")
        language, kind = row.text("language"), row.text("kind")
        if language not in ("en", "cy"):
            raise row.error(f"language {language!r} is not en or cy")
        if kind not in NAME_KIND.values:
            raise row.error(f"kind {kind!r} is not one of {', '.join(NAME_KIND.values)}")
        start, end = row.date("valid_from"), row.date("valid_to", required=True)
        if start and end and end < start:
            raise row.error(f"valid_to {end} is before valid_from {start}")
        found.setdefault(key, []).append((language, kind, row.text("name"), start, end))  # type: ignore[arg-type]
    return found


def load_councils(data: Dataset, root: Path) -> None:
    iso = {}
    path = "local_authorities/iso3166_2_gb.csv"
    for row in read_csv(root, path, ["iso_code", "bs6879_code"]):
        iso[row.text("bs6879_code")] = row.text("iso_code")
    welsh = {}
    path = "local_authorities/openregister_principal_local_authority_wales.csv"
    columns = ["principal-local-authority", "name-cy", "official-name-cy"]
    for row in read_csv(root, path, columns):
        welsh[row.text("principal-local-authority")] = (
            row.text("name-cy", False),
            row.text("official-name-cy", False),
        )

    columns = ["local-authority-code", "official-name", "nice-name", "gss-code", "start-date",
               "end-date", "replaced-by", "former-gss-codes", "BS-6879", "snac",
               "old-register-and-code", "local-authority-type", "local-authority-type-name",
               "nation", "region", "gov-uk-slug", "powers"]  # fmt: skip
    former = former_names(root)
    replacements = []
    for row in read_csv(root, SOURCE, columns):
        key = row.text("local-authority-code")
        if not COUNCIL_KEY.match(key):
            raise row.error(f"local-authority-code {key!r} is not a council code")
        draft = data.entry(COUNCILS, key, SOURCE, row)
        earlier = former.pop(key, [])

        def since(language: str, kind: str, earlier=earlier) -> dt.date | None:
            ends = [end for lang, k, _, _, end in earlier if (lang, k) == (language, kind)]
            return max(ends) + DAY if ends else None

        for language, kind, text, start, end in earlier:
            draft.name(text, start, end, language=language, kind=kind)
            draft.sources.add(FORMER_NAMES)
        draft.name(row.text("official-name"), since("en", NAME_KIND.OFFICIAL))
        draft.name(row.text("nice-name"), since("en", NAME_KIND.DISPLAY), kind=NAME_KIND.DISPLAY)
        if key in welsh:
            display, official = welsh[key]
            draft.name(official, since("cy", NAME_KIND.OFFICIAL), language="cy")
            draft.name(
                display, since("cy", NAME_KIND.DISPLAY), language="cy", kind=NAME_KIND.DISPLAY
            )
        start, end = row.date("start-date"), row.date("end-date")
        if start and end and end < start:
            raise row.error(f"end-date {end} is before start-date {start}")
        areas = [row.gss("gss-code", required=False)] + [
            code.strip() for code in row.text("former-gss-codes", False).split(",") if code.strip()
        ]
        areas = [code for code in areas if code]
        for code in areas:
            if data.get(f"{AREAS}/{code}") is None:
                continue  # an area of a kind this release does not load
            draft.relations.add(("governs", "", f"{AREAS}/{code}", None, None))
        draft.operative, draft.terminated = _lifetime(data, start, end, areas)
        draft.attributes = {
            "type": row.text("local-authority-type", False),
            "type_name": row.text("local-authority-type-name", False),
            "nation": row.text("nation", False),
            "region": row.text("region", False),
            "powers": row.text("powers", False),
            "gov_uk_slug": row.text("gov-uk-slug", False),
            "start_date_known": start is not None,
        }
        bs = row.text("BS-6879", False)
        if bs in iso:
            draft.identifiers.add(("iso-3166-2", iso[bs], None, None))
        register_id = row.text("old-register-and-code", False)
        if register_id:
            draft.identifiers.add(("govuk-register", register_id, None, None))
        snac = row.text("snac", False)
        if snac and areas and (area := data.get(f"{AREAS}/{areas[0]}")) is not None:
            area.identifiers.add(("ons-legacy", snac, None, None))
            area.sources.add(SOURCE)
        for successor in row.text("replaced-by", False).split(","):
            if successor.strip():
                replacements.append((row, key, successor.strip()))
    if former:
        raise LoadError(
            FORMER_NAMES, 0, f"no such council in {SOURCE}: {', '.join(sorted(former))}"
        )
    for row, key, successor in replacements:
        old = data.get(f"{COUNCILS}/{key}")
        if data.get(f"{COUNCILS}/{successor}") is None:
            raise row.error(f"replaced-by {successor!r} is not a council code in this file")
        if old.terminated is None:  # type: ignore[union-attr]
            raise row.error(f"{key} is replaced by {successor} but has no end-date")
        data.change(old.terminated + DAY, f"{COUNCILS}/{key}", f"{COUNCILS}/{successor}",  # type: ignore[union-attr]
                    SOURCE)  # fmt: skip


def _lifetime(
    data: Dataset, start: dt.date | None, end: dt.date | None, areas: list[str]
) -> tuple[dt.date, dt.date | None]:
    drafts = [d for code in areas if (d := data.get(f"{AREAS}/{code}")) is not None]
    if start is None:
        starts = [d.operative for d in drafts if d.operative]
        start = min(starts) if starts else EARLIEST
    if end is not None:
        for area in drafts:
            if area.terminated and area.terminated + DAY == end:
                end = area.terminated
    return start, end
