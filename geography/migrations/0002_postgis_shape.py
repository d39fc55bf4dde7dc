"""On PostgreSQL with PostGIS available: the boundaries' shape as a PostGIS geometry (a column
generated from the WKB) with a GiST index, for the postgis point-lookup engine
(geography/postgis.py). On SQLite, or where the extension cannot be created, nothing: the
shapely engine needs only the rows."""

from django.db import migrations


def forwards(apps, schema_editor):
    from geography import postgis

    postgis.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from geography import postgis

    postgis.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("geography", "0001_boundaries"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
