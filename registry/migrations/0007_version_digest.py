"""Record each entry version's snapshot digest (``registry.snapshots.digest`` of its
canonical form), so that a load tells an unchanged entry by 40 characters, not its JSON.

It digests with ``registry.snapshots`` as it is when the migration runs, as the services do.
"""

from django.db import migrations, models

from registry.snapshots import canonical, digest

BATCH = 2000


def fill(apps, schema_editor):
    """The digest of every entry version, a batch at a time in primary key order."""
    Version = apps.get_model("registry", "Version")
    alias = schema_editor.connection.alias
    table = schema_editor.connection.ops.quote_name(Version._meta.db_table)
    last = 0
    while True:
        batch = list(
            Version.objects.using(alias)
            .filter(pk__gt=last, entry__isnull=False)
            .order_by("pk")
            .only("id", "snapshot")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1].pk
        # One plain UPDATE per row (bulk_update's CASE per batch took 40 s at 236,000).
        with schema_editor.connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET digest = %s WHERE id = %s",  # noqa: S608 - the model's table
                [(digest(canonical(v.snapshot)), v.pk) for v in batch],
            )


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0006_name_words'),
    ]

    operations = [
        migrations.AddField(
            model_name='version',
            name='digest',
            field=models.CharField(blank=True, default='', editable=False, max_length=40),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
