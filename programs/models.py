"""Tables of the `programs` app: programs, products, features, releases, CRs, bugs, standards.

Mirrors ``schema.json``; triggers and views live in ``migrations/sql/<vendor>/``.
"""

from django.db import models
from django.db.models import F, Q

from system.fields import (
    DbNow,
    IntBooleanField,
    ShortTextField,
    TerminologyKeyField,
    TimestampField,
    utc_now,
)
from system.models import LIVE, ContractModel


class Program(ContractModel):
    """Top of the program hierarchy: program → products → features/releases."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    name = ShortTextField()
    description = models.TextField(null=True, blank=True)
    type_key = TerminologyKeyField(domain="program_type", default="software", db_default="software")
    status_key = TerminologyKeyField(domain="product_status", default="active", db_default="active")
    owner = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    deleted_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "programs"
        indexes = [
            models.Index(fields=["type_key"], name="idx_programs_type", condition=LIVE),
            models.Index(fields=["id"], name="idx_programs_active", condition=LIVE),
        ]


class Product(ContractModel):
    """A product of a program."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    program = models.ForeignKey(
        Program,
        on_delete=models.DO_NOTHING,
        db_column="program_id",
        db_index=False,
        related_name="products",
    )
    name = ShortTextField()
    description = models.TextField(null=True, blank=True)
    status_key = TerminologyKeyField(domain="product_status", default="active", db_default="active")
    version = ShortTextField(default="0.0.0", db_default="0.0.0")
    repository_url = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    deleted_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "products"
        indexes = [
            models.Index(fields=["program"], name="idx_products_program", condition=LIVE),
            models.Index(fields=["status_key"], name="idx_products_status", condition=LIVE),
            models.Index(fields=["id"], name="idx_products_active", condition=LIVE),
        ]


class Feature(ContractModel):
    """A feature of a product."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    product = models.ForeignKey(
        Product,
        on_delete=models.DO_NOTHING,
        db_column="product_id",
        db_index=False,
        related_name="features",
    )
    name = ShortTextField()
    description = models.TextField(null=True, blank=True)
    status_key = TerminologyKeyField(
        domain="feature_status", default="planned", db_default="planned"
    )
    version = ShortTextField(null=True, blank=True)
    introduced_in = ShortTextField(null=True, blank=True)
    deprecated_in = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    deleted_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "features"
        indexes = [
            models.Index(fields=["product"], name="idx_features_product", condition=LIVE),
            models.Index(fields=["status_key"], name="idx_features_status", condition=LIVE),
            models.Index(
                fields=["product", "version"], name="idx_features_version", condition=LIVE
            ),
        ]


class Release(ContractModel):
    """A release of a product, with compliance results."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    product = models.ForeignKey(
        Product,
        on_delete=models.DO_NOTHING,
        db_column="product_id",
        db_index=False,
        related_name="releases",
    )
    type_key = TerminologyKeyField(domain="release_type", default="version", db_default="version")
    name = ShortTextField()
    description = models.TextField(null=True, blank=True)
    status_key = TerminologyKeyField(
        domain="release_status", default="pending", db_default="pending"
    )
    target_date = ShortTextField(null=True, blank=True)
    published_at = TimestampField(null=True, blank=True)
    external_url = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    deleted_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "releases"
        indexes = [
            models.Index(fields=["product"], name="idx_releases_product", condition=LIVE),
            models.Index(fields=["type_key"], name="idx_releases_type", condition=LIVE),
            models.Index(fields=["status_key"], name="idx_releases_status", condition=LIVE),
        ]


class ChangeRequest(ContractModel):
    """A change request against a product or feature."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    title = ShortTextField()
    description = models.TextField(null=True, blank=True)
    status_key = TerminologyKeyField(domain="cr_status", default="queue", db_default="queue")
    type_key = TerminologyKeyField(
        domain="cr_type", default="enhancement", db_default="enhancement"
    )
    size = ShortTextField(
        choices=[("S", "S"), ("M", "M"), ("L", "L"), ("XL", "Xl")], default="M", db_default="M"
    )
    owner = ShortTextField(null=True, blank=True)
    product = models.ForeignKey(
        Product,
        on_delete=models.DO_NOTHING,
        db_column="product_id",
        db_index=False,
        related_name="change_requests",
        null=True,
        blank=True,
    )
    feature = models.ForeignKey(
        Feature,
        on_delete=models.DO_NOTHING,
        db_column="feature_id",
        db_index=False,
        related_name="change_requests",
        null=True,
        blank=True,
    )
    target_version = ShortTextField(null=True, blank=True)
    completed_version = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    started_at = TimestampField(null=True, blank=True)
    completed_at = TimestampField(null=True, blank=True)
    deleted_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "change_requests"
        indexes = [
            models.Index(fields=["status_key"], name="idx_cr_status", condition=LIVE),
            models.Index(fields=["product"], name="idx_cr_product", condition=LIVE),
            models.Index(fields=["feature"], name="idx_cr_feature", condition=LIVE),
            models.Index(fields=["owner"], name="idx_cr_owner", condition=LIVE),
            models.Index(fields=["target_version"], name="idx_cr_target", condition=LIVE),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(size__in=["S", "M", "L", "XL"]), name="change_requests_size_check"
            ),
        ]


class CrDependency(ContractModel):
    """Edge between change requests (composite key: cr, depends_on)."""

    pk = models.CompositePrimaryKey("cr_id", "depends_on_id")
    cr = models.ForeignKey(
        ChangeRequest,
        on_delete=models.DO_NOTHING,
        db_column="cr_id",
        db_index=False,
        related_name="dependencies",
    )
    depends_on = models.ForeignKey(
        ChangeRequest,
        on_delete=models.DO_NOTHING,
        db_column="depends_on_id",
        db_index=False,
        related_name="dependents",
    )
    dependency_type = ShortTextField(
        choices=[("blocks", "Blocks"), ("related", "Related"), ("supersedes", "Supersedes")],
        default="blocks",
        db_default="blocks",
    )
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        verbose_name = "CR dependency"
        verbose_name_plural = "CR dependencies"
        db_table = "cr_dependencies"
        indexes = [
            models.Index(fields=["depends_on"], name="idx_cr_dep_blocks"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(dependency_type__in=["blocks", "related", "supersedes"]),
                name="cr_dependencies_dependency_type_check",
            ),
            models.CheckConstraint(
                condition=~Q(cr_id=F("depends_on_id")),
                name="cr_dependencies_cr_id_depends_on_id_check",
            ),
        ]


class Bug(ContractModel):
    """A bug in a feature version."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    title = ShortTextField()
    description = models.TextField(null=True, blank=True)
    feature = models.ForeignKey(
        Feature,
        on_delete=models.DO_NOTHING,
        db_column="feature_id",
        db_index=False,
        related_name="bugs",
    )
    feature_version = ShortTextField()
    severity_key = TerminologyKeyField(domain="bug_severity", default="medium", db_default="medium")
    status_key = TerminologyKeyField(domain="bug_status", default="open", db_default="open")
    reported_by = ShortTextField(null=True, blank=True)
    assigned_to = ShortTextField(null=True, blank=True)
    fix_cr = models.ForeignKey(
        ChangeRequest,
        on_delete=models.DO_NOTHING,
        db_column="fix_cr_id",
        db_index=False,
        related_name="fixed_bugs",
        null=True,
        blank=True,
    )
    fixed_in_version = ShortTextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    resolved_at = TimestampField(null=True, blank=True)
    deleted_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "bugs"
        indexes = [
            models.Index(
                fields=["feature", "feature_version"], name="idx_bugs_feature", condition=LIVE
            ),
            models.Index(fields=["status_key"], name="idx_bugs_status", condition=LIVE),
            models.Index(fields=["severity_key"], name="idx_bugs_severity", condition=LIVE),
            models.Index(fields=["fix_cr"], name="idx_bugs_fix", condition=LIVE),
        ]


class Standard(ContractModel):
    """A quality check that applies to programs, products, features, releases or CRs."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    name = ShortTextField()
    description = models.TextField(null=True, blank=True)
    level_key = TerminologyKeyField(domain="standard_level")
    check_type_key = TerminologyKeyField(domain="check_type")
    check_command = ShortTextField(null=True, blank=True)
    check_pattern = ShortTextField(null=True, blank=True)
    threshold_min = models.FloatField(null=True, blank=True)
    threshold_max = models.FloatField(null=True, blank=True)
    failure_message = models.TextField()
    is_blocking = IntBooleanField(default=True, db_default=1)
    sort_order = models.IntegerField(default=0, db_default=0)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    deleted_at = TimestampField(null=True, blank=True)
    doc_path = ShortTextField(null=True, blank=True)

    class Meta:
        db_table = "standards"
        indexes = [
            models.Index(fields=["level_key"], name="idx_standards_level", condition=LIVE),
            models.Index(fields=["is_blocking"], name="idx_standards_blocking", condition=LIVE),
        ]


class StandardAssignment(ContractModel):
    """Which standard applies to which entity."""

    id = models.AutoField(primary_key=True)
    standard = models.ForeignKey(
        Standard,
        on_delete=models.DO_NOTHING,
        db_column="standard_id",
        db_index=False,
        related_name="standard_assignments",
    )
    entity_type = ShortTextField()
    entity_id = ShortTextField()
    is_inherited = IntBooleanField(default=False, db_default=0)
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "standard_assignments"
        indexes = [
            models.Index(fields=["entity_type", "entity_id"], name="idx_assignments_entity"),
            models.Index(fields=["standard"], name="idx_assignments_standard"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["standard_id", "entity_type", "entity_id"],
                name="standard_assignments_standard_id_entity_type_entity_id_uniq",
            ),
            models.CheckConstraint(
                condition=Q(is_inherited__in=[0, 1]), name="standard_assignments_is_inherited_check"
            ),
        ]


class ComplianceResult(ContractModel):
    """Append-only result of checking a standard."""

    id = models.AutoField(primary_key=True)
    standard = models.ForeignKey(
        Standard,
        on_delete=models.DO_NOTHING,
        db_column="standard_id",
        db_index=False,
        related_name="compliance_results",
    )
    entity_type = ShortTextField()
    entity_id = ShortTextField()
    release = models.ForeignKey(
        Release,
        on_delete=models.DO_NOTHING,
        db_column="release_id",
        db_index=False,
        related_name="compliance_results",
        null=True,
        blank=True,
    )
    result = ShortTextField(
        choices=[("pass", "Pass"), ("fail", "Fail"), ("skip", "Skip"), ("error", "Error")]
    )
    result_value = models.TextField(null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    checked_by = ShortTextField()
    checked_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "compliance_results"
        indexes = [
            models.Index(fields=["entity_type", "entity_id"], name="idx_compliance_entity"),
            models.Index(fields=["release"], name="idx_compliance_release"),
            models.Index(fields=["result"], name="idx_compliance_result"),
            models.Index(fields=["standard"], name="idx_compliance_standard"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(result__in=["pass", "fail", "skip", "error"]),
                name="compliance_results_result_check",
            ),
        ]


class CharterDoc(ContractModel):
    """Versioned governing document; at most one active per type."""

    touches_updated_at = True

    id = ShortTextField(primary_key=True)
    doc_type_key = TerminologyKeyField(domain="charter_type")
    version = ShortTextField()
    title = ShortTextField()
    content_hash = models.TextField()
    file_path = ShortTextField(null=True, blank=True)
    is_active = IntBooleanField(default=True, db_default=1)
    approved_by = ShortTextField(null=True, blank=True)
    approved_at = TimestampField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())
    updated_at = TimestampField(default=utc_now, db_default=DbNow())
    deleted_at = TimestampField(null=True, blank=True)

    class Meta:
        db_table = "charter_docs"
        indexes = [
            models.Index(fields=["doc_type_key"], name="idx_charter_type", condition=LIVE),
            models.Index(fields=["doc_type_key", "version"], name="idx_charter_version"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["doc_type_key"],
                condition=Q(is_active=1) & LIVE,
                name="idx_charter_singleton",
            ),
        ]


class EntityVersion(ContractModel):
    """Append-only snapshot written by the *_version_capture triggers."""

    id = models.AutoField(primary_key=True)
    entity_type = ShortTextField()
    entity_id = ShortTextField()
    version = models.IntegerField()
    data = models.TextField()
    changed_by = ShortTextField()
    change_reason = models.TextField(null=True, blank=True)
    created_at = TimestampField(default=utc_now, db_default=DbNow())

    class Meta:
        db_table = "entity_versions"
        indexes = [
            models.Index(fields=["entity_type", "entity_id"], name="idx_versions_entity"),
            models.Index(
                fields=["entity_type", "entity_id", "-version"], name="idx_versions_latest"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["entity_type", "entity_id", "version"],
                name="entity_versions_entity_type_entity_id_version_uniq",
            ),
        ]


# Views (read-only; created by migrations/sql/<vendor>/0003_views.sql).


class VOpenCrs(models.Model):
    """Change requests not done."""

    id = ShortTextField(primary_key=True)
    title = ShortTextField(null=True)
    status_key = ShortTextField(null=True)
    status = ShortTextField(null=True)
    size = ShortTextField(null=True)
    owner = ShortTextField(null=True)
    product_name = ShortTextField(null=True)
    feature_name = ShortTextField(null=True)
    target_version = ShortTextField(null=True)
    created_at = TimestampField(null=True)

    class Meta:
        managed = False
        db_table = "v_open_crs"


class VBugsByVersion(models.Model):
    """Live bugs by severity."""

    id = ShortTextField(primary_key=True)
    title = ShortTextField(null=True)
    feature_name = ShortTextField(null=True)
    feature_version = ShortTextField(null=True)
    severity = ShortTextField(null=True)
    status = ShortTextField(null=True)
    fix_cr_id = ShortTextField(null=True)
    fixed_in_version = ShortTextField(null=True)
    created_at = TimestampField(null=True)

    class Meta:
        managed = False
        db_table = "v_bugs_by_version"


class VActiveCharters(models.Model):
    """The active charter document of each type."""

    id = ShortTextField(primary_key=True)
    doc_type_key = ShortTextField(null=True)
    doc_type = ShortTextField(null=True)
    version = ShortTextField(null=True)
    title = ShortTextField(null=True)
    approved_by = ShortTextField(null=True)
    approved_at = TimestampField(null=True)
    created_at = TimestampField(null=True)

    class Meta:
        managed = False
        db_table = "v_active_charters"


class VComplianceStatus(models.Model):
    """Compliance roll-up per release."""

    release_id = ShortTextField(primary_key=True)
    release_name = ShortTextField(null=True)
    product_name = ShortTextField(null=True)
    total_checks = models.IntegerField(null=True)
    passed = models.IntegerField(null=True)
    failed = models.IntegerField(null=True)
    status = ShortTextField(null=True)

    class Meta:
        managed = False
        db_table = "v_compliance_status"


class VStandardsSummary(models.Model):
    """Live standards with their assignment counts."""

    id = ShortTextField(primary_key=True)
    name = ShortTextField(null=True)
    level = ShortTextField(null=True)
    check_type = ShortTextField(null=True)
    is_blocking = models.IntegerField(null=True)
    assignments = models.IntegerField(null=True)
    created_at = TimestampField(null=True)

    class Meta:
        managed = False
        db_table = "v_standards_summary"


class VProgramsSummary(models.Model):
    """Live programs with product counts."""

    id = ShortTextField(primary_key=True)
    name = ShortTextField(null=True)
    type = ShortTextField(null=True)
    status = ShortTextField(null=True)
    owner = ShortTextField(null=True)
    product_count = models.IntegerField(null=True)
    created_at = TimestampField(null=True)

    class Meta:
        managed = False
        db_table = "v_programs_summary"
