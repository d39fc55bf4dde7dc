"""The shapes of the lookup API's answers and requests.

Answers are built as plain dicts from ``registry.documents.describe(entry, date).as_dict()``
(one entry) and ``registry.documents.summarise`` (many), so every representation says the
same thing; these serializers *describe* those shapes for the OpenAPI document (and validate
request bodies). The tests check live answers against the generated schema, and Schemathesis
does the same over the running server in CI, so a description cannot drift from the answers.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import EVENT_KIND, LANGUAGE, NAME_KIND, STATUS

from .bulk import KINDS

MAX_BULK_ITEMS = 1000


class LinkSerializer(serializers.Serializer):
    """A reference to another entry."""

    register = serializers.CharField()
    key = serializers.CharField()
    name = serializers.CharField()
    uri = serializers.URLField()


class EntityTypeRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class EventSummarySerializer(serializers.Serializer):
    key = serializers.CharField()
    uri = serializers.URLField()
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=EVENT_KIND.choices)
    instrument_id = serializers.CharField(allow_blank=True)
    instrument_title = serializers.CharField(allow_blank=True)
    predecessors = LinkSerializer(many=True)
    successors = LinkSerializer(many=True)


class CurrentInDocumentSerializer(LinkSerializer):
    via = EventSummarySerializer(many=True)


class NameSerializer(serializers.Serializer):
    text = serializers.CharField()
    language = serializers.ChoiceField(choices=LANGUAGE.choices)
    kind = serializers.ChoiceField(choices=NAME_KIND.choices)
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)


class IdentifierSerializer(serializers.Serializer):
    scheme = serializers.CharField()
    value = serializers.CharField()
    valid_from = serializers.DateField(allow_null=True)
    valid_to = serializers.DateField(allow_null=True)


class StateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS.choices)
    entity_type = serializers.CharField(allow_null=True)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)


class EntrySummarySerializer(serializers.Serializer):
    """An entry as at a date, in brief (listings, bulk answers)."""

    register = serializers.CharField()
    key = serializers.CharField()
    uri = serializers.URLField()
    name = serializers.CharField()
    name_cy = serializers.CharField(allow_null=True)
    display_name = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(
        choices=STATUS.choices,
        allow_null=True,
        help_text="As at the date; null before the entry was operative.",
    )
    entity_type = EntityTypeRefSerializer(allow_null=True)
    operative = serializers.DateField(allow_null=True)
    terminated = serializers.DateField(allow_null=True)


class EntryListItemSerializer(EntrySummarySerializer):
    parents = serializers.DictField(
        child=LinkSerializer(), help_text="The parent in each hierarchy, as at the date."
    )


class RecordSerializer(serializers.Serializer):
    """With ``?recorded=``: which record the answer shows."""

    recorded = serializers.DateTimeField(help_text="The instant asked about (`?recorded=`).")
    version = serializers.IntegerField(help_text="The entry's version in force at that instant.")
    version_recorded_at = serializers.DateTimeField(help_text="When that version was recorded.")


class EntryDocumentSerializer(EntrySummarySerializer):
    """Everything about an entry as at a date: ``registry.documents.describe().as_dict()``."""

    document = serializers.URLField()
    date = serializers.DateField()
    parents = serializers.DictField(child=LinkSerializer())
    governed_by = LinkSerializer(many=True)
    governs = LinkSerializer(many=True)
    successors = LinkSerializer(many=True)
    predecessors = LinkSerializer(many=True)
    current = CurrentInDocumentSerializer(
        many=True, help_text="For an entry not live on the date: the live code(s) it leads to."
    )
    names = NameSerializer(many=True)
    identifiers = IdentifierSerializer(many=True)
    states = StateSerializer(many=True)
    events = EventSummarySerializer(many=True)
    version = serializers.IntegerField(
        help_text="The number of the entry's latest version (with `?recorded=`, of the "
        "version in force then)."
    )
    recorded = RecordSerializer(
        required=False, help_text="Only with `?recorded=`: the record the answer shows."
    )


class HopSerializer(serializers.Serializer):
    """One change event followed from a code to its successor."""

    event = serializers.CharField()
    uri = serializers.URLField()
    kind = serializers.ChoiceField(choices=EVENT_KIND.choices)
    date = serializers.DateField()
    predecessor = serializers.CharField()
    successor = serializers.CharField()


class CurrentCodeSerializer(LinkSerializer):
    via = HopSerializer(
        many=True, help_text="The change events followed, in order; empty for the entry itself."
    )


class CurrentCodesSerializer(serializers.Serializer):
    register = serializers.CharField()
    key = serializers.CharField()
    uri = serializers.URLField()
    date = serializers.DateField()
    status = serializers.ChoiceField(choices=STATUS.choices, allow_null=True)
    current = CurrentCodeSerializer(many=True)


class AncestorSerializer(LinkSerializer):
    hierarchy = serializers.CharField()


class AncestorsSerializer(serializers.Serializer):
    register = serializers.CharField()
    key = serializers.CharField()
    uri = serializers.URLField()
    date = serializers.DateField()
    ancestors = AncestorSerializer(many=True)


class ParentPeriodSerializer(LinkSerializer):
    hierarchy = serializers.CharField()
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)


class HistorySerializer(serializers.Serializer):
    register = serializers.CharField()
    key = serializers.CharField()
    uri = serializers.URLField()
    date = serializers.DateField()
    status = serializers.ChoiceField(choices=STATUS.choices, allow_null=True)
    operative = serializers.DateField(allow_null=True)
    terminated = serializers.DateField(allow_null=True)
    states = StateSerializer(many=True)
    names = NameSerializer(many=True)
    identifiers = IdentifierSerializer(many=True)
    parents = ParentPeriodSerializer(many=True)
    events = EventSummarySerializer(many=True)
    predecessors = LinkSerializer(many=True)
    successors = LinkSerializer(many=True)
    current = CurrentCodeSerializer(many=True)
    recorded = RecordSerializer(
        required=False, help_text="Only with `?recorded=`: the record the answer shows."
    )


class RecordedBySerializer(serializers.Serializer):
    user = serializers.CharField(allow_null=True)
    import_run = serializers.IntegerField(allow_null=True)
    command = serializers.CharField(allow_null=True)


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    recorded_at = serializers.DateTimeField()
    recorded_by = RecordedBySerializer()
    source = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    changes = serializers.JSONField(help_text="What changed from the version before.")


class VersionDetailSerializer(VersionSerializer):
    snapshot = serializers.JSONField(help_text="The whole entry after this change.")


class RegisterSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    uri = serializers.URLField()
    key_pattern = serializers.CharField()
    licence = serializers.CharField(allow_blank=True)
    attribution = serializers.CharField(allow_blank=True)
    entries = serializers.IntegerField(help_text="Entries ever in the register.")
    live = serializers.IntegerField(help_text="Entries live on the date.")
    date = serializers.DateField()


class EntityTypeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    uri = serializers.URLField()
    status = serializers.ChoiceField(choices=STATUS.choices, allow_null=True)
    attributes = serializers.DictField(
        help_text="Attributes from the Register of Geographic Codes."
    )
    entries = serializers.IntegerField(help_text="Areas ever of this type.")
    live = serializers.IntegerField(help_text="Areas of this type live on the date.")
    date = serializers.DateField()


class SchemeSerializer(serializers.Serializer):
    scheme = serializers.CharField()
    identifiers = serializers.IntegerField()


class ChangeEventSerializer(EventSummarySerializer):
    note = serializers.CharField(allow_blank=True)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": 300},
            {
                "type": "object",
                "required": ["value"],
                "properties": {
                    "value": {"type": "string", "maxLength": 300},
                    "kind": {"type": "string", "enum": list(KINDS), "default": "auto"},
                    "scheme": {"type": "string", "maxLength": 64},
                    "register": {"type": "string", "maxLength": 64},
                },
            },
        ]
    }
)
class BulkItemField(serializers.Field):
    """A bulk item: a string (read as ``kind: auto``) or an object. Validated by hand rather
    than with a nested serializer per item, which costs half a second for 1,000 items."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = {"value": data}
        if not isinstance(data, dict):
            raise serializers.ValidationError("Each item is a string or an object with a value.")
        value = data.get("value")
        if not isinstance(value, str):
            raise serializers.ValidationError("`value` must be a string.")
        if len(value) > 300:
            raise serializers.ValidationError("`value` is longer than 300 characters.")
        kind = data.get("kind", "auto")
        if kind not in KINDS:
            raise serializers.ValidationError(f"`kind` must be one of {', '.join(KINDS)}.")
        result = {"value": value, "kind": kind}
        for name in ("scheme", "register"):
            extra = data.get(name)
            if extra is None:
                continue
            if not isinstance(extra, str) or len(extra) > 64:
                raise serializers.ValidationError(
                    f"`{name}` must be a string of 64 characters at most."
                )
            result[name] = extra
        for text in result.values():
            if "\x00" in text:
                raise serializers.ValidationError("Null characters are not allowed.")
        return result


class BulkRequestSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=BulkItemField(),
        allow_empty=True,
        max_length=MAX_BULK_ITEMS,
        help_text=f"Up to {MAX_BULK_ITEMS} values: strings, or objects "
        '`{"value": …, "kind": "auto|code|identifier|name", "scheme": …, "register": …}`.',
    )
    date = serializers.DateField(
        required=False, help_text="As at this date (default: `?date=`, or today)."
    )
    register = serializers.CharField(
        required=False, help_text="The register names are matched in (statistical-geography)."
    )
    entity_type = serializers.ListField(
        child=serializers.CharField(max_length=8),
        required=False,
        help_text="Entity type codes that name and identifier matches are narrowed to.",
    )


class BulkErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["empty", "malformed", "unknown", "ambiguous", "bad-scheme", "not-recorded"]
    )
    detail = serializers.CharField()


class AlsoNamedSerializer(EntrySummarySerializer):
    """Another entry that bore a matched name, at other dates than the one asked about."""

    named_from = serializers.DateField(allow_null=True, help_text="The first day it bore the name.")
    named_to = serializers.DateField(
        allow_null=True, help_text="The last day it bore the name; null if it still does."
    )


class BulkResultSerializer(serializers.Serializer):
    input = serializers.CharField(allow_blank=True)
    date = serializers.DateField()
    matched_by = serializers.ChoiceField(choices=["code", "identifier", "name"], allow_null=True)
    match = EntrySummarySerializer(allow_null=True)
    status = serializers.ChoiceField(choices=STATUS.choices, allow_null=True)
    current = CurrentCodeSerializer(many=True)
    candidates = EntrySummarySerializer(many=True)
    also_named = AlsoNamedSerializer(
        many=True,
        help_text="For a name matched on the date: the other entries that bore it at other "
        "dates (Shepway: a ward since 2024, and the district E07000112 until 2018).",
    )
    error = BulkErrorSerializer(allow_null=True)


class BulkResponseSerializer(serializers.Serializer):
    date = serializers.DateField()
    recorded = serializers.DateTimeField(
        required=False, help_text="Only with `?recorded=`: the instant matches are described as at."
    )
    count = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


class InvalidParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem detail."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(allow_blank=True)
    instance = serializers.CharField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        # "invalid-params" is not a Python identifier, so it is added here.
        fields["invalid-params"] = InvalidParamSerializer(many=True, required=False)
        return fields
