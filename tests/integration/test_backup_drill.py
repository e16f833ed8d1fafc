"""The backup drill on PostgreSQL: dump, restore into a scratch database, identical row counts,
and the restored audit chain verified (a tampered row is caught in the copy too)."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core import audit
from core.access import Action, Category
from stories import services as stories
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def record(require_postgresql):
    patient_user = factories.PatientUserFactory()
    patient = factories.PatientFactory(user=patient_user)
    stories.goal_create(actor=patient_user, patient=patient, what="Sleep")
    for _ in range(3):
        audit.record(
            actor=patient_user, patient=patient, category=Category.GOALS, action=Action.READ
        )
    return patient


def test_backup_restores_whole(record):
    out = io.StringIO()
    call_command("backup_drill", stdout=out)
    text = out.getvalue()
    assert "identical counts" in text
    assert "The audit trail is intact: 4 events checked." in text
    assert "Backup drill passed" in text


def test_backup_drill_fails_on_a_tampered_audit_trail(record):
    from django.db import connection

    audit.drop_append_only_triggers()
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE core_auditevent SET action = 'export' WHERE seq = 2")
    finally:
        audit.install_append_only_triggers()
    with pytest.raises(
        CommandError, match="Restored audit chain: .*Broken at chain .* does not match its hash"
    ):
        call_command("backup_drill", stdout=io.StringIO())


def test_backup_drill_checks_the_restored_copy_against_the_last_checkpoint(record):
    call_command("audit_checkpoint", stdout=io.StringIO())
    out = io.StringIO()
    call_command("backup_drill", stdout=out)
    assert re.search(r"It matches checkpoint #1 of \S+ \(4 events, 1 chain\)\.", out.getvalue())
