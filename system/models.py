"""Tables of the `system` app: settings, terminology, audit log and the tool's bookkeeping.

Every table, column, default, key, CHECK and index mirrors ``schema.json`` (the contract);
triggers live in ``migrations/sql/<vendor>/``.
"""

import hashlib
import secrets

from django.db import models
from django.db.models import F, Q

from system.fields import (
    DbNow,
    IntBooleanField,
    ShortTextField,
    TimestampField,
    utc_now,
)

#: A row is live while ``deleted_at`` is NULL (soft delete, RULES.md 1.4).
LIVE = Q(deleted_at__isnull=True)


class SoftDeleteQuerySet(models.QuerySet):
    """Rows are never hard-deleted: deleting sets ``deleted_at`` (RULES.md 1.4)."""

    def live(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)

    def soft_delete(self, *, by: str | None = None, reason: str | None = None) -> int:
        """Mark the live rows of this queryset deleted; returns how many changed."""
        changes = {"deleted_at": utc_now()}
        field_names = {f.name for f in self.model._meta.concrete_fields}
        if "deleted_by" in field_names:
            changes["deleted_by"] = by
        if "deletion_reason" in field_names:
            changes["deletion_reason"] = reason
        if "updated_at" in field_names:
            changes["updated_at"] = changes["deleted_at"]
        rows = self.live()
        if self.model.touches_updated_at:
            # One save per row keeps the version-capture triggers' snapshots per row.
            count = 0
            for obj in rows:
                for name, value in changes.items():
                    setattr(obj, name, value)
                obj.save(update_fields=list(changes))
                count += 1
            return count
        return rows.update(**changes)

    def restore(self) -> int:
        changes = {"deleted_at": None}
        field_names = {f.name for f in self.model._meta.concrete_fields}
        for name in ("deleted_by", "deletion_reason"):
            if name in field_names:
                changes[name] = None
        if self.model.touches_updated_at:
            count = 0
            for obj in self.deleted():
                for name, value in changes.items():
                    setattr(obj, name, value)
                obj.save(update_fields=list(changes))
                count += 1
            return count
        return self.deleted().update(**changes)


class ContractModel(models.Model):
    """Base of every contract table.

    ``touches_updated_at``: program and roadmap tables have ``updated_at`` with no trigger
    maintaining it, and their version-capture triggers fire only when it changes, so the app
    must set it on every update (RULES.md 1.8). Rows are saved with ``save()`` for that
    reason; ``QuerySet.update()`` bypasses it.
    """

    touches_updated_at = False

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.touches_updated_at and not self._state.adding:
            self.updated_at = utc_now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "updated_at"}
        super().save(*args, **kwargs)

    def __str__(self):
        """Key and human label ("CR-7 · Faster sync"): what admin lists and pickers show."""
        key = " → ".join(map(str, self.pk)) if isinstance(self.pk, tuple) else str(self.pk)
        label = next(
            (
                getattr(self, name, None)
                for name in ("title", "name", "display_name")
                if getattr(self, name, None)
            ),
            None,
        )
        return f"{key} · {label}" if label else key


class AuditedModel(ContractModel):
    """The seven audit columns the `motus` tool gave its "audit tables" (RULES.md 1.7).

    Nullable with no default unless a table kept an older definition (those tables
    redeclare the column). The ``<table>_audit_insert`` / ``<table>_updated_at`` triggers
    fill the timestamps; ``*_by`` and ``deletion_reason`` are the app's to write.
    """

    created_at = TimestampField(null=True, blank=True)
    updated_at = TimestampField(null=True, blank=True)
    created_by = ShortTextField(null=True, blank=True)
    updated_by = ShortTextField(null=True, blank=True)
    deleted_at = TimestampField(null=True, blank=True)
    deleted_by = ShortTextField(null=True, blank=True)
    deletion_reason = models.TextField(null=True, blank=True)

    class Meta:
        abstract = True


def audit_indexes(table: str) -> list[models.Index]:
    """The three plain indexes every audit table has: ``idx_<table>_<column>``."""
    return [
        models.Index(fields=[column], name=f"idx_{table}_{column}")
        for column in ("created_at", "updated_at", "deleted_at")
    ]


class InstanceConfig(AuditedModel):
    """Key/value settings of this install (``instance_id`` is copied into audit rows)."""

    key = ShortTextField(primary_key=True)
    value = models.TextField()
    updated_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "instance_config"
        indexes = [
            *audit_indexes("instance_config"),
        ]


class Terminology(AuditedModel):
    """Domain-scoped dictionary behind every ``*_key`` column."""

    id = models.AutoField(primary_key=True)
    domain = ShortTextField()
    internal_key = ShortTextField()
    display_name = ShortTextField()
    description = models.TextField(null=True, blank=True)
    sort_order = models.IntegerField(null=True, blank=True, default=0, db_default=0)
    deprecated_at = TimestampField(null=True, blank=True)
    replaced_by = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        verbose_name_plural = "terminology"
        db_table = "terminology"
        indexes = [
            *audit_indexes("terminology"),
            models.Index(fields=["domain", "internal_key"], name="idx_terminology_lookup"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "internal_key"], name="terminology_domain_internal_key_uniq"
            ),
        ]


class AuditLog(ContractModel):
    """Append-only audit trail."""

    id = models.AutoField(primary_key=True)
    timestamp = TimestampField(default=utc_now, db_default=DbNow())
    event_type = ShortTextField()
    actor = ShortTextField()
    resource_type = ShortTextField(null=True, blank=True)
    resource_id = ShortTextField(null=True, blank=True)
    action = ShortTextField()
    old_value = models.TextField(null=True, blank=True)
    new_value = models.TextField(null=True, blank=True)
    context = models.TextField(null=True, blank=True)
    instance_id = ShortTextField()
    protocol_version = models.IntegerField(default=1, db_default=1)

    class Meta:
        db_table = "audit_log"
        indexes = [
            models.Index(fields=["timestamp"], name="idx_audit_timestamp"),
            models.Index(fields=["resource_type", "resource_id"], name="idx_audit_resource"),
            models.Index(fields=["actor"], name="idx_audit_actor"),
        ]


class ResourceQuota(AuditedModel):
    """Soft/hard limits per resource type."""

    resource_type = ShortTextField(primary_key=True)
    soft_limit = models.IntegerField()
    hard_limit = models.IntegerField()
    current_usage = models.IntegerField(default=0, db_default=0)
    last_warning_at = TimestampField(null=True, blank=True)
    last_reset_at = TimestampField(null=True, blank=True)
    reset_interval_hours = models.IntegerField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "resource_quotas"
        indexes = [
            *audit_indexes("resource_quotas"),
        ]


class IdempotencyKey(AuditedModel):
    """Stored result of a request made with an Idempotency-Key header."""

    key = ShortTextField(primary_key=True)
    operation = ShortTextField()
    request_hash = ShortTextField()
    response = models.TextField(null=True, blank=True)
    status = ShortTextField(
        choices=[("pending", "Pending"), ("complete", "Complete"), ("failed", "Failed")],
        default="pending",
        db_default="pending",
    )
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    expires_at = TimestampField()

    class Meta:
        db_table = "idempotency_keys"
        indexes = [
            *audit_indexes("idempotency_keys"),
            models.Index(fields=["expires_at"], name="idx_idempotency_expires"),
            models.Index(
                fields=["status"], name="idx_idempotency_status", condition=Q(status="pending")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "complete", "failed"]),
                name="idempotency_keys_status_check",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="idempotency_keys_created_at_expires_at_check",
            ),
        ]


class HealthCheckResult(AuditedModel):
    """Rolling window of health-check results (7 days, pruned by trigger)."""

    id = models.AutoField(primary_key=True)
    check_name = ShortTextField()
    status = ShortTextField(choices=[("pass", "Pass"), ("warn", "Warn"), ("fail", "Fail")])
    message = models.TextField(null=True, blank=True)
    details = models.TextField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    checked_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "health_check_results"
        indexes = [
            *audit_indexes("health_check_results"),
            models.Index(fields=["check_name", "-checked_at"], name="idx_health_latest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pass", "warn", "fail"]),
                name="health_check_results_status_check",
            ),
        ]


class CircuitBreaker(AuditedModel):
    """Circuit-breaker state per dependency."""

    name = ShortTextField(primary_key=True)
    state = ShortTextField(
        choices=[("closed", "Closed"), ("open", "Open"), ("half_open", "Half open")],
        default="closed",
        db_default="closed",
    )
    failure_count = models.IntegerField(default=0, db_default=0)
    success_count = models.IntegerField(default=0, db_default=0)
    last_failure_at = TimestampField(null=True, blank=True)
    last_success_at = TimestampField(null=True, blank=True)
    opened_at = TimestampField(null=True, blank=True)
    failure_threshold = models.IntegerField(default=5, db_default=5)
    recovery_timeout_seconds = models.IntegerField(default=30, db_default=30)
    updated_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "circuit_breakers"
        indexes = [
            *audit_indexes("circuit_breakers"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["closed", "open", "half_open"]),
                name="circuit_breakers_state_check",
            ),
        ]


class ExtensionPoint(ContractModel):
    """Handler registry (composite key: point_name, handler_id)."""

    pk = models.CompositePrimaryKey("point_name", "handler_id")
    point_name = ShortTextField()
    handler_id = ShortTextField()
    handler_type = ShortTextField(
        choices=[("builtin", "Builtin"), ("plugin", "Plugin"), ("hook", "Hook")]
    )
    handler_path = ShortTextField(null=True, blank=True)
    priority = models.IntegerField(default=50, db_default=50)
    is_enabled = IntBooleanField(default=True, db_default=1)
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "extension_points"
        constraints = [
            models.CheckConstraint(
                condition=Q(handler_type__in=["builtin", "plugin", "hook"]),
                name="extension_points_handler_type_check",
            ),
            models.CheckConstraint(
                condition=Q(is_enabled__in=[0, 1]), name="extension_points_is_enabled_check"
            ),
        ]


class Metric(AuditedModel):
    """Operation timings; the `motus` tool prunes rows older than 30 days."""

    id = models.AutoField(primary_key=True)
    timestamp = TimestampField()
    operation = ShortTextField()
    elapsed_ms = models.FloatField()
    is_success = IntBooleanField(default=True, db_default=1)
    metadata = models.TextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "metrics"
        indexes = [
            *audit_indexes("metrics"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_success__in=[0, 1]), name="metrics_is_success_check"
            ),
        ]


class SchemaVersion(ContractModel):
    """The `motus` tool's migration history: 20 fixed rows it checks on start."""

    version = models.IntegerField(primary_key=True)
    migration_name = ShortTextField()
    applied_at = TimestampField(default=utc_now, db_default=DbNow())
    checksum = ShortTextField()
    execution_time_ms = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "schema_version"


class Session(AuditedModel):
    """A `motus` CLI session."""

    id = models.AutoField(primary_key=True)
    started_at = TimestampField(default=utc_now, db_default=DbNow())
    ended_at = TimestampField(null=True, blank=True)
    commands_run = models.IntegerField(default=0, db_default=0)
    learnings_captured = models.IntegerField(default=0, db_default=0)

    class Meta:
        db_table = "sessions"
        indexes = [
            *audit_indexes("sessions"),
            models.Index(fields=["-started_at"], name="idx_sessions_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(commands_run__gte=0), name="sessions_commands_run_check"
            ),
            models.CheckConstraint(
                condition=Q(learnings_captured__gte=0), name="sessions_learnings_captured_check"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="sessions_started_at_ended_at_check",
            ),
        ]


class SessionCacheState(AuditedModel):
    """Key/value transcript-sync state."""

    key = ShortTextField(primary_key=True)
    value = models.TextField()
    updated_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "session_cache_state"
        indexes = [
            *audit_indexes("session_cache_state"),
        ]


class SessionEventCache(AuditedModel):
    """Events parsed from an ingested transcript file."""

    id = models.AutoField(primary_key=True)
    session = models.ForeignKey(
        "SessionFileCache",
        on_delete=models.DO_NOTHING,
        db_column="session_id",
        db_index=False,
        related_name="session_event_cache",
    )
    sequence = models.IntegerField()
    type = ShortTextField()
    timestamp = TimestampField(null=True, blank=True)
    content_preview = models.TextField(null=True, blank=True)
    content_hash = models.TextField(null=True, blank=True)
    tool_name = ShortTextField(null=True, blank=True)
    token_count = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "session_event_cache"
        indexes = [
            *audit_indexes("session_event_cache"),
            models.Index(fields=["session"], name="idx_session_event_cache_session"),
            models.Index(fields=["type"], name="idx_session_event_cache_type"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session_id", "sequence"],
                name="session_event_cache_session_id_sequence_uniq",
            ),
        ]


class SessionFileCache(AuditedModel):
    """One row per ingested transcript file."""

    id = ShortTextField(primary_key=True)
    source = ShortTextField()
    file_path = ShortTextField()
    file_hash = ShortTextField()
    file_mtime_ns = models.IntegerField()
    file_size_bytes = models.IntegerField()
    ingested_at = TimestampField()
    project_path = ShortTextField(null=True, blank=True)
    model = ShortTextField(null=True, blank=True)
    total_turns = models.IntegerField(null=True, blank=True)
    total_tokens = models.IntegerField(null=True, blank=True)
    last_action = ShortTextField(default="", db_default="")
    has_completion = IntBooleanField(default=False, db_default=0)
    parse_error = models.TextField(null=True, blank=True)
    status = ShortTextField(
        choices=[
            ("active", "Active"),
            ("archived", "Archived"),
            ("corrupted", "Corrupted"),
            ("partial", "Partial"),
            ("skipped", "Skipped"),
        ],
        default="active",
        db_default="active",
    )

    class Meta:
        db_table = "session_file_cache"
        indexes = [
            *audit_indexes("session_file_cache"),
            models.Index(fields=["file_mtime_ns"], name="idx_session_file_cache_mtime"),
            models.Index(fields=["project_path"], name="idx_session_file_cache_project"),
            models.Index(fields=["status"], name="idx_session_file_cache_status"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["file_path"], name="session_file_cache_file_path_uniq"),
            models.CheckConstraint(
                condition=Q(has_completion__in=[0, 1]),
                name="session_file_cache_has_completion_check",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "archived", "corrupted", "partial", "skipped"]),
                name="session_file_cache_status_check",
            ),
        ]


class LearnedPattern(AuditedModel):
    """Per-user memory: a learned pattern."""

    id = models.AutoField(primary_key=True)
    pattern_type = ShortTextField()
    pattern_value = models.TextField()
    learned_at = TimestampField(default=utc_now, db_default=DbNow())
    source = ShortTextField(
        choices=[
            ("detection", "Detection"),
            ("user_input", "User input"),
            ("observation", "Observation"),
        ]
    )
    frequency = models.IntegerField(default=1, db_default=1)
    last_seen_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "learned_patterns"
        indexes = [
            *audit_indexes("learned_patterns"),
            models.Index(fields=["pattern_type"], name="idx_learned_patterns_type"),
            models.Index(
                fields=["pattern_type", "-frequency"], name="idx_learned_patterns_frequency"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["pattern_type", "pattern_value"],
                name="learned_patterns_pattern_type_pattern_value_uniq",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["detection", "user_input", "observation"]),
                name="learned_patterns_source_check",
            ),
            models.CheckConstraint(
                condition=Q(frequency__gte=1), name="learned_patterns_frequency_check"
            ),
        ]


class DetectedPattern(AuditedModel):
    """Per-user memory: a detected pattern."""

    id = models.AutoField(primary_key=True)
    pattern_type = ShortTextField()
    pattern_value = models.TextField()
    confidence = ShortTextField(choices=[("high", "High"), ("medium", "Medium"), ("low", "Low")])
    detected_from = ShortTextField(null=True, blank=True)
    detected_at = TimestampField(default=utc_now, db_default=DbNow())
    last_confirmed_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "detected_patterns"
        indexes = [
            *audit_indexes("detected_patterns"),
            models.Index(fields=["pattern_type"], name="idx_detected_patterns_type"),
            models.Index(fields=["detected_at"], name="idx_detected_patterns_last_seen"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["pattern_type", "pattern_value"],
                name="detected_patterns_pattern_type_pattern_value_uniq",
            ),
            models.CheckConstraint(
                condition=Q(confidence__in=["high", "medium", "low"]),
                name="detected_patterns_confidence_check",
            ),
        ]


class GroundRule(AuditedModel):
    """Per-user memory: a ground rule."""

    id = models.AutoField(primary_key=True)
    rule_type = ShortTextField()
    rule_value = models.TextField()
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    source = ShortTextField(
        choices=[("default", "Default"), ("user_defined", "User defined"), ("imported", "Imported")]
    )

    class Meta:
        db_table = "ground_rules"
        indexes = [
            *audit_indexes("ground_rules"),
            models.Index(fields=["rule_type"], name="idx_ground_rules_type"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_type", "rule_value"], name="ground_rules_rule_type_rule_value_uniq"
            ),
            models.CheckConstraint(
                condition=Q(source__in=["default", "user_defined", "imported"]),
                name="ground_rules_source_check",
            ),
        ]


class Skill(AuditedModel):
    """Per-user memory: a skill and its unlock progress."""

    skill_name = ShortTextField(primary_key=True)
    unlocked_at = TimestampField(null=True, blank=True)
    progress_count = models.IntegerField(default=0, db_default=0)
    unlock_threshold = models.IntegerField()

    class Meta:
        db_table = "skills"
        indexes = [
            *audit_indexes("skills"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(progress_count__gte=0), name="skills_progress_count_check"
            ),
            models.CheckConstraint(
                condition=Q(unlock_threshold__gte=0), name="skills_unlock_threshold_check"
            ),
        ]


class Preference(AuditedModel):
    """Per-user memory: a preference."""

    key = ShortTextField(primary_key=True)
    value = models.TextField()
    set_at = TimestampField(default=utc_now, db_default=DbNow())
    source = ShortTextField(
        choices=[("cli", "Cli"), ("config_file", "Config file"), ("learned", "Learned")]
    )

    class Meta:
        db_table = "preferences"
        indexes = [
            *audit_indexes("preferences"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["cli", "config_file", "learned"]),
                name="preferences_source_check",
            ),
        ]


# Tables of the web application alone (prefix ``web_``, RULES.md 1.1).


class ApiToken(models.Model):
    """A client's API token. Only its SHA-256 is stored; the token itself is shown once.

    Tokens are 256-bit random strings, so a fast hash is enough (nothing to brute-force)
    and lets a request find its token with one indexed lookup.
    """

    #: ``last_used_at`` is written at most this often, to spare SQLite a write per request.
    LAST_USED_RESOLUTION_SECONDS = 60

    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        "auth.User", on_delete=models.CASCADE, related_name="api_tokens", db_column="user_id"
    )
    name = ShortTextField(default="default", help_text="Which client uses the token.")
    key_prefix = ShortTextField(help_text="First characters of the token, to recognise it.")
    key_digest = ShortTextField(unique=True)
    created_at = TimestampField(default=utc_now)
    last_used_at = TimestampField(null=True, blank=True)
    revoked_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "web_api_tokens"

    def __str__(self):
        return f"{self.key_prefix}… ({self.user}, {self.name})"

    @staticmethod
    def digest(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str = "default") -> tuple["ApiToken", str]:
        """Create a token for ``user``; returns it with the raw key (never stored)."""
        raw_key = "motus_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, key_prefix=raw_key[:12], key_digest=cls.digest(raw_key)
        )
        return token, raw_key

    def note_use(self) -> None:
        """Record the use, unless it was already recorded within the last minute.

        Never waits for the database's write lock: a read must not queue behind another
        process's write for a timestamp. The write is tried once with no busy wait; when the
        lock is taken (or the database refuses writes: full, read-only) it is skipped, and a
        later request records the use.

        On PostgreSQL "no busy wait" is ``lock_timeout`` at its least (1 ms) for this one
        statement (``SET LOCAL``, then set back: an enclosing transaction keeps its own).
        """
        from django.db import DatabaseError, connection, transaction

        now = utc_now()
        if self.last_used_at and (now - self.last_used_at).total_seconds() < (
            self.LAST_USED_RESOLUTION_SECONDS
        ):
            return
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT current_setting('lock_timeout')")
                    (usual,) = cursor.fetchone()
                    cursor.execute("SET LOCAL lock_timeout = 1")
                    ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [usual])
            except DatabaseError:
                return
            self.last_used_at = now
            return
        connection.ensure_connection()
        raw = connection.connection  # PRAGMAs on the driver's connection: not app queries
        (busy_timeout,) = raw.execute("PRAGMA busy_timeout").fetchone()
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            with transaction.atomic():
                ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
        except DatabaseError:
            return
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(busy_timeout)}")
        self.last_used_at = now
