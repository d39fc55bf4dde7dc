"""Number every version in recording order and chain their feed items (``registry.feed``):
versions already stored get their author's name as recorded (``Version.author``, the user's
name now), sequence numbers by (recorded_at, id), their digests computed from their rows, and
the head of the feed is written."""

import django.utils.timezone
from django.db import migrations, models


def fill(apps, schema_editor):
    from registry.feed import item_digest, make_item

    Version = apps.get_model("registry", "Version")
    FeedHead = apps.get_model("registry", "FeedHead")
    alias = schema_editor.connection.alias
    previous, sequence = "", 0
    rows = (
        Version.objects.using(alias)
        .order_by("recorded_at", "id")
        .select_related("user", "entry__register", "event")
    )
    batch = []
    for version in rows.iterator(chunk_size=2000):
        sequence += 1
        version.author = version.user.username if version.user_id else ""
        item = make_item(
            sequence=sequence,
            recorded_at=version.recorded_at,
            user=version.author or None,
            import_run=version.import_run_id,
            source=version.source,
            reason=version.reason,
            entry=f"{version.entry.register.slug}/{version.entry.key}" if version.entry_id else None,
            event=version.event.key if version.event_id else None,
            number=version.number,
            snapshot=version.snapshot,
            changes=version.changes,
            previous=previous,
        )
        version.sequence, version.chain = sequence, item_digest(item)
        previous = version.chain
        batch.append(version)
        if len(batch) == 2000:
            Version.objects.using(alias).bulk_update(batch, ["author", "sequence", "chain"])
            batch = []
    Version.objects.using(alias).bulk_update(batch, ["author", "sequence", "chain"])
    FeedHead.objects.using(alias).update_or_create(
        pk=1, defaults={"sequence": sequence, "digest": previous}
    )


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0008_entry_digest"),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sequence", models.PositiveBigIntegerField(default=0)),
                ("digest", models.CharField(blank=True, default="", max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="version",
            name="sequence",
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.AddField(
            model_name="version",
            name="author",
            field=models.CharField(blank=True, default="", editable=False, max_length=150),
        ),
        migrations.AddField(
            model_name="version",
            name="chain",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="version",
            name="recorded_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
