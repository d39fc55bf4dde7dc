"""The registry's own pages: the front page, search, the downloads page and the page that
explains URIs, formats, APIs and licences. Each is a document like any other (HTML, and
JSON where that helps a program), with the same validators and caching."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from geography import spatial
from geography.entity_types import LOWEST_PRIORITY, priority
from geography.registers import AREAS, ENTITY_TYPES, SEARCH_ORDER
from registry import facts
from registry.documents import welsh_labels
from registry.models import (
    EVENT_KIND,
    STATUS,
    Entry,
    Identifier,
    Name,
    NameWord,
    State,
    covering,
)
from registry.statistics import (
    change_counts,
    entry_counts,
    live_by_entity_type,
    register_summaries,
    registers,
)
from registry.text import INVERTED_HEADS, fold, prefixes
from registry.uris import dataset_description_uri, download_uri, entry_uri
from registry.validtime import today

from . import http, maps
from .documents.base import DocumentView
from .documents.downloads import boundary_vintages
from .i18n import type_label
from .renderers import HTMLRenderer, JSONRenderer, Representation

# Colours from the GOV.UK Design System palette, one per kind of change (all reach 3:1
# against white, as the bars are non-text content).
KIND_COLOURS = {
    "creation": "#00703c",
    "termination": "#d4351c",
    "recode": "#1d70b8",
    "boundary-change": "#f47738",
    "merge": "#4c2c92",
    "split": "#5694ca",
    "rename": "#b58840",
    "complex": "#505a5f",
}
SEARCH_LIMIT = 50
REGISTER_ORDER = SEARCH_ORDER


class Page(Representation):
    """A page whose JSON form is its context (less anything only the template needs)."""

    def __init__(self, template_name: str, context: dict[str, Any], json: Any = None):
        self.template_name = template_name
        self._context = context
        self._json = json if json is not None else context

    def context(self):
        return self._context

    def as_json(self):
        return self._json


class PageView(DocumentView):
    renderer_classes = [HTMLRenderer, JSONRenderer]

    def target(self, request, date, **kwargs):
        return type(self).__name__


# ---------------------------------------------------------------------------------------
# Front page


def chart(counts: list[dict[str, Any]], width: int = 720, height: int = 64) -> dict[str, Any]:
    """Geometry of the front page's chart of change events by year, as small multiples: one
    row of bars per kind of change, each row on its own scale, so that a year of a few
    renames reads as well beside the 1,088 splits of 2021. The years run from the first
    the data holds to the last, the same in every row. The SVGs the template draws are
    images (``role="img"``) with no links inside; the links to each year's changes are
    beside them, as a list."""
    if not counts:
        return {"panels": [], "years": [], "width": width, "height": height}
    years = list(range(min(r["year"] for r in counts), max(r["year"] for r in counts) + 1))
    left, label_h, top_pad = 4, 14, 14
    plot_h = height - label_h - top_pad
    slot = (width - left) / len(years)
    bar_w = max(3.0, slot * 0.7)
    panels = []
    for kind in KIND_COLOURS:
        by_year = {r["year"]: r["n"] for r in counts if r["kind"] == kind}
        if not by_year:
            continue
        top = max(by_year.values())
        bars = []
        for i, year in enumerate(years):
            n = by_year.get(year, 0)
            h = plot_h * n / top if n else 0.0
            x = left + i * slot + (slot - bar_w) / 2
            bars.append(
                {
                    "year": year,
                    "n": n,
                    "x": round(x, 1),
                    "w": round(bar_w, 1),
                    "y": round(height - label_h - h, 1),
                    "h": round(max(h, 1.0) if n else 0.0, 1),
                    "label_x": round(x + bar_w / 2, 1),
                    "n_y": round(height - label_h - h - 3, 1),
                    "href": f"/doc/change-event?year={year}&kind={kind}",
                }
            )
        panels.append(
            {
                "kind": kind,
                "label": EVENT_KIND(kind).label,
                "colour": KIND_COLOURS[kind],
                "max": top,
                "total": sum(by_year.values()),
                "bars": bars,
            }
        )
    axis = [
        {"year": year, "x": round(left + i * slot + slot / 2, 1)} for i, year in enumerate(years)
    ]
    return {
        "panels": panels,
        "years": axis,
        "first_year": years[0],
        "last_year": years[-1],
        "width": width,
        "height": height,
        "label_y": height - 2,
    }


class HomeView(PageView):
    """``/``: what the registry holds, at a glance."""

    def boundaries_of(self, target):
        return http.boundaries_version()  # its overview map draws them

    def represent(self, request, target, date, explicit):
        counts = entry_counts()
        register_rows = [
            {"slug": slug, "name": r.name, "entry_count": counts.get(r.pk, 0)}
            for slug, r in sorted(registers().items())
        ]
        live = live_by_entity_type(date, AREAS)
        names = facts.labels([r["entity_type_id"] for r in live], date)
        for row in live:
            row["name"] = names.get(row["entity_type_id"], "")
        shown = [{**row, "name": type_label(row["entity_type__key"], row["name"])} for row in live]
        counts = change_counts()
        overview = maps.overview_map(date, explicit, http.data_version(), http.boundaries_version())
        context = {
            "registers": register_rows,
            "date": date,
            "explicit": explicit,
            # Built from escaped parts (api.maps).
            "overview": mark_safe(overview) if overview else "",  # noqa: S308
            "live": shown,
            "chart": chart(counts),
            "changes": [{**row, "label": EVENT_KIND(row["kind"]).label} for row in counts],
        }
        json = {
            "date": date.isoformat(),
            "registers": [
                {"slug": r["slug"], "name": r["name"], "entries": r["entry_count"]}
                for r in register_rows
            ],
            "live_by_entity_type": [
                {"entity_type": r["entity_type__key"], "name": r["name"], "live": r["n"]}
                for r in live
            ],
            "changes_by_year_and_kind": counts,
        }
        return Page("api/home.html", context, json)


# ---------------------------------------------------------------------------------------
# Search


def search(query: str, date: dt.date, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Entries whose code (in any scheme) or name (any language, any period) matches
    ``query``, folded by ``registry.text.fold`` as the names are (case, accents, punctuation,
    mojibake, "St"/"Saint" and inverted ONS forms do not matter). Exact codes come first, then
    exact names, then names exact but for a generic head ("Bristol, City of" for "bristol"),
    then names starting with the query, then names containing it as a word; within each,
    names in use on ``date`` before former ones, and live entries before terminated ones."""
    query = query.strip()
    found: dict[int, tuple[tuple, str]] = {}

    def note(entry_id: int, rank: tuple, why: str) -> None:
        if entry_id not in found or rank < found[entry_id][0]:
            found[entry_id] = (rank, why)

    code = "".join(query.split()).upper()
    if code:
        # By (register, key), the unique index, in every register at once.
        in_any_register = Entry.objects.filter(register__in=list(registers().values()), key=code)
        for entry_id, key in in_any_register.values_list("id", "key"):
            note(entry_id, (0, 0, 0, len(key)), f"code {key}")
        for entry_id, scheme, value in Identifier.objects.filter(
            value__in={query, code}
        ).values_list("entry_id", "scheme", "value"):
            note(entry_id, (0, 1, 0, len(value)), f"{scheme} {value}")
    folded = fold(query)
    if folded:
        # A name that fold turned round ("Bristol, City of" is "city of bristol") is exact
        # but for its head: looked up on its own, as the prefix window below, ordered by
        # folded text, can be filled by "bristol 001"… before it reaches "city of…".
        headed = [f"{head} {folded}" for head in INVERTED_HEADS]
        starts = prefixes(query)
        fields = ("entry_id", "text", "folded", "valid_to")
        names = list(Name.objects.filter(folded__in=[folded, *headed]).values_list(*fields))
        # The first 500 names, in folded order, starting with any of the starts: one index
        # range each, read in order up to the limit (an OR of the ranges ordered by folded
        # text would have SQLite walk the whole index: 12 ms for "s" rather than 1 ms).
        window = []
        for start in starts:
            window += (
                Name.objects.with_folded_prefix(start).order_by("folded").values_list(*fields)[:500]
            )
        names += sorted(window, key=lambda n: n[2])[:500]
        if len({n[0] for n in names}) < limit:
            # Few names start with the query: look for it at the start of a later word, by
            # the index of later words (one range), then those entries' names that have it.
            inside = NameWord.objects.with_prefix(folded).order_by("tail")
            ids = set(inside.values_list("entry_id", flat=True)[:200])
            names += list(
                Name.objects.filter(entry_id__in=ids, folded__contains=f" {folded}").values_list(
                    *fields
                )
            )
        for entry_id, text, name_folded, valid_to in names:
            if name_folded == folded:
                closeness = 0
            elif name_folded in headed:
                closeness = 1
            elif name_folded.startswith(starts):
                closeness = 2
            else:
                closeness = 3
            former = valid_to is not None and valid_to < date
            note(entry_id, (1, closeness, former, len(text)), text)
    if not found:
        return []
    ids = list(found)
    entries = {e.pk: e for e in Entry.objects.filter(pk__in=ids).select_related("register")}
    states = {
        entry_id: (status, entity_type)
        for entry_id, status, entity_type in State.objects.filter(
            covering(date), entry_id__in=ids
        ).values_list("entry_id", "status", "entity_type__key")
    }
    labels = facts.labels(list(entries), date)

    def order(entry_id: int):
        rank, _ = found[entry_id]
        status, entity_type = states.get(entry_id, (None, None))
        slug = entries[entry_id].register.slug
        register = REGISTER_ORDER.get(slug, len(REGISTER_ORDER))
        # Codes first, then names; of these, the main kinds of area (those reconciliation
        # ranks: a district, a ward) before the other families that share their names (the
        # community safety partnership or 1961 parish named like a district, "Kings Lynn");
        # then the closest names, names in use before former ones, live entries first.
        other = priority(slug, entity_type) == LOWEST_PRIORITY
        return (
            rank[0],
            other,
            rank[1],
            rank[2],
            status != STATUS.LIVE,
            register,
            rank[3],
            entries[entry_id].key,
        )

    results = []
    for entry_id in sorted(ids, key=order)[:limit]:
        entry = entries[entry_id]
        status, entity_type = states.get(entry_id, (None, None))
        name = labels.get(entry_id, entry.key)
        matched = found[entry_id][1]
        results.append(
            {
                "register": entry.register.slug,
                "key": entry.key,
                "uri": entry_uri(entry.register.slug, entry.key),
                "document": f"/doc/{entry.register.slug}/{entry.key}",
                "name": name,
                "matched": matched if matched != name else None,
                "status": status,
                "entity_type": entity_type,
            }
        )
    return results


def shown_results(results: list[dict[str, Any]], date: dt.date) -> list[dict[str, Any]]:
    """Search results as the page shows them: each entity type by name with its code, and
    on a Welsh page the Welsh name of each entry that has one."""
    keys = {(r["register"], r["key"]) for r in results}
    pks = {
        (slug, key): pk
        for pk, slug, key in Entry.objects.filter(
            register__slug__in={slug for slug, _ in keys}, key__in={key for _, key in keys}
        ).values_list("pk", "register__slug", "key")
    }
    welsh = welsh_labels(list(pks.values()), date) or {}
    types = {
        key: pk
        for pk, key in Entry.objects.filter(
            register__slug=ENTITY_TYPES, key__in={r["entity_type"] for r in results}
        ).values_list("pk", "key")
    }
    type_names = facts.labels(list(types.values()), today())
    return [
        {
            **r,
            "name_cy": welsh.get(pks.get((r["register"], r["key"]))),
            "type_label": type_label(r["entity_type"], type_names.get(types.get(r["entity_type"]))),
            "register_label": gettext(registers()[r["register"]].name)
            if r["register"] in registers()
            else r["register"],
        }
        for r in results
    ]


class SearchView(PageView):
    """``/search?q=…``: entries by name or code in any scheme. A query that is exactly one
    entry's code goes straight to that entry's page: a code with a digit in any case
    ("e07000004"), a code of letters only as it is written ("NEW", not the word "new")."""

    def target(self, request, date, **kwargs):
        return http.check_text("q", request.GET.get("q", ""), max_length=200)

    def get(self, request, format=None, **kwargs):
        query = request.GET.get("q", "").strip()
        if (
            query
            and isinstance(request.accepted_renderer, HTMLRenderer)
            and len(query) <= 200
            and "\x00" not in query
        ):
            code = "".join(query.split())
            if any(c.isdigit() for c in code):
                code = code.upper()
            matches = list(
                Entry.objects.filter(
                    register__in=list(registers().values()), key=code
                ).select_related("register")[:2]
            )
            if len(matches) == 1:
                entry = matches[0]
                response = HttpResponse(status=302)
                response["Location"] = f"/doc/{entry.register.slug}/{entry.key}"
                return response
        return super().get(request, format=format, **kwargs)

    def represent(self, request, query, date, explicit):
        results = search(query, date) if query.strip() else []
        context = {
            "query": query,
            "results": shown_results(results, date),
            "date": date,
            "limit": SEARCH_LIMIT,
        }
        return Page(
            "api/search.html",
            context,
            {"query": query, "date": date.isoformat(), "results": results},
        )


# ---------------------------------------------------------------------------------------
# Downloads and about


class DownloadsView(PageView):
    """``/downloads``: every register as CSV and N-Triples, every vintage of every boundary
    layer as GeoJSON, and the VoID description."""

    def boundaries_of(self, target):
        return http.boundaries_version()  # it counts the boundaries

    def represent(self, request, target, date, explicit):
        rows = []
        for register in register_summaries():
            rows.append(
                {
                    **register,
                    "csv": download_uri(register["slug"], "csv.gz"),
                    "nt": download_uri(register["slug"], "nt.gz"),
                    "csv_path": f"/downloads/{register['slug']}.csv.gz",
                    "nt_path": f"/downloads/{register['slug']}.nt.gz",
                }
            )
        boundaries = boundary_vintages()
        context = {
            "registers": rows,
            "boundaries": boundaries,
            "attribution": spatial.ATTRIBUTION,
            "void": dataset_description_uri(),
            "date": date,
        }
        return Page(
            "api/downloads.html",
            context,
            {
                "void": dataset_description_uri(),
                "registers": [
                    {k: v for k, v in r.items() if not k.endswith("_path")} for r in rows
                ],
                "boundaries": [
                    {
                        **{k: v for k, v in b.items() if not k.endswith("_path")},
                        "first": b["first"].isoformat(),
                        "last": b["last"].isoformat() if b["last"] else None,
                    }
                    for b in boundaries
                ],
                "boundaries_attribution": spatial.ATTRIBUTION,
            },
        )


class AboutView(PageView):
    """``/about``: how the URIs, formats, APIs and licences work."""

    renderer_classes = [HTMLRenderer]

    def represent(self, request, target, date, explicit):
        return Page(
            "api/about.html",
            {"registers": sorted(registers().values(), key=lambda r: r.slug), "today": today()},
        )
