"""Refold every name with the registry's one normaliser.

``Name.folded`` used to be folded by a simpler rule than the one reconciliation used; the two
are now one (``registry.text.fold``), which also repairs mojibake ("GÅµyr"), reads "St" as
"saint" and turns round the inverted ONS forms ("Bristol, City of"). This recomputes the
column for rows already there, so search agrees with reconciliation on them too.

The rule is copied here as it stood when this migration was written, not imported: a
migration must do the same thing whenever it runs, and ``registry.text.fold`` may change
again. When it does, it needs a migration of its own like this one;
``tests/registry/test_text.py`` checks that this copy and ``fold`` still agree.
"""

import re
import unicodedata

from django.db import migrations

BATCH = 5000

_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u0178\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)
_JOINERS = str.maketrans(
    "", "", "'`\u2019\u2018\u201b\u00b4\u02bc\uff07\ufffd\u00ad\u200c\u200d\u2060\ufeff"
)
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "ł": "l", "đ": "d", "þ": "th", "œ": "oe"})
_NON_WORD = re.compile(r"[^0-9a-z]+")
_SYNONYMS = {"st": "saint", "ste": "sainte", "mt": "mount", "boro": "borough"}
_HEADS = tuple(
    tuple(head.split())
    for head in (
        "city and county of",
        "county borough of",
        "royal borough of",
        "borough of",
        "county of",
        "city of",
        "the",
    )
)


def _repair(text):
    if not _MOJIBAKE.search(text):
        return text
    for encoding in ("cp1252", "latin-1"):
        try:
            return text.encode(encoding).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def fold(text):
    if text.isascii():
        plain = text.translate(_JOINERS).lower()
    else:
        text = _repair(text).translate(_JOINERS).casefold().translate(_LETTERS)
        plain = "".join(
            c
            for c in unicodedata.normalize("NFKD", text)
            if not unicodedata.combining(c)
            and (c == "\u200b" or unicodedata.category(c) != "Cf")
        )
    plain = plain.replace("&", " and ").replace("+", " and ")
    words = [_SYNONYMS.get(w, w) for w in _NON_WORD.sub(" ", plain).split()]
    end = len(words)
    while end:
        for head in _HEADS:
            if len(head) <= end and tuple(words[end - len(head) : end]) == head:
                end -= len(head)
                break
        else:
            break
    if end not in (0, len(words)):
        words = words[end:] + words[:end]
    return " ".join(words)


def forwards(apps, schema_editor):
    """Recompute ``folded`` for every name, a batch at a time in primary key order, writing
    only the rows whose folded form changed (about 1,500 of 119,000 in the bundled data)."""
    Name = apps.get_model("registry", "Name")
    last = 0
    while True:
        batch = list(
            Name.objects.filter(pk__gt=last).order_by("pk").only("id", "text", "folded")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1].pk
        changed = []
        for name in batch:
            folded = fold(name.text)
            if folded != name.folded:
                name.folded = folded
                changed.append(name)
        Name.objects.bulk_update(changed, ["folded"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_registry_admins_issue_api_tokens"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
