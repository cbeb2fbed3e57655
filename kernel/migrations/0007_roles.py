"""The role groups of ``system.policy`` with their permissions; existing agents get the agent
role."""

from django.db import migrations

from system import policy


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are created after all migrations (post_migrate): make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    policy.sync_role_groups(apps)
    # Agents created before roles existed keep working: they get the agent role.
    group_model = apps.get_model("auth", "Group")
    agents = group_model.objects.filter(name="agents").first()
    if agents is not None:
        role = group_model.objects.get(name=policy.group_name(policy.Role.AGENT))
        role.user_set.add(*agents.user_set.all())


def drop_roles(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    group_model.objects.filter(name__in=[policy.group_name(r) for r in policy.Role]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("kernel", "0006_permissions"),
        ("roadmap", "0005_review_status"),
        ("programs", "0004_verbose_names"),
        ("system", "0005_verbose_names"),
    ]

    operations = [
        migrations.RunPython(create_roles, drop_roles),
    ]
