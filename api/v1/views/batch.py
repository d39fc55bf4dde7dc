"""Many items at once: the bulk lookup (JSON) and the code checker (a CSV file, or a web form
for people who do not write code)."""

from __future__ import annotations

import re

from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from geography import spatial
from geography.registers import AREAS
from registry.replicas import reads_only

from ... import http, reference
from ...documents.base import DATE_PARTS, date_from
from ...documents.errors import error_response
from .. import checker as checking
from .. import problems, results
from .. import serializers as s
from ..bulk import Item, describe_all, resolve
from ..checker import (
    ADDED_COLUMNS,
    DEFAULT_POINT_LAYERS,
    Checker,
    CheckerError,
    Options,
    PointOptions,
    open_text,
    point_columns,
)
from ..parsers import CSVParser, StrictJSONParser, max_upload_bytes
from ..schema import responses
from ..throttling import BulkThrottle
from .base import LookupView
from .points import parse_layers


def _check_entity_types(name: str, keys: list[str]) -> list[str]:
    unknown = [key for key in keys if key not in reference.entity_type_keys()]
    if unknown:
        raise problems.BadParameter(
            name, f"there is no entity type {', '.join(map(repr, unknown[:5]))}."
        )
    return keys


def _check_register(name: str, slug: str) -> str:
    if slug not in reference.register_slugs():
        raise problems.BadParameter(name, f"there is no register {slug[:64]!r}.")
    return slug


# Both answer POSTs without writing: public ones may read from a replica (registry/replicas.py).
@reads_only
class BulkLookupView(LookupView):
    """Look up to 1,000 codes, identifiers or names at once."""

    parser_classes = [StrictJSONParser]
    throttle_classes = [BulkThrottle]
    serializer_class = s.BulkRequestSerializer
    cacheable = False
    answers_recorded = True

    @extend_schema(
        request=s.BulkRequestSerializer,
        responses=responses(s.BulkResponseSerializer, 413, 415),
        summary="Bulk lookup: up to 1,000 codes, identifiers or names, answered in order",
        operation_id="lookup_bulk",
    )
    def post(self, request):
        data = request.data
        items = data.get("items") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > s.MAX_BULK_ITEMS:
            # A 400 naming the field (the schema's maxItems), before the items are read.
            raise problems.BadParameter(
                "items",
                f"has {len(items):,} items; a bulk lookup takes at most {s.MAX_BULK_ITEMS:,}.",
            )
        serializer = s.BulkRequestSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        date = body.get("date") or self.date
        register = _check_register("register", body.get("register") or AREAS)
        entity_types = _check_entity_types("entity_type", body.get("entity_type") or []) or None
        for index, item in enumerate(body["items"]):
            http.check_text(f"items[{index}]", item["value"], 300)
            if item.get("register"):
                _check_register(f"items[{index}].register", item["register"])
        results = describe_all(
            resolve(
                [
                    Item(
                        value=item["value"],
                        kind=item["kind"],
                        scheme=item.get("scheme"),
                        register=item.get("register"),
                    )
                    for item in body["items"]
                ],
                date,
                name_register=register,
                entity_types=entity_types,
            ),
            recorded=self.recorded,
        )
        answer = {"date": date.isoformat(), "count": len(results), "results": results}
        if self.recorded is not None:
            answer = {"date": answer["date"], "recorded": self.recorded.isoformat(), **answer}
        return Response(answer)


CHECK_PARAMETERS = [
    OpenApiParameter(
        "column",
        str,
        description="The column holding codes or names: its header, or its number from 1. Required (here or as a form field).",
    ),
    OpenApiParameter(
        "date_column",
        str,
        description="A column of dates (YYYY-MM-DD or DD/MM/YYYY) to check each row as at.",
    ),
    OpenApiParameter(
        "entity_type",
        str,
        description="Entity type codes, comma-separated, that name matches are narrowed to.",
    ),
    OpenApiParameter(
        "register",
        str,
        description="The register names are matched in (default statistical-geography).",
    ),
    OpenApiParameter(
        "points",
        str,
        description="yes: add the codes of the areas containing each row's point, from "
        "latitude/longitude or easting/northing columns (found by their names: lat, latitude, "
        "lon, lng, longitude, easting, northing; or named below). The code column is then "
        "optional.",
    ),
    OpenApiParameter(
        "point_types",
        str,
        description="The layers to look points up in, comma-separated (default lad,ward): "
        + ", ".join(spatial.LAYERS)
        + ". Giving it asks for points.",
    ),
    *(
        OpenApiParameter(
            f"{kind}_column",
            str,
            description=f"The column of {what} (its header or number); asks for points.",
        )
        for kind, what in (
            ("lat", "latitudes"),
            ("lon", "longitudes"),
            ("easting", "British National Grid eastings"),
            ("northing", "British National Grid northings"),
        )
    ),
]
YES = {"yes", "true", "on", "1"}


class CheckUploadSerializer(drf_serializers.Serializer):
    file = drf_serializers.FileField(help_text="The CSV file, with a header row.")
    column = drf_serializers.CharField()
    date_column = drf_serializers.CharField(required=False)
    date = drf_serializers.DateField(required=False)
    entity_type = drf_serializers.CharField(required=False)
    register = drf_serializers.CharField(required=False)
    points = drf_serializers.CharField(required=False)
    point_types = drf_serializers.CharField(required=False)
    lat_column = drf_serializers.CharField(required=False)
    lon_column = drf_serializers.CharField(required=False)
    easting_column = drf_serializers.CharField(required=False)
    northing_column = drf_serializers.CharField(required=False)


@reads_only
class CheckerView(LookupView):
    """The code checker: POST a CSV file, get it back with the registry's answer for each row.

    GET shows a web form for the same, for people who do not write code. The form's POST
    (``via=form``) answers with a page: what the check found, the first rows, and a link to
    the checked file (kept for a while, ``api.v1.results``)."""

    parser_classes = [CSVParser, MultiPartParser, FormParser]
    throttle_classes = [BulkThrottle]
    cacheable = False
    template_name = "api/checker.html"
    # What an OPTIONS request (a CORS preflight, say) describes; without it DRF's metadata
    # fails looking for a serializer (a 500 Schemathesis found).
    serializer_class = CheckUploadSerializer

    @extend_schema(exclude=True)
    def get(self, request):
        return self.form(request)

    def form(self, request, errors=None, values=None, status=200, **extra):
        values = values or {}
        context = {
            # What the date input shows: the fields as sent (empty for today).
            "form_date": {
                "day": values.get("date-day", ""),
                "month": values.get("date-month", ""),
                "year": values.get("date-year", ""),
            },
            "errors": errors or [],
            "values": values,
            "date": self.date,
            "columns": ADDED_COLUMNS,
            "point_layers": [
                (layer, gettext(spatial.LAYER_NAMES[layer]), point_columns([layer])[0])
                for layer in spatial.LAYERS
            ],
            "chosen_layers": _chosen_layers(values),
            "coordinate_fields": [
                ("lat", gettext("Latitude column")),
                ("lon", gettext("Longitude column")),
                ("easting", gettext("Easting column")),
                ("northing", gettext("Northing column")),
            ],
            "max_mb": max_upload_bytes() // (1024 * 1024),
            "kept_minutes": results.max_age() // 60,
            **extra,
        }
        return render(request, self.template_name, context, status=status)

    @extend_schema(
        parameters=CHECK_PARAMETERS,
        request={"text/csv": OpenApiTypes.STR, "multipart/form-data": CheckUploadSerializer},
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The same CSV with registry_code, registry_name, "
                "registry_entity_type, registry_status, registry_current_codes, registry_uri "
                "and registry_note added (numbered, as registry_code_2 and so on, if the file "
                "has a column of one of those names already).",
            ),
            **{k: v for k, v in responses(None, 413, 415).items() if k not in (200, 304)},
        },
        summary="Check a CSV file of codes or names",
        operation_id="check_file",
    )
    def post(self, request):
        from_form = (
            request.content_type.startswith("multipart/") and request.data.get("via") == "form"
        )
        try:
            checker, filename = self.check(request)
            if from_form:
                return self.show(request, checker, filename)
        except (problems.BadParameter, CheckerError) as error:
            if not from_form:
                if isinstance(error, CheckerError):
                    raise problems.BadParameter(error.parameter, error.reason) from None
                raise
            if isinstance(error, CheckerError):
                messages = [f"{error.parameter}: {error.reason}"]
            elif isinstance(error, http.BadParameter):
                messages = [error.sentence]
            else:
                messages = [
                    f"{item['name']}: {item['reason']}" for item in problems._flatten(error.detail)
                ]
            return self.form(request, messages, request.data, status=400)
        response = StreamingHttpResponse(checker, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response

    def show(self, request, checker: Checker, filename: str):
        """The form's answer: check the whole file, keep it, and show what was found."""
        token = results.save(checker)
        summary = checker.summary
        outcomes = {
            "matched": summary.count(checking.MATCHED),
            "terminated": summary.count(checking.TERMINATED),
            "not_yet": summary.count(checking.NOT_YET),
            "ambiguous": summary.count(checking.AMBIGUOUS),
            "unknown": summary.count(checking.UNKNOWN),
            "problem": summary.count(checking.PROBLEM),
        }
        # Names matched on the date that other areas bore at other dates: matched, and
        # counted as ambiguous too.
        outcomes["matched_ambiguous"] = summary.matched - sum(
            outcomes[kind] for kind in ("matched", "terminated", "not_yet")
        )
        return self.form(
            request,
            values=request.data,
            summary=summary,
            checked_as_at=None if checker.date_column is not None else checker.options.date,
            checked_codes=checker.column is not None,
            # Where the code's notes are: the first added columns, when codes were looked up.
            note_column=checker.added_columns[len(ADDED_COLUMNS) - 1]
            if checker.column is not None
            else "",
            outcomes=outcomes,
            filename=filename,
            download=reverse("api-v1:check-result", args=[token, filename]),
        )

    def check(self, request) -> tuple[Checker, str]:
        """The checker for the request's file and options, and the name to give the checked
        file; raises BadParameter or CheckerError for a bad request."""
        is_csv = request.content_type.split(";")[0].strip() == "text/csv"
        source = request.query_params if is_csv else request.data

        def text(name: str) -> str:
            value = source.get(name) or request.query_params.get(name) or ""
            return http.check_text(name, str(value)).strip()

        column = text("column")
        points = self.point_options(source, text, from_form=source.get("via") == "form")
        if not column and points is None:
            raise problems.BadParameter(
                "column",
                "name the column that holds the codes or names (or ask for the areas "
                "containing each row's point with points=yes).",
            )
        date = self.date
        if not is_csv and any(part in source for part in DATE_PARTS):
            # The form's GOV.UK date input (day, month, year), read and refused as a page's.
            asked, given = date_from({part: text(part) for part in DATE_PARTS})
            date = asked if given else date
        elif not is_csv and text("date"):
            date = http.parse_date(text("date"))
        entity_types = [key.strip() for key in text("entity_type").split(",") if key.strip()]
        options = Options(
            column=column,
            date=date,
            date_column=text("date_column") or None,
            register=_check_register("register", text("register") or AREAS),
            entity_types=_check_entity_types("entity_type", entity_types) or None,
            points=points,
        )
        if is_csv:
            binary = request.data
            filename = "checked.csv"
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise problems.BadParameter("file", "attach the CSV file as the field `file`.")
            if upload.size > max_upload_bytes():
                raise problems.PayloadTooLarge(
                    f"The file is larger than {max_upload_bytes()} bytes."
                )
            if hasattr(upload, "temporary_file_path"):
                binary = open(upload.temporary_file_path(), "rb")  # noqa: SIM115
            else:
                binary = upload.file
                binary.seek(0)
            stem = re.sub(r"[^A-Za-z0-9._-]+", "-", upload.name or "file").rsplit(".", 1)[0]
            filename = f"{stem[:80] or 'file'}-checked.csv"
        if not hasattr(binary, "read"):
            raise problems.BadParameter("file", "send the CSV as the request body.")
        return Checker(open_text(binary), options), filename

    @staticmethod
    def point_options(source, text, from_form: bool = False) -> PointOptions | None:
        """The point look-up asked for, if any: ``points=yes``, ``point_types`` (a
        comma-separated value, or the form's repeated checkboxes) or a coordinate column.
        From the web form only its ``points`` checkbox asks: its layer checkboxes are sent
        ticked whether or not points were wanted."""
        getlist = getattr(source, "getlist", None)
        chosen = getlist("point_types") if getlist else [source.get("point_types") or ""]
        layers_text = ",".join(str(v) for v in chosen if v)
        http.check_text("point_types", layers_text)
        named = {
            kind: text(f"{kind}_column") or None for kind in ("lat", "lon", "easting", "northing")
        }
        wanted = text("points").lower()
        if wanted and wanted not in YES | {"no", "false", "off", "0"}:
            raise problems.BadParameter("points", f"must be yes or no; got {wanted[:20]!r}.")
        if wanted not in YES and (from_form or not (layers_text.strip() or any(named.values()))):
            return None
        layers = parse_layers(layers_text, "point_types") or list(DEFAULT_POINT_LAYERS)
        return PointOptions(
            layers=layers,
            lat_column=named["lat"],
            lon_column=named["lon"],
            easting_column=named["easting"],
            northing_column=named["northing"],
        )


def _chosen_layers(values) -> list[str]:
    getlist = getattr(values, "getlist", None)
    chosen = getlist("point_types") if getlist else []
    return [layer for value in chosen for layer in str(value).split(",")] or DEFAULT_POINT_LAYERS


FILENAME = re.compile(r"^[A-Za-z0-9._-]{1,120}\.csv$")


def checked_file(request, token: str, filename: str):
    """A file checked through the form, while it is kept; a 404 page once it is not."""
    path = results.path_for(token) if FILENAME.match(filename) else None
    if path is None:
        return error_response(
            request,
            404,
            gettext(
                "That checked file is no longer kept (files are kept for %(minutes)s "
                "minutes): check the file again."
            )
            % {"minutes": results.max_age() // 60},
            html=True,
        )
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type="text/csv; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
