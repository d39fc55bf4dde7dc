"""Create the two groups curators belong to.

*curator* may view, add and change entries, names, identifiers, states, relations, change
events and their links, and view versions, import runs and registers. It cannot delete
anything (entries are terminated, never deleted), manage users or change registers.
*registry admin* may do everything, including managing users, groups and registers.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATED = ["entry", "name", "identifier", "state", "relation", "changeevent", "changelink"]
VIEWED = ["version", "importrun", "register"]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so the groups
    # can be given them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    curator, _ = Group.objects.get_or_create(name="curator")
    codenames = [f"{action}_{model}" for model in CURATED for action in ("view", "add", "change")]
    codenames += [f"view_{model}" for model in VIEWED]
    curator.permissions.set(
        Permission.objects.filter(content_type__app_label="registry", codename__in=codenames)
    )
    admins, _ = Group.objects.get_or_create(name="registry admin")
    admins.permissions.set(
        Permission.objects.filter(content_type__app_label__in=["registry", "auth"])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_add_name_folded"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
