"""Keeping one active charter document per type (RULES.md 5.2, ``charter_singleton_enforce``).

On INSERT the trigger deactivates the type's previous active doc. On UPDATE nothing does:
activating a second doc would fail on the unique index ``idx_charter_singleton``. So an
update that makes a doc active first deactivates the other one, in the same transaction.
"""

from __future__ import annotations

from django.db import transaction

from programs.models import CharterDoc


def save_charter_doc(doc: CharterDoc, *, update_fields=None) -> None:
    """Save ``doc``; if it is an active, live, existing doc, deactivate its rival first."""
    with transaction.atomic():
        if doc.is_active and doc.deleted_at is None and not doc._state.adding:
            rivals = CharterDoc.objects.live().filter(doc_type_key=doc.doc_type_key, is_active=True)
            for rival in rivals.exclude(pk=doc.pk):
                rival.is_active = False
                rival.save(update_fields=["is_active"])
        doc.save(update_fields=update_fields)
