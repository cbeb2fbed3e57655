from django.apps import AppConfig
from django.db.models.signals import post_migrate


def forget_instance_id(**kwargs):
    """``migrate`` and ``flush`` may (re)seed ``instance_config``: drop the cached id."""
    from system import audit

    audit.instance_id.cache_clear()


class SystemConfig(AppConfig):
    name = "system"

    def ready(self):
        post_migrate.connect(forget_instance_id, sender=self)
