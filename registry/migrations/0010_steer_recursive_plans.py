"""For a registry loaded before: SQLite's statistics steered so that recursive queries
(an entry's ancestors, the walk to its current codes) are planned without a Bloom filter
(``registry.imports.steer_recursive_plans``). Nothing on PostgreSQL or an empty database."""

from django.db import migrations


def steer(apps, schema_editor):
    from registry.imports import steer_recursive_plans

    steer_recursive_plans(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_change_feed")]

    operations = [migrations.RunPython(steer, migrations.RunPython.noop)]
