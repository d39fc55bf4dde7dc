"""Keep each entry's newest version digest on the entry itself, so that a load tells an
unchanged entry from the narrow entry table (read with the version numbers anyway) rather
than from the versions, whose snapshots PostgreSQL would read and render; filled from the
versions' digests (0007).
"""

from django.db import migrations, models


def fill(apps, schema_editor):
    """Each entry's digest from its newest version, in one statement (the same SQL on SQLite
    and PostgreSQL)."""
    quote = schema_editor.connection.ops.quote_name
    entry = quote(apps.get_model("registry", "Entry")._meta.db_table)
    version = quote(apps.get_model("registry", "Version")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {entry} SET digest = COALESCE((SELECT v.digest FROM {version} v "  # noqa: S608 - the models' tables
            f"WHERE v.entry_id = {entry}.id AND v.number = {entry}.version), '')"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0007_version_digest'),
    ]

    operations = [
        migrations.AddField(
            model_name='entry',
            name='digest',
            field=models.CharField(blank=True, default='', editable=False, max_length=40),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
