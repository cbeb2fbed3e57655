"""``flush`` (used between transactional tests) empties guarded tables and keeps the seed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from system import audit, policy


@pytest.mark.django_db(transaction=True)
def test_flush_empties_append_only_tables_and_restores_seed():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_log (event_type, actor, action, instance_id) "
            "VALUES ('test', 'user:t', 'create', 'x')"
        )
        cursor.execute("DELETE FROM terminology WHERE domain = 'plane'")
    cached_before = audit.instance_id()

    call_command("flush", interactive=False, verbosity=0)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_log")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT count(*) FROM terminology")
        assert cursor.fetchone() == (77,)  # the contract's 76 and roadmap_status/review
        cursor.execute("SELECT value FROM instance_config WHERE key = 'review_required'")
        assert cursor.fetchone() == ("false",)
        cursor.execute("SELECT count(*) FROM schema_version")
        assert cursor.fetchone() == (20,)
        cursor.execute("SELECT value FROM instance_config WHERE key = 'instance_id'")
        (reseeded,) = cursor.fetchone()
    # The re-seed made a new instance_id; audit rows must carry it, not the cached old one.
    assert reseeded != cached_before
    assert audit.instance_id() == reseeded
    # The role groups are put back too (post_migrate).
    assert Group.objects.filter(name__startswith="role:").count() == len(policy.Role)
    assert Group.objects.get(name="role:lead").permissions.filter(codename="claim_work").exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_log (event_type, actor, action, instance_id) "
            "VALUES ('test', 'user:t', 'create', 'x')"
        )
    with pytest.raises(IntegrityError, match="Audit log entries cannot be deleted"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_log")
