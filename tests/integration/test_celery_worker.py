"""Reminders through a real Celery worker, Redis broker and PostgreSQL: each sent once.

The worker is a separate process reading the test database; e-mail goes to files so that
this process can count it. Needs PostgreSQL and Redis (CI fails, rather than skips, without).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from core.models import Notification, Nudge, Patient, Role, User
from prescribing import services
from prescribing.models import Medication
from tests import factories

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def broker(require_postgresql, require_redis):
    queue = f"concord-test-{uuid.uuid4().hex[:8]}"
    sender = Celery("concord-test-sender", broker=require_redis)
    yield require_redis, queue, sender
    sender.close()


@pytest.fixture
def workers(broker, tmp_path, settings):
    """Start workers on demand; stop them all at the end."""
    redis_url, queue, _ = broker
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "CONCORD_PROFILE": "test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_QUEUE": queue,
        "EMAIL_URL": f"filemail:///{mail_dir}",  # an absolute path: three slashes, then the path
        # The same audit key and checkpoint file as this test's.
        "CONCORD_AUDIT_KEY": settings.CONCORD_AUDIT_KEY,
        "CONCORD_AUDIT_CHECKPOINT_PATH": str(settings.CONCORD_AUDIT_CHECKPOINT_PATH),
    }
    started = []

    def start(name):
        log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        deadline = time.monotonic() + 60
        while "ready" not in (tmp_path / f"{name}.log").read_text():
            assert process.poll() is None, (tmp_path / f"{name}.log").read_text()
            assert time.monotonic() < deadline, "worker did not start"
            time.sleep(0.2)
        return process

    start.mail_dir = mail_dir
    yield start
    for process, log in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()


def sweep(broker, times=1):
    _, queue, sender = broker
    for _ in range(times):
        sender.send_task("core.tasks.sweep_nudges", queue=queue)


def emails(mail_dir: Path) -> list[str]:
    """The recipients of every e-mail the workers wrote, one entry per message."""
    found = []
    for path in mail_dir.glob("*"):
        for line in path.read_text().splitlines():
            if line.startswith("To: "):
                found.append(line[4:].strip())
    return found


def wait_until(condition, seconds=90):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def due_refill(patient_user, prescriber):
    """A medication whose ask-by date is two days away (30 days' supply, filled 21 days ago)."""
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    med = services.medication_start(
        serves_no_goal=True,
        no_goal_reason="No goal written yet.",
        needs=["patient_request"],
        need_reflection="What the patient asked for.",
        actor=prescriber,
        patient=patient,
        drug_name="Sertraline",
        strength="50 mg",
        form="tablet",
        dose="1",
        directions="daily",
        reason="r",
    )
    three_weeks_ago = date.today() - timedelta(days=21)
    rx = services.prescription_write(
        actor=prescriber,
        medication=med,
        quantity=30,
        days_supply=30,
        refills_authorised=3,
        written_on=three_weeks_ago,
    )
    services.fill_record(actor=prescriber, prescription=rx, filled_on=three_weeks_ago)
    return med


def test_a_due_refill_is_sent_once_whatever_the_retries_and_workers(broker, workers):
    prescriber = factories.PrescriberFactory()
    first_patient = factories.PatientUserFactory(email="first@example.test")
    due_refill(first_patient, prescriber)

    workers("one")
    sweep(broker, times=3)
    wait_until(lambda: Nudge.objects.filter(recipient=first_patient, status="sent").exists())
    time.sleep(2)  # let the repeated sweeps run to the end
    assert emails(workers.mail_dir) == ["first@example.test"]
    assert Notification.objects.filter(recipient=first_patient).count() == 1

    second_patient = factories.PatientUserFactory(email="second@example.test")
    due_refill(second_patient, prescriber)
    workers("two")
    sweep(broker, times=6)  # spread over both workers, some at the same moment
    wait_until(lambda: Nudge.objects.filter(recipient=second_patient, status="sent").exists())
    time.sleep(3)
    assert sorted(emails(workers.mail_dir)) == ["first@example.test", "second@example.test"]
    assert Notification.objects.filter(recipient=second_patient).count() == 1


def test_a_message_unread_past_the_promise_reminds_the_team_once(broker, workers):
    """A patient's message nobody on the team opened for three days, where the practice
    promised one: the worker's sweeps remind the prescriber once, however often they run."""
    from messaging import services as messaging
    from messaging.models import Message

    prescriber = factories.PrescriberFactory(email="overdue@example.test")
    prescriber.practice.reply_days = 1
    prescriber.practice.save()
    patient_user = factories.PatientUserFactory(email="writer@example.test")
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    conversation = messaging.conversation_start(
        actor=patient_user, patient=patient, clinician=prescriber, subject="s", text="t"
    )
    Message.objects.filter(conversation=conversation).update(
        created_at=conversation.created_at - timedelta(days=3)
    )

    workers("one")
    # The new-message notice the start sent waits in the queue too: count only the overdue one.
    sweep(broker, times=4)
    wait_until(
        lambda: Nudge.objects.filter(
            recipient=prescriber, kind="message_overdue", status="sent"
        ).exists()
    )
    time.sleep(2)
    sweep(broker, times=2)
    time.sleep(3)
    assert Nudge.objects.filter(kind="message_overdue").count() == 1
    assert Notification.objects.filter(recipient=prescriber, kind="message_overdue").count() == 1
    # Two e-mails in all: that there is a message, and (once) that it is overdue.
    assert emails(workers.mail_dir).count("overdue@example.test") == 2


def test_a_worker_killed_mid_sweep_loses_nothing(broker, workers):
    """Kill -9 a worker while it delivers 300 reminders, then sweep again.

    The database makes delivery exactly-once: the claim, the in-app notification and the
    'sent' mark commit together, so every nudge ends sent with one notification. E-mail is
    the one step outside the database: a message handed to the mail server just before the
    kill, whose transaction never committed, is sent again — at most one, the one in flight.
    """
    prescriber = factories.PrescriberFactory()
    practice = prescriber.practice
    users = User.objects.bulk_create(
        [
            User(email=f"p{i}@example.test", full_name=f"P {i}", role=Role.PATIENT, password="!")
            for i in range(300)
        ]
    )
    patients = Patient.objects.bulk_create(
        [
            Patient(given_name="P", family_name=str(i), date_of_birth=date(1980, 1, 1), user=u)
            for i, u in enumerate(users)
        ]
    )
    Medication.objects.bulk_create(
        [
            Medication(
                patient=p,
                practice=practice,
                author=prescriber,
                prescriber=prescriber,
                drug_name="Sertraline",
                strength="50 mg",
                form="tablet",
                dose="1",
                directions="daily",
                run_out_on=date.today() + timedelta(days=9),
                refill_needed_by=date.today() + timedelta(days=2),
                refills_left=3,
            )
            for p in patients
        ]
    )
    victim = workers("victim")
    sweep(broker)
    wait_until(lambda: Nudge.objects.filter(status="sent").count() >= 30)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert Nudge.objects.filter(status="sent").count() < 300, (
        "the kill came too late to test anything"
    )

    workers("survivor")
    sweep(broker)
    wait_until(lambda: Nudge.objects.filter(status="sent").count() == 300, seconds=180)
    assert Nudge.objects.count() == 300
    assert Notification.objects.count() == 300
    sent = emails(workers.mail_dir)
    assert set(sent) == {u.email for u in users}
    assert len(sent) - len(set(sent)) <= 1


def test_a_check_in_s_alert_is_delivered_by_the_worker_not_the_patient_s_request(broker, workers):
    """With a broker, the patient's submit schedules the care team's safety alert and enqueues
    delivery: nothing is sent until a worker runs, and then exactly once."""
    from alliance import selectors as alliance_selectors
    from alliance import services as alliance_services
    from core.tasks import deliver_nudges
    from tests.alliance.conftest import answer_all

    redis_url, queue, _ = broker
    prescriber = factories.PrescriberFactory(email="prescriber@example.test")
    patient_user = factories.PatientUserFactory(email="dan@example.test")
    patient = factories.PatientFactory(user=patient_user)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    alliance_services.install_shipped()
    phq9 = next(i for i in alliance_selectors.instruments_offered() if i.key == "phq-9")
    check_in = alliance_services.check_in_start(
        actor=patient_user, patient=patient, instrument=phq9
    )
    answers = {**answer_all(phq9, 0), "phq9_9": 1}
    # This process as the web server is with a broker: tasks are sent (to the workers' queue),
    # not run here. The app is the one the task is sent through (the current app).
    app = deliver_nudges.app
    saved = {k: app.conf[k] for k in ("task_always_eager", "task_default_queue", "broker_url")}
    app.conf.update(task_always_eager=False, task_default_queue=queue, broker_url=redis_url)
    try:
        alliance_services.check_in_submit(actor=patient_user, check_in=check_in, answers=answers)
    finally:
        app.conf.update(saved)
    assert Nudge.objects.get(kind="safety_alert").status == "pending"
    assert list(Notification.objects.values_list("kind", flat=True)) == ["crisis_help"]
    assert emails(workers.mail_dir) == []

    workers("one")  # picks up the delivery the submit enqueued; no sweep is sent
    wait_until(lambda: Nudge.objects.get(kind="safety_alert").status == "sent")
    assert emails(workers.mail_dir) == ["prescriber@example.test"]
    assert Notification.objects.filter(recipient=prescriber, kind="safety_alert").count() == 1


def test_beat_s_audit_checkpoint_is_written_by_a_worker(broker, workers, settings):
    """The checkpoint task as beat sends it, run by a real worker: a signed line of every
    chain head and the count, that audit_verify then checks the table against."""
    import io
    import json

    from django.core.management import call_command

    from core import audit
    from core.access import Action, Category

    prescriber = factories.PrescriberFactory()
    patients = [factories.PatientFactory(), factories.PatientFactory()]
    for p in patients:
        for _ in range(3):
            audit.record(actor=prescriber, patient=p, category=Category.GOALS, action=Action.READ)
    _, queue, sender = broker
    workers("one")
    sender.send_task("core.tasks.audit_checkpoint", queue=queue)
    path = Path(settings.CONCORD_AUDIT_CHECKPOINT_PATH)
    wait_until(lambda: path.exists() and path.read_text().endswith("\n"))
    line = json.loads(path.read_text().splitlines()[-1])
    assert (line["n"], line["count"], line["chains"]) == (1, 6, 2)
    assert {chain: seq for chain, (seq, _) in line["heads"].items()} == {
        str(p.uuid): 3 for p in patients
    }
    out = io.StringIO()
    call_command("audit_verify", "--require-checkpoint", stdout=out)
    assert "It matches checkpoint #1" in out.getvalue()


def test_a_visit_tomorrow_is_reminded_once_whatever_the_sweeps_and_workers(broker, workers):
    """The day-before reminder of a visit, swept again and again by two workers: one
    notification and one reminder e-mail. The patient lives where it is midday now, so the
    reminder is due (from 09:00 their time) whatever hour the test runs at."""
    import zoneinfo
    from datetime import datetime

    from django.utils import timezone

    from appointments import services as appointments

    offset = 12 - timezone.now().astimezone(zoneinfo.ZoneInfo("UTC")).hour  # -11 … +12
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-3 is UTC+3
    prescriber = factories.PrescriberFactory()
    patient_user = factories.PatientUserFactory(email="visit@example.test")
    patient = factories.PatientFactory(user=patient_user, time_zone=zone)
    factories.MembershipFactory(patient=patient, clinician=prescriber)
    here = zoneinfo.ZoneInfo(zone)
    tomorrow = timezone.now().astimezone(here).date() + timedelta(days=1)
    appointments.visit_book(
        actor=prescriber,
        patient=patient,
        clinician=prescriber,
        kind="medication",
        starts_at=datetime.combine(tomorrow, datetime.min.time(), tzinfo=here).replace(hour=15),
        place="Room 4",
    )
    workers("one")
    workers("two")
    sweep(broker, times=6)
    wait_until(lambda: Nudge.objects.filter(kind="visit_tomorrow", status="sent").exists())
    time.sleep(3)  # let the repeated sweeps run to the end
    assert Nudge.objects.filter(kind="visit_tomorrow").count() == 1
    assert Notification.objects.filter(recipient=patient_user, kind="visit_tomorrow").count() == 1
    # One e-mail for the booking, one for the reminder; none twice.
    wait_until(lambda: len(emails(workers.mail_dir)) >= 2)
    assert emails(workers.mail_dir) == ["visit@example.test", "visit@example.test"]
