"""Refold every name with the registry's one normaliser.

``Name.folded`` used to be folded by a simpler rule than the one reconciliation used; the two
are now one (``registry.text.fold``), which also repairs mojibake ("GÅµyr"), reads "St" as
"saint" and turns round the inverted ONS forms ("Bristol, City of"). This recomputes the
column for rows already there, so search agrees with reconciliation on them too.

It folds with ``registry.text.fold`` as it is when the migration runs, as 0002 did: the
column must hold what ``fold`` gives now, and a later change to ``fold`` that alters folded
forms needs a refold migration of its own, like this one.
"""

from django.db import migrations

from registry.text import fold

BATCH = 5000


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
