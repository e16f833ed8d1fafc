"""The clinic's equity view and the patient's self-description it counts.

What a clinic would stop it for: a cell small enough to recognise someone (directly, or by
subtracting the shown cells from the total), a row about one person, the self-description on a
clinical page or in one patient's FHIR export, or a clinician who may read it.
"""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance import services as alliance
from clinic import equity
from core import services as core_services
from core.access import Category
from core.models import AuditEvent, SelfDescription
from prescribing import services as rx
from tests import factories

MIN = equity.MIN_CELL


# --- Suppression: the pure function --------------------------------------------------------


def _row(patients, **counts):
    row = {"patients": patients, "medicines": 0}
    for c in equity.COLUMNS:
        row.setdefault(c.key, 0 if c.kind == "count" else None)
    row.update(counts)
    row["patients"] = patients
    equity._derive(row)
    row.update(counts)
    return row


def test_a_count_of_ten_is_hidden_and_eleven_is_shown():
    rows = {
        "a": _row(40, controlled=10),
        "b": _row(40, controlled=11),
        "c": _row(40, controlled=30),
    }
    shown, _total = equity.suppress(rows, _row(120, controlled=51))
    assert shown["a"]["controlled"] == equity.HIDDEN
    assert shown["c"]["controlled"] == 30
    # "a" alone hidden would be 51 − 11 − 30: the smallest shown one is hidden with it.
    assert shown["b"]["controlled"] == equity.HIDDEN


def test_a_group_of_ten_patients_is_hidden_whole_and_cannot_be_had_from_the_total():
    rows = {"small": _row(10), "mid": _row(12), "big": _row(50)}
    shown, total = equity.suppress(rows, _row(72))
    assert all(v == equity.HIDDEN for v in shown["small"].values())
    assert total["patients"] == 72
    # 72 − 50 = 22 is the two hidden groups together, never one of them.
    assert all(v == equity.HIDDEN for v in shown["mid"].values())
    assert shown["big"]["patients"] == 50


def test_a_total_under_eleven_is_hidden_too():
    shown, total = equity.suppress({"a": _row(6), "b": _row(4)}, _row(10))
    assert all(v == equity.HIDDEN for v in total.values())
    assert all(v == equity.HIDDEN for r in shown.values() for v in r.values())


def test_a_rate_resting_on_fewer_than_eleven_is_hidden():
    row = _row(30, alliance_check_ins=10, alliance_mean=8.5, with_two_phq9=11, phq9_change=-4.0)
    other = _row(30, alliance_check_ins=40, alliance_mean=7.0, with_two_phq9=11, phq9_change=-2.0)
    third = _row(30, alliance_check_ins=12, alliance_mean=6.0, with_two_phq9=11, phq9_change=-1.0)
    shown, _ = equity.suppress(
        {"a": row, "b": other, "c": third},
        _row(90, alliance_check_ins=62, alliance_mean=7.1, with_two_phq9=33, phq9_change=-2.3),
    )
    assert shown["a"]["alliance_mean"] == equity.HIDDEN
    assert shown["a"]["phq9_change"] == -4.0
    # The one resting on the fewest check-ins of the others goes with it.
    assert shown["c"]["alliance_mean"] == equity.HIDDEN
    assert shown["b"]["alliance_mean"] == 7.0


counts = st.integers(min_value=0, max_value=60)


@st.composite
def tables(draw):
    n = draw(st.integers(min_value=1, max_value=7))
    rows = {}
    for i in range(n):
        patients = draw(st.integers(min_value=1, max_value=80))
        rows[f"g{i}"] = _row(
            patients,
            controlled=draw(st.integers(0, patients)),
            antipsychotic_starts=draw(counts),
            dose_increases=draw(counts),
            alliance_check_ins=draw(counts),
            alliance_mean=draw(st.floats(0, 10)),
            with_two_phq9=draw(st.integers(0, patients)),
            phq9_change=draw(st.floats(-27, 27)),
        )
    total = _row(
        sum(r["patients"] for r in rows.values()),
        **{
            k: sum(r[k] for r in rows.values())
            for k in ("controlled", "antipsychotic_starts", "dose_increases", "alliance_check_ins")
        },
    )
    return rows, total


@settings(max_examples=200, deadline=None)
@given(tables())
def test_suppression_holds_for_any_table(table):
    rows, total = table
    shown, shown_total = equity.suppress(rows, total)
    for g, row in shown.items():
        for column in equity.COLUMNS:
            value = row[column.key]
            if value == equity.HIDDEN:
                continue
            # Never a group under the limit, never a count under it, never a rate resting on less.
            assert rows[g]["patients"] >= MIN
            if column.kind == "count":
                assert value >= MIN
            else:
                assert rows[g][column.basis] >= MIN
    for column in equity.COLUMNS:
        if shown_total[column.key] == equity.HIDDEN:
            continue
        hidden = [g for g in shown if shown[g][column.key] == equity.HIDDEN]
        # One hidden cell beside a shown total could be had by subtraction: never one alone
        # (unless every other cell is hidden too, and then the total tells only their sum).
        assert len(hidden) != 1 or len(shown) == 1
    # Suppressing what is already suppressed changes nothing.
    again, _ = equity.suppress(
        {
            g: {**rows[g], **{k: (0 if v == equity.HIDDEN else v) for k, v in r.items()}}
            for g, r in shown.items()
        },
        total,
    )
    assert {g: [k for k, v in r.items() if v == equity.HIDDEN] for g, r in shown.items()} == {
        g: [k for k, v in r.items() if v == equity.HIDDEN and shown[g][k] == equity.HIDDEN]
        for g, r in again.items()
    }


def test_one_group_alone_under_a_shown_total_is_the_total():
    # One group only: it is the total, and it is shown or hidden with it.
    shown, total = equity.suppress({"a": _row(30)}, _row(30))
    assert shown["a"]["patients"] == total["patients"] == 30


# --- The table from the database ------------------------------------------------------------


def _cohort(practice_prescriber, *, group, n, race=None, declined=False, start=None):
    made = []
    for i in range(n):
        patient = factories.PatientFactory(given_name=f"{group}{i}", family_name=f"Cohort{group}")
        factories.MembershipFactory(patient=patient, clinician=practice_prescriber)
        if race is not None or declined:
            SelfDescription.objects.create(
                patient=patient, race_ethnicity=race or [], race_declined=declined
            )
        if start:
            rx.medication_start(
                actor=practice_prescriber,
                patient=patient,
                drug_name="Sertraline",
                strength="50 mg",
                form="tablet",
                dose="1 tablet",
                directions="each morning",
                reason="Low mood most days",
                not_coded=True,
                **factories.WHOSE_NEED,
            )
        made.append(patient)
    return made


@pytest.fixture
def cohorts(db, prescriber):
    return {
        "white": _cohort(prescriber, group="W", n=14, race=["white"], start=True),
        "black": _cohort(prescriber, group="B", n=12, race=["black"], start=True),
        "asian": _cohort(prescriber, group="A", n=4, race=["asian"]),
        "declined": _cohort(prescriber, group="D", n=11, declined=True),
    }


def _table(practices, dimension="race"):
    today = date.today()
    return equity.equity_table(
        practices=practices, dimension=dimension, since=today - timedelta(days=365), until=today
    )


def test_the_table_counts_groups_and_hides_the_small_ones(cohorts, prescriber):
    from core.models import Practice

    table = _table(Practice.objects.filter(pk=prescriber.practice_id))
    # Every group is a row, empty ones too, so that a row does not tell someone is in it.
    assert [g for g, _ in table.groups] == [g for g, _ in equity.DIMENSIONS["race"].groups]
    assert table.rows["white"]["patients"] == 14
    assert table.rows["white"]["medicines_per_patient"] == 1.0
    assert table.rows["black"]["patients"] == 12
    assert table.rows["declined"]["patients"] == 11
    # Four Asian patients: hidden, among the empty groups, hidden alike, so that 41 − 14 −
    # 12 − 11 tells only that four people are somewhere in the hidden rows.
    assert table.rows["asian"]["patients"] == equity.HIDDEN
    assert table.rows["mena"]["patients"] == equity.HIDDEN
    assert table.total["patients"] == 41


def test_another_practice_s_patients_are_not_counted(cohorts, prescriber):
    from core.models import Practice

    elsewhere = factories.PrescriberFactory(
        practice=factories.PracticeFactory(name="Lakeside Psychiatry")
    )
    _cohort(elsewhere, group="L", n=20, race=["white"])
    table = _table(Practice.objects.filter(pk=prescriber.practice_id))
    assert table.rows["white"]["patients"] == 14


def test_the_figures_are_counted_in_a_fixed_number_of_queries(cohorts, prescriber):
    from core.models import Practice

    practices = Practice.objects.filter(pk=prescriber.practice_id)
    _table(practices)  # what a process reads once (the instruments' ids) is read here
    with CaptureQueriesContext(connection) as few:
        _table(practices)
    _cohort(prescriber, group="X", n=15, race=["hispanic"], start=True)
    with CaptureQueriesContext(connection) as more:
        _table(practices)
    assert len(more) == len(few) <= 20


# --- Who may see it, and what it shows ------------------------------------------------------


@pytest.fixture
def clinic_admin(prescriber):
    return factories.UserFactory(
        role="admin", practice=prescriber.practice, email="admin@riverside.test"
    )


def test_a_clinic_admin_sees_the_view_and_the_csv_with_the_same_cells_hidden(
    client, cohorts, clinic_admin
):
    client.force_login(clinic_admin)
    page = client.get(reverse("equity"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Black or African American" in html and '<td class="suppressed">&lt; 11</td>' in html
    response = client.get(
        reverse("equity"),
        {
            "dimension": "race",
            "format": "csv",
            "since": "2022-01-01",
            "until": date.today().isoformat(),
        },
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    by_group = {line[0]: line[1:] for line in lines[2:]}
    assert by_group["Asian"][0] == "fewer than 11"
    assert by_group["Prefer not to say"][0] == "11"
    assert by_group["Middle Eastern or North African"][0] == "fewer than 11"
    assert by_group["White"][0] == "14"
    assert by_group["All patients"][0] == "41"
    # Every row is a group or the total: none is about one person.
    assert len(lines) == 2 + len(by_group)
    event = AuditEvent.objects.filter(object_type="clinic.EquityView").latest("id")
    assert event.patient_id is None and event.category == Category.SELF_DESCRIPTION


def test_no_page_of_the_view_names_a_patient(client, cohorts, clinic_admin):
    client.force_login(clinic_admin)
    html = client.get(
        reverse("equity"),
        {"dimension": "race", "since": "2022-01-01", "until": date.today().isoformat()},
    ).content.decode()
    csv_text = client.get(
        reverse("equity"),
        {
            "dimension": "race",
            "since": "2022-01-01",
            "until": date.today().isoformat(),
            "format": "csv",
        },
    ).content.decode()
    for group in cohorts.values():
        for patient in group:
            assert patient.family_name not in html and patient.family_name not in csv_text
            assert str(patient.uuid) not in html and str(patient.uuid) not in csv_text


def test_a_clinic_lead_sees_their_practice_and_a_clinician_nobody(
    client, cohorts, prescriber, therapist
):
    client.force_login(prescriber)
    assert client.get(reverse("equity")).status_code == 404
    assert AuditEvent.objects.filter(
        actor=prescriber, object_type="clinic.EquityView", outcome=AuditEvent.Outcome.DENIED
    ).exists()
    prescriber.is_clinic_lead = True
    prescriber.save(update_fields=["is_clinic_lead"])
    assert client.get(reverse("equity")).status_code == 200
    client.force_login(therapist)  # a clinician of another practice, not a lead
    assert client.get(reverse("equity")).status_code == 404


def test_a_patient_is_refused_the_view(client, patient_user, patient):
    client.force_login(patient_user)
    assert client.get(reverse("equity")).status_code == 404


def test_bad_dates_say_so_and_count_nothing(client, cohorts, clinic_admin):
    client.force_login(clinic_admin)
    before = AuditEvent.objects.filter(object_type="clinic.EquityView").count()
    response = client.get(
        reverse("equity"), {"dimension": "race", "since": "2026-12-01", "until": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()
    assert AuditEvent.objects.filter(object_type="clinic.EquityView").count() == before


# --- The self-description: the patient's alone ---------------------------------------------


def test_a_patient_describes_themselves_on_their_account_page(client, patient_user, patient):
    client.force_login(patient_user)
    page = client.get(reverse("account_page")).content.decode()
    assert "About you" in page and "Middle Eastern or North African" in page
    response = client.post(
        reverse("self_description"),
        {
            "race_ethnicity": ["mena", "white"],
            "preferred_language": "ar",
            "sex": "",
            "gender_identity": "man",
        },
    )
    assert response.status_code == 302
    described = SelfDescription.objects.get(patient=patient)
    assert described.race_group == SelfDescription.MULTIPLE
    assert described.preferred_language == "ar"
    # Categories together with "prefer not to say": refused, nothing changed.
    response = client.post(
        reverse("self_description"), {"race_ethnicity": ["asian"], "race_declined": "on"}
    )
    assert response.status_code == 400
    assert "not both" in response.content.decode()
    described.refresh_from_db()
    assert described.race_ethnicity == ["mena", "white"]
    # An answer not offered: refused with a message.
    response = client.post(reverse("self_description"), {"sex": "robot"})
    assert response.status_code == 400
    assert "Choose an answer from the list." in response.content.decode()


def test_nobody_but_the_patient_writes_or_reads_it(patient, prescriber):
    from django.http import Http404

    from core import selectors

    with pytest.raises(Http404):
        core_services.self_description_save(actor=prescriber, patient=patient, sex="female")
    assert not SelfDescription.objects.filter(patient=patient).exists()
    assert selectors.self_description_get(user=prescriber) is None
    assert AuditEvent.objects.filter(
        actor=prescriber, category=Category.SELF_DESCRIPTION, outcome=AuditEvent.Outcome.DENIED
    ).exists()


def test_the_self_description_is_on_no_clinical_page_and_not_in_the_fhir_export(
    client, patient, patient_user, prescriber
):
    alliance.install_shipped()
    core_services.self_description_save(
        actor=patient_user,
        patient=patient,
        race_ethnicity=["mena"],
        preferred_language="ht",
        gender_identity="nonbinary",
    )
    client.force_login(prescriber)
    pages = [
        reverse("visit", args=[patient.uuid]),
        reverse("patient_detail", args=[patient.uuid]),
        reverse("shared", args=[patient.uuid]),
        reverse("today"),
        reverse("patient_list"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        for words in ("Middle Eastern", "Haitian Creole", "Non-binary", "self_description"):
            assert words not in html, (url, words)
    bundle = json.loads(client.get(reverse("fhir_export", args=[patient.uuid])).content)
    text = json.dumps(bundle)
    for words in ("Middle Eastern", "mena", "Haitian", "nonbinary", "us-core-race", "ethnicity"):
        assert words not in text
    pdf = client.get(reverse("visit_pdf", args=[patient.uuid]))
    assert pdf.status_code == 200


# --- The API and the FHIR MeasureReport -----------------------------------------------------


def _api(client, user, name, **params):
    key = factories.api_token(user)
    return client.get(reverse(name), params, HTTP_AUTHORIZATION=f"Token {key}")


def test_the_api_gives_the_same_table_with_hidden_cells_empty(client, cohorts, clinic_admin):
    response = _api(client, clinic_admin, "api_equity", dimension="race")
    assert response.status_code == 200
    body = response.json()
    rows = {row["group"]: row["cells"] for row in body["groups"]}
    assert rows["white"]["patients"] == {"value": 14, "hidden": False}
    assert rows["asian"]["patients"] == {"value": None, "hidden": True}
    assert rows["declined"]["patients"] == {"value": 11, "hidden": False}
    assert rows["mena"]["patients"] == {"value": None, "hidden": True}
    assert body["total"]["patients"]["value"] == 41
    assert body["min_cell"] == 11
    bad = _api(client, clinic_admin, "api_equity", since="2026-12-01", until="2026-01-01")
    assert bad.status_code == 400
    assert "The end date is before the start date." in bad.content.decode()


def test_the_measure_report_is_valid_fhir_and_leaves_hidden_figures_out(
    client, cohorts, clinic_admin
):
    from fhir.resources.R4B.measurereport import MeasureReport

    response = _api(client, clinic_admin, "api_equity_fhir", dimension="race")
    assert response.status_code == 200
    report = MeasureReport.model_validate(response.json())
    patients = next(g for g in report.group if g.code.coding[0].code == "patients")
    assert patients.measureScore.value == 41
    strata = {s.value.text: s for s in patients.stratifier[0].stratum}
    assert strata["White"].measureScore.value == 14
    assert strata["Asian"].measureScore is None
    text = response.content.decode()
    for group in cohorts.values():
        assert all(p.family_name not in text and str(p.uuid) not in text for p in group)


def test_the_api_refuses_clinicians_and_patients(
    client, cohorts, prescriber, patient_user, patient
):
    assert _api(client, prescriber, "api_equity").status_code == 404
    assert _api(client, prescriber, "api_equity_fhir").status_code == 404
    assert _api(client, patient_user, "api_equity").status_code == 404


def test_a_patient_describes_themselves_through_the_api_and_nobody_else_can(
    client, patient_user, patient, prescriber
):
    key = factories.api_token(patient_user)
    response = client.put(
        reverse("api_self_description"),
        {"race_ethnicity": ["asian"], "preferred_language": "vi"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 200, response.content
    assert SelfDescription.objects.get(patient=patient).race_group == "asian"
    both = client.put(
        reverse("api_self_description"),
        {"race_ethnicity": ["asian"], "race_declined": True},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert both.status_code == 400
    assert SelfDescription.objects.get(patient=patient).race_declined is False
    other = factories.api_token(prescriber)
    assert (
        client.get(reverse("api_self_description"), HTTP_AUTHORIZATION=f"Token {other}").status_code
        == 404
    )


def test_no_query_of_the_view_returns_a_row_about_one_person(cohorts, prescriber):
    """Every query the view runs, as the database answers it: at most one row a group, and no
    column that names or dates a person. 41 patients here: a query per person would return 41."""
    from core.models import Practice

    answered = []

    def watch(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        cursor = context["cursor"]
        if cursor.description:
            answered.append(([col.name for col in cursor.description], cursor.rowcount, sql))
        return result

    practices = Practice.objects.filter(pk=prescriber.practice_id)
    with connection.execute_wrapper(watch):
        table = _table(practices)
    assert answered
    naming = {"uuid", "given_name", "family_name", "preferred_name", "date_of_birth", "email"}
    for columns, rows, sql in answered:
        if sql.startswith('SELECT "core_practice".'):
            continue  # the practices counted: not about a person
        assert not naming & set(columns), sql
        assert rows <= len(table.groups), (rows, sql)
