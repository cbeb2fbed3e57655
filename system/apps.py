from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


def forget_instance_id(**kwargs):
    """``migrate`` and ``flush`` may (re)seed ``instance_config``: drop the cached id."""
    from system import audit

    audit.instance_id.cache_clear()


def keep_role_groups(using="default", **kwargs):
    """The role groups come from a data migration (kernel 0007); ``flush`` empties them, so
    they are put back (with permissions added since) after every migrate or flush."""
    from django.db import connections

    from system import policy

    connection = connections[using]
    if "auth_group" not in connection.introspection.table_names():
        return
    policy.sync_role_groups(strict=False)


class SystemConfig(AppConfig):
    name = "system"
    # This module also holds the admin's config: name the app's own one.
    default = True

    def ready(self):
        post_migrate.connect(forget_instance_id, sender=self)
        # After auth's own handler has created the permissions of every app.
        post_migrate.connect(keep_role_groups, sender=apps.get_app_config("auth"))


class MotusAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the Motus site (``system.admin_site``) as ``admin.site``:
    every ``admin.register`` and ``reverse("admin:...")`` works on it unchanged."""

    default = False
    default_site = "system.admin_site.MotusAdminSite"
