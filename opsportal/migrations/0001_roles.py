"""Create the role groups (Viewers, Engineers, Release Managers) with their permissions."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from opsportal.roles import ensure_role_groups

    # The same function recreates them after every migrate and flush (post_migrate, opsportal.apps).
    ensure_role_groups(apps, schema_editor.connection.alias)


def remove_roles(apps, schema_editor):
    from opsportal.roles import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0001_initial"),
        ("contenttypes", "0001_initial"),
        ("releases", "0001_initial"),
        ("environments", "0002_initial"),
        ("teams", "0001_initial"),
        ("workflows", "0001_initial"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
