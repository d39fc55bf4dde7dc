"""Index the later words of every name, so that search finds a word inside a name by an
index range (``registry.models.NameWord``); fills the table for the names already there."""

import django.db.models.deletion
from django.db import migrations, models

from registry.text import later_words

BATCH = 5000


def fill(apps, schema_editor):
    """A word row for each later word of each name, a batch of names at a time."""
    Name = apps.get_model("registry", "Name")
    NameWord = apps.get_model("registry", "NameWord")
    alias = schema_editor.connection.alias
    last = 0
    while True:
        batch = list(
            Name.objects.using(alias)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "entry_id", "folded")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1][0]
        rows = {(entry, tail) for _, entry, folded in batch for tail in later_words(folded)}
        NameWord.objects.using(alias).bulk_create(
            [NameWord(entry_id=entry, tail=tail) for entry, tail in sorted(rows)],
            ignore_conflicts=True,  # an entry's names in two batches may share a tail
        )


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_refold_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='NameWord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tail', models.CharField(db_index=True, max_length=300)),
                ('entry', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='registry.entry')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('entry', 'tail'), name='nameword_unique_per_entry')],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
