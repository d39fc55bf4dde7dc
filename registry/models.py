"""The generic register: registers, entries, their names, identifiers, states, relations,
change events and versions.

Identity (see ``DESIGN.md``)
----------------------------
An entry is identified by ``(register, key)``: in the ``statistical-geography`` register the
key is the nine-character ONS GSS code (``E06000001``), in ``statistical-entity`` the entity
code (``E06``), in ``local-authority`` the three-letter council code (``BIR``). A key never
changes meaning, is never edited once the entry exists, and an entry is never deleted: its URI
``{REGISTRY_URI_BASE}/id/{register}/{key}`` resolves for ever.

- A new GSS code is a new entry, even when ONS issues it to replace an old one. The old entry
  stays, terminated, and a :class:`ChangeEvent` links it to its successors.
- A change of name, Welsh name, parent or status under the same code is a new *state* of the
  same entry (a new :class:`Name`, :class:`State` or :class:`Relation` row with its own valid
  range), never a new entry.
- A council (``local-authority/BIR``) is not its area (``statistical-geography/E08000025``):
  they are entries in separate registers, joined by a ``governs`` :class:`Relation`.
- Identifiers in other schemes (legacy ONS ``00CN``, ISO 3166-2 ``GB-BIR``, SNAC, GOV.UK
  register ids) are :class:`Identifier` rows of (scheme, value, valid range), each resolving to
  exactly one entry for any date.

Two kinds of time
-----------------
*Valid time* is when something was true in the world. Every :class:`Name`, :class:`State`,
:class:`Relation` and :class:`Identifier` carries ``valid_from`` and ``valid_to``; both are
inclusive, and ``valid_to`` is null while the fact still holds. E07000004 Aylesbury Vale has a
live state from 2009-01-01 to 2020-03-31 and a terminated state from 2020-04-01 on, so "as at"
any date gives an answer. *Record time* is when the registry learned a fact: every change to an
entry, by an import run or a curator, writes a :class:`Version` holding who, when, why, the
complete snapshot after the change and the difference from the one before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .text import fold, later_words, prefixes


class LANGUAGE(models.TextChoices):
    ENGLISH = "en", "English"
    WELSH = "cy", "Welsh"


class NAME_KIND(models.TextChoices):
    OFFICIAL = "official", "Official name"
    DISPLAY = "display", "Short or display name"
    ALTERNATIVE = "alternative", "Alternative name"


class STATUS(models.TextChoices):
    LIVE = "live", "Live"
    TERMINATED = "terminated", "Terminated"


class RELATION_KIND(models.TextChoices):
    PARENT = "parent", "is within"
    GOVERNS = "governs", "governs"


class EVENT_KIND(models.TextChoices):
    CREATION = "creation", _("Creation")
    TERMINATION = "termination", _("Termination")
    RECODE = "recode", _("Recode")
    BOUNDARY_CHANGE = "boundary-change", _("Boundary change")
    MERGE = "merge", _("Merge")
    SPLIT = "split", _("Split")
    RENAME = "rename", _("Rename")
    COMPLEX = "complex", _("Complex change (redistribution between several areas)")


def covering(date: dt.date, prefix: str = "") -> Q:
    """A filter for rows whose inclusive valid range contains ``date``."""
    return Q(**{f"{prefix}valid_from__lte": date}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": date})
    )


class RegisterManager(models.Manager["Register"]):
    def get_by_natural_key(self, slug: str) -> Register:
        return self.get(slug=slug)


class Register(models.Model):
    """A set of entries under one URI set, such as ``statistical-geography``."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    key_pattern = models.CharField(
        max_length=200, help_text="A regular expression every key in this register matches."
    )
    licence = models.CharField(max_length=300, blank=True)
    attribution = models.TextField(blank=True)

    objects = RegisterManager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class EntryQuerySet(models.QuerySet["Entry"]):
    def in_register(self, slug: str) -> EntryQuerySet:
        return self.filter(register__slug=slug)

    def valid_on(self, date: dt.date) -> EntryQuerySet:
        """Entries that were live on ``date`` (operative on or before, not yet terminated)."""
        live = State.objects.filter(covering(date), status=STATUS.LIVE)
        return self.filter(pk__in=live.values("entry_id"))

    def of_type(self, entity_type_key: str, date: dt.date | None = None) -> EntryQuerySet:
        states = State.objects.filter(entity_type__key=entity_type_key)
        if date is not None:
            states = states.filter(covering(date))
        return self.filter(pk__in=states.values("entry_id"))

    def with_identifier(
        self, scheme: str, value: str, date: dt.date | None = None
    ) -> EntryQuerySet:
        """Entries carrying ``value`` in ``scheme`` (on ``date``, if given)."""
        identifiers = Identifier.objects.filter(scheme=scheme, value=value)
        if date is not None:
            identifiers = identifiers.filter(covering(date))
        return self.filter(pk__in=identifiers.values("entry_id"))

    def children_of(
        self, parent: Entry, date: dt.date, hierarchy: str | None = None
    ) -> EntryQuerySet:
        """Entries directly within ``parent`` on ``date`` (in one hierarchy, if given)."""
        relations = Relation.objects.filter(
            covering(date), kind=RELATION_KIND.PARENT, object=parent
        )
        if hierarchy:
            relations = relations.filter(hierarchy=hierarchy)
        return self.filter(pk__in=relations.values("subject_id"))


class EntryManager(models.Manager["Entry"]):
    def get_by_natural_key(self, register_slug: str, key: str) -> Entry:
        return self.get(register__slug=register_slug, key=key)


class Entry(models.Model):
    """One thing in a register, identified for ever by ``(register, key)``.

    Everything that can change about an entry lives in rows with valid ranges (names,
    states, relations, identifiers); the entry itself holds only its identity, the number of
    its latest :class:`Version`, and register-specific attributes that do not vary over time
    (an entity type's abbreviation, say).
    """

    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="entries")
    key = models.CharField(max_length=64)
    version = models.PositiveIntegerField(
        default=0, help_text="The number of the latest version (record time) of this entry."
    )
    # The latest version's digest (``Version.digest``), written in the same statement as
    # ``version``: a load tells an unchanged entry from this narrow table alone, without
    # reading the versions' snapshots. Empty: not known (compare the rows).
    digest = models.CharField(max_length=40, blank=True, default="", editable=False)
    attributes = models.JSONField(default=dict, blank=True)

    objects = EntryManager.from_queryset(EntryQuerySet)()

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["register_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["register", "key"], name="entry_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.register.slug}/{self.key}"

    def natural_key(self) -> tuple[str, str]:
        return (self.register.slug, self.key)

    natural_key.dependencies = ["registry.register"]  # type: ignore[attr-defined]


class NameQuerySet(models.QuerySet["Name"]):
    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create bypasses save(), so fill the folded form here: every writer (the
        # services, a data migration, a test) gets the search index without thinking of it.
        objs = list(objs)
        for name in objs:
            name.folded = fold(name.text)
        created = super().bulk_create(objs, *args, **kwargs)
        NameWord.refresh({name.entry_id for name in objs})
        return created

    def starting_with(self, query: str) -> NameQuerySet:
        """Names that begin with ``query`` as typed, found through the index: whose folded
        form starts with one of ``registry.text.prefixes(query)`` (the query folded, its last
        word also as typed in case it is unfinished, and each behind the generic heads that
        fold puts first, so "bristol" finds "Bristol, City of", folded "city of bristol")."""
        condition = Q()
        for start in prefixes(query):
            condition |= _folded_prefix(start)
        return self.filter(condition)

    def with_folded_prefix(self, start: str) -> NameQuerySet:
        """Names whose folded form starts with ``start``, itself folded: one index range.
        (Read in ``folded`` order with a limit, this stops at the limit; an OR of several
        ranges so ordered makes SQLite walk the whole index instead.)"""
        return self.filter(_folded_prefix(start))


def _folded_prefix(start: str, field: str = "folded") -> Q:
    if connection.vendor == "sqlite":
        # SQLite's LIKE is case-insensitive and so cannot use a BINARY index; folded text is
        # only [0-9a-z ], so a range up to "~" (after "z") is the same prefix match.
        return Q(**{f"{field}__gte": start, f"{field}__lt": f"{start}~"})
    # PostgreSQL uses the varchar_pattern_ops index Django adds for LIKE 'prefix%'.
    return Q(**{f"{field}__startswith": start})


class Name(models.Model):
    """A name of an entry over a valid range.

    ``folded`` is ``registry.text.fold(text)``, the registry's one normaliser (lower case,
    without accents or punctuation, mojibake repaired, "St" read as "saint", inverted ONS
    forms turned round; reconciliation compares the same form). It is derived, kept in step
    by ``save()`` and ``bulk_create()``, and indexed so that a search for "caerdydd" or "ynys
    mon" is an index range scan rather than a pass over every name.
    """

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="names")
    language = models.CharField(max_length=8, choices=LANGUAGE.choices, default=LANGUAGE.ENGLISH)
    kind = models.CharField(max_length=16, choices=NAME_KIND.choices, default=NAME_KIND.OFFICIAL)
    text = models.CharField(max_length=300)
    folded = models.CharField(max_length=300, db_index=True, editable=False, default="")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    objects = NameQuerySet.as_manager()

    class Meta:
        ordering = ["entry_id", "language", "kind", "valid_from"]
        indexes = [models.Index(fields=["text"], name="name_text_idx")]

    def __str__(self) -> str:
        return f"{self.text} ({self.language}, {self.kind})"

    def save(self, *args, **kwargs):
        self.folded = fold(self.text)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "text" in update_fields:
            kwargs["update_fields"] = {*update_fields, "folded"}
        super().save(*args, **kwargs)
        NameWord.refresh({self.entry_id})

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        NameWord.refresh({self.entry_id})
        return result


class NameWordQuerySet(models.QuerySet["NameWord"]):
    def with_prefix(self, start: str) -> NameWordQuerySet:
        """Words whose tail starts with ``start``, itself folded: one index range."""
        return self.filter(_folded_prefix(start, "tail"))


class NameWord(models.Model):
    """Where a later word of one of an entry's names begins, with the rest of the name after
    it (``registry.text.later_words``): "north" for "Felixstowe North". It lets search find a
    word inside a name by an index range instead of reading every name; derived from the
    entry's names, rewritten with them (``registry.services``, ``Name.save``)."""

    # The unique (entry, tail) index below serves look-ups by entry: no index of its own.
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="+", db_index=False)
    tail = models.CharField(max_length=300, db_index=True)

    objects = NameWordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "tail"], name="nameword_unique_per_entry")
        ]

    def __str__(self) -> str:
        return self.tail

    @staticmethod
    def rows(entry_id: int, folded_names: Iterable[str]) -> set[tuple[int, str]]:
        """The (entry, tail) rows an entry with these folded names has."""
        return {(entry_id, tail) for folded in folded_names for tail in later_words(folded)}

    @classmethod
    def refresh(cls, entry_ids: Iterable[int]) -> None:
        """Rewrite the words of these entries from their names as the database holds them."""
        ids = sorted(set(entry_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cls.objects.filter(entry_id__in=chunk).delete()
            found: set[tuple[int, str]] = set()
            for entry_id, folded in Name.objects.filter(entry_id__in=chunk).values_list(
                "entry_id", "folded"
            ):
                found |= cls.rows(entry_id, [folded])
            cls.objects.bulk_create([cls(entry_id=e, tail=t) for e, t in sorted(found)])


class Identifier(models.Model):
    """A value in another identifier scheme that resolves to this entry over a period.

    A value may be reused by a scheme for a different entry only in a later period: the
    service layer refuses overlapping periods, and the constraint below refuses the same
    value starting twice on the same day.
    """

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="identifiers")
    scheme = models.SlugField(max_length=64)
    value = models.CharField(max_length=200)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["scheme", "value", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "value", "valid_from"], name="identifier_unique_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


class State(models.Model):
    """The status and entity type of an entry over a valid range.

    An entry's lifetime is its live states: the first one's ``valid_from`` is its operative
    date and, once it is terminated, the last one's ``valid_to`` its terminated date, followed
    by an open-ended terminated state.
    """

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="states")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=STATUS.choices)
    entity_type = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="typed_states"
    )

    class Meta:
        ordering = ["entry_id", "valid_from"]
        indexes = [models.Index(fields=["status", "valid_from"], name="state_status_from_idx")]

    def __str__(self) -> str:
        return f"{self.status} {self.valid_from}–{self.valid_to or ''}"


class Relation(models.Model):
    """``subject`` is within (or governs) ``object`` over a valid range.

    Parent relations are grouped in named hierarchies, which the domain declares (the UK's are
    in ``geography/hierarchies.py``: ``district``, ``county``, ``msoa``, ``nhs-region`` …).
    """

    subject = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(max_length=16, choices=RELATION_KIND.choices)
    hierarchy = models.SlugField(max_length=64, blank=True)
    object = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="inverse_relations")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["subject_id", "kind", "hierarchy", "valid_from"]
        indexes = [
            models.Index(fields=["object", "kind", "valid_from"], name="relation_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.kind} {self.object}"


class ChangeEvent(models.Model):
    """A dated change between codes, and the predecessor → successor links it made.

    ``key`` is stable across loads (the date and the lowest code involved), so an event is a
    resource of its own with a URI. A rename under the same code links the entry to itself.
    """

    key = models.CharField(max_length=100, unique=True)
    date = models.DateField()
    kind = models.CharField(max_length=32, choices=EVENT_KIND.choices)
    instrument_id = models.CharField(max_length=100, blank=True)
    instrument_title = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["date", "key"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date:%Y-%m-%d}"


class ChangeLink(models.Model):
    event = models.ForeignKey(ChangeEvent, on_delete=models.CASCADE, related_name="links")
    predecessor = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="successor_links"
    )
    successor = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="predecessor_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "predecessor", "successor"], name="changelink_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}"


class ImportRun(models.Model):
    """One run of a loader: what it read, what it did, and whether it was a dry run."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    command = models.CharField(max_length=200)
    sources = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.command} at {self.started_at:%Y-%m-%d %H:%M}"


class Version(models.Model):
    """A change to an entry (or a change event) in record time.

    Every write goes through ``registry.services`` and leaves one of these: who made it (a
    user, or an import run with its source file), when, why, the complete snapshot of the
    entry afterwards, and ``changes``, the difference from the previous snapshot. The
    snapshots make any past version showable and restorable.
    """

    entry = models.ForeignKey(
        Entry, on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    event = models.ForeignKey(
        ChangeEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    number = models.PositiveIntegerField()
    # Given by the writer (not auto_now_add): the feed's digest covers this exact instant.
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    # The user's name as it was when the version was written (empty: no user). The feed's
    # digest covers this, not the user's current name, so renaming a user later breaks no
    # chain; a mirror, which has no users, keeps it too.
    author = models.CharField(max_length=150, blank=True, default="", editable=False)
    import_run = models.ForeignKey(ImportRun, on_delete=models.PROTECT, null=True, blank=True)
    source = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True)
    snapshot = models.JSONField()
    # ``registry.snapshots.digest`` of the snapshot, written with it (empty: not known). The
    # newest version's is copied to ``Entry.digest``, which is what a load compares; this
    # one records each version's fingerprint (and filled ``Entry.digest`` in 0008).
    digest = models.CharField(max_length=40, blank=True, default="", editable=False)
    changes = models.JSONField(default=dict)
    # The change feed (``registry.feed``): this version's place in recording order across
    # the whole registry, assigned in the write transaction and never reused, and the
    # SHA-256 of its feed item, which covers the previous item's digest (a hash chain).
    sequence = models.PositiveBigIntegerField(null=True, blank=True, unique=True, editable=False)
    chain = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["entry_id", "event_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "number"],
                condition=Q(entry__isnull=False),
                name="version_unique_entry_number",
            ),
            models.UniqueConstraint(
                fields=["event", "number"],
                condition=Q(event__isnull=False),
                name="version_unique_event_number",
            ),
            models.CheckConstraint(
                condition=Q(entry__isnull=False) ^ Q(event__isnull=False),
                name="version_of_entry_or_event",
            ),
        ]

    def __str__(self) -> str:
        return f"version {self.number} of {self.entry or self.event}"


class FeedHead(models.Model):
    """The head of the change feed: the last sequence number given and its item's digest.

    One row (``pk=1``). Every write locks it (``registry.feed.extend``) to number its
    versions, so concurrent writers queue here rather than fork the chain.
    """

    sequence = models.PositiveBigIntegerField(default=0)
    digest = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"feed item {self.sequence}"
