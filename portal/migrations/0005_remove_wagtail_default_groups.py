from django.db import migrations


def remove_default_groups(apps, schema_editor):
    # Wagtail's starter "Editors" and "Moderators" groups grant rights on the
    # whole page tree; Diandan's groups come from portal.roles instead.
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Editors", "Moderators"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0004_home_page"),
        ("wagtailcore", "0002_initial_data"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
    ]

    operations = [
        migrations.RunPython(remove_default_groups, migrations.RunPython.noop)
    ]
