"""Issue 14, item 6: "Who has seen my record", for the patient, page and API.

- grouped by person, day and reason, newest first, in plain words (no action codes, no
  category codes, no release ids), repeats within a visit counted once;
- the accounting of disclosures counts reads a release or a referral allowed, not a care-team
  clinician reading her own plan;
- paged (20 groups), and a constant number of queries however long the trail.
"""

import re
import time
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse

from core import access, audit
from core.access import Action, Category
from core.models import AuditEvent
from referrals import services as referrals
from tests import factories

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
# Days after the fixtures' memberships start (today), in the patient's zone.
MON = datetime(2026, 12, 7, 9, 0, tzinfo=NY)
# What the old page showed ("Read · Medications", "care_team", "release:<uuid>"): codes.
CODES = (
    "·",
    "care_team",
    "release:",
    "medications",
    "narrative_notes",
    "Profile",
    "Export",
    "Read",
)


def _at(base: datetime, **delta) -> datetime:
    return base + timedelta(**delta)


def _read(time_machine, when, actor, category, patient, action=Action.READ):
    """A read through the access policy at a given time: the audit row it leaves is real."""
    time_machine.move_to(when, tick=False)
    access.get(actor, action, category, patient=patient.uuid)


def _visible(response) -> str:
    """The page's words as a person reads them: no markup, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", text)


def _main(response) -> str:
    body = response.content.decode()
    return _visible_text(body[body.index("<main") : body.index("</main>")])


def _visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _both(client, patient_user, **params):
    client.force_login(patient_user)
    page = client.get(reverse("record_views"), params)
    api = client.get(reverse("api_record_views"), params)
    assert page.status_code == api.status_code == 200
    return page, api.json()


@pytest.fixture
def outsider(patient, patient_user, prescriber, time_machine):
    """Dr. Olu Okafor of another practice, to whom Dan released his medicines on Monday."""
    reader = factories.PrescriberFactory(full_name="Dr. Olu Okafor")
    time_machine.move_to(_at(MON, hours=-1), tick=False)
    release = referrals.release_sign(
        actor=patient_user,
        patient=patient,
        discloser=prescriber,
        recipient=reader,
        categories=["medications", "profile"],
        purpose="So my second prescriber knows what I take.",
        expires_on=date(2027, 6, 1),
        signed_name="Daniel Brooks",
    )
    return reader, release


def test_reads_are_grouped_by_person_and_day_in_plain_words(
    client, patient, patient_user, prescriber, therapist, time_machine
):
    # Monday: Dr. Raman opens the plan and the goals during the visit (one sitting, many
    # pages), and again in the evening; Jordan looks at the goals; on Tuesday she lists her
    # patients and prints the plan.
    for minutes in (0, 2, 5, 9, 14):
        _read(time_machine, _at(MON, minutes=minutes), prescriber, Category.MEDICATIONS, patient)
        _read(time_machine, _at(MON, minutes=minutes + 1), prescriber, Category.GOALS, patient)
    _read(time_machine, _at(MON, hours=9), prescriber, Category.MEDICATIONS, patient)
    _read(time_machine, _at(MON, hours=2), therapist, Category.GOALS, patient)
    time_machine.move_to(_at(MON, days=1), tick=False)
    access.audit_listed(prescriber, [patient], Category.PROFILE, object_type="core.Patient")
    _read(
        time_machine,
        _at(MON, days=1, minutes=3),
        prescriber,
        Category.MEDICATIONS,
        patient,
        "export",
    )
    time_machine.move_to(_at(MON, days=1, hours=1), tick=False)

    page, api = _both(client, patient_user)
    groups = api["results"]
    assert api["count"] == 3
    assert [g["sentence"] for g in groups] == [
        "Dr. Priya Raman printed or downloaded your medicines, and saw you in a list of "
        "patients on Dec 8",
        "Dr. Priya Raman looked at your medicines and goals, twice on Dec 7",
        "Jordan Lee looked at your goals on Dec 7",
    ]
    assert {g["because"] for g in groups} == {"because they are on your care team"}
    assert {g["disclosure"] for g in groups} == {False}
    assert groups[1]["did"] == [
        {"did": "looked at", "information": ["your medicines", "your goals"]}
    ]
    assert (groups[1]["day"], groups[1]["times"]) == ("2026-12-07", 2)

    shown = _main(page)
    assert "looked at your medicines and goals, twice on Dec 7" in shown
    assert "Because they are on your care team" in shown
    for code in CODES:
        assert code not in shown, f"{code!r} shows on the page"
        assert all(code not in str(v) for g in groups for k, v in g.items() if k != "reason")


def test_a_release_recipients_reads_are_the_disclosures_not_the_care_teams_own(
    client, patient, patient_user, prescriber, outsider, time_machine
):
    reader, release = outsider
    # Dr. Raman reads her own plan: the care team, not a disclosure.
    _read(time_machine, MON, prescriber, Category.MEDICATIONS, patient)
    # Dr. Okafor reads what the release opened, twice that morning, minutes apart.
    _read(time_machine, _at(MON, hours=1), reader, Category.MEDICATIONS, patient)
    _read(time_machine, _at(MON, hours=1, minutes=4), reader, Category.MEDICATIONS, patient)
    time_machine.move_to(_at(MON, hours=3), tick=False)

    page, everyone = _both(client, patient_user)
    assert [(g["who"], g["disclosure"]) for g in everyone["results"]] == [
        ("Dr. Olu Okafor", True),
        ("Dr. Priya Raman", False),
    ]
    assert "Shared under a release or referral (1)" in _main(page)
    # The tab's count, in the API too: how many groups were disclosures, whatever is shown.
    assert everyone["disclosure_count"] == 1

    page, disclosures = _both(client, patient_user, show="disclosures")
    assert disclosures["count"] == 1
    (only,) = disclosures["results"]
    assert only["sentence"] == "Dr. Olu Okafor looked at your medicines on Dec 7"
    assert only["times"] == 1  # two reads four minutes apart: one visit
    assert only["because"] == "under the release you signed on Dec 7"
    # The API links the release as the page does.
    url = reverse("release", kwargs={"release_uuid": release.uuid})
    assert only["releases"] == [{"signed_on": "2026-12-07", "url": url}]
    assert disclosures["disclosure_count"] == 1
    assert only["practice"] == reader.practice.name
    shown = _main(page)
    assert "Dr. Olu Okafor" in shown
    assert "Under the release you signed on Dec 7" in shown
    assert "Dr. Priya Raman" not in shown
    assert str(release.uuid) not in shown
    # The link to the release itself is there, for the patient to read what they signed.
    assert reverse("release", kwargs={"release_uuid": release.uuid}) in page.content.decode()


def test_a_referral_recipients_reads_are_disclosures_too(
    client, patient, patient_user, therapist, time_machine
):
    outside = factories.PrescriberFactory(full_name="Dr. Ana Silva")
    time_machine.move_to(MON, tick=False)
    referrals.referral_create(
        actor=therapist, patient=patient, to_clinician=outside, reason="Nightmares most nights"
    )
    _read(time_machine, _at(MON, minutes=5), outside, Category.PROFILE, patient)
    _, api = _both(client, patient_user, show="disclosures")
    assert [(g["who"], g["because"], g["reason"]) for g in api["results"]] == [
        ("Dr. Ana Silva", "because you were referred to them", "referral")
    ]


def test_a_clinician_reading_what_she_wrote_is_not_a_disclosure(
    client, patient, patient_user, prescriber, time_machine
):
    time_machine.move_to(MON, tick=False)
    audit.record(
        actor=prescriber,
        patient=patient,
        category=Category.MEDICATIONS,
        action=Action.READ,
        via="author",
    )
    _, everyone = _both(client, patient_user)
    _, disclosures = _both(client, patient_user, show="disclosures")
    assert [g["because"] for g in everyone["results"]] == ["to read what they wrote themselves"]
    assert disclosures["count"] == 0


def _trail(patient, people, *, events: int, start: datetime) -> None:
    """`events` reads by `people` in turn, one every 7 minutes from `start`, written through
    the audit trail's own chaining in one batch (a few months of a busy record)."""
    kinds = [Category.MEDICATIONS, Category.GOALS, Category.ALLIANCE, Category.NARRATIVE_NOTES]
    rows = []
    for i in range(events):
        actor, via = people[i % len(people)]
        event = audit._event(
            actor=actor,
            patient=patient,
            category=kinds[i % len(kinds)],
            action=Action.READ if i % 5 else Action.LIST,
            outcome="allowed",
            object_type="",
            object_id="",
            via=via,
        )
        event.at = start + timedelta(minutes=7 * i)
        rows.append(event)
    audit._append(rows)


def test_paged_newest_first(client, patient, patient_user, prescriber, therapist):
    # One read a day by each of the two clinicians for 30 days: 60 groups.
    people = [(prescriber, "care_team"), (therapist, "care_team")]
    for day in range(30):
        _trail(patient, people, events=2, start=_at(MON, days=-40 + day))
    page, api = _both(client, patient_user)
    assert api["count"] == 60
    assert len(api["results"]) == 20
    days = [g["day"] for g in api["results"]]
    assert days == sorted(days, reverse=True)
    assert days[0] == "2026-11-26"
    assert "Page 1 of 3" in _main(page)
    assert "Older" in _main(page)

    client.force_login(patient_user)
    last = client.get(reverse("record_views"), {"page": 3})
    assert "Page 3 of 3" in _main(last) and "Newer" in _main(last)
    assert _main(last).count("on your care team") == 20
    later = client.get(reverse("api_record_views"), {"offset": 40, "limit": 20}).json()
    assert later["results"][-1]["day"] == "2026-10-28"
    assert later["next"] is None
    # A page number that is not one shows a page, not an error.
    assert client.get(reverse("record_views"), {"page": "x'"}).status_code == 200
    assert client.get(reverse("record_views"), {"page": 999}).status_code == 200


def test_an_unknown_filter_in_the_api_is_a_clear_400(client, patient, patient_user):
    client.force_login(patient_user)
    response = client.get(reverse("api_record_views"), {"show": "read"})
    assert response.status_code == 400
    assert "disclosures" in response.content.decode()


def test_thousands_of_events_cost_the_same_few_queries_and_stay_fast(
    client,
    patient,
    patient_user,
    prescriber,
    therapist,
    outsider,
    django_assert_max_num_queries,
):
    reader, release = outsider
    people = [
        (prescriber, "care_team"),
        (therapist, "care_team"),
        (reader, f"release:{release.uuid}"),
    ]
    _trail(patient, people, events=30, start=_at(MON, days=-30))
    client.force_login(patient_user)
    small = {}
    for name in ("record_views", "api_record_views"):
        client.get(reverse(name))  # the session and the audit chain's head exist from here
        with django_assert_max_num_queries(20) as few:
            assert client.get(reverse(name)).status_code == 200
        small[name] = len(few.captured_queries)

    _trail(patient, people, events=3000, start=_at(MON, days=-20))
    assert AuditEvent.objects.filter(patient=patient).count() > 3000
    for name in ("record_views", "api_record_views"):
        with django_assert_max_num_queries(small[name]):
            started = time.perf_counter()
            response = client.get(reverse(name))
            took = time.perf_counter() - started
        assert response.status_code == 200
        assert took < 2.0, f"{name} took {took:.2f}s for 3,000 events"
    api = client.get(reverse("api_record_views")).json()
    # 3,000 reads over three weeks by three people: a few groups a day, not 3,000 lines.
    assert api["count"] <= 3 * 22
    assert len(api["results"]) == 20
    assert sum(1 for g in api["results"] if g["disclosure"]) >= 6


def test_pages_that_list_records_count_under_the_grant_that_opened_the_page(
    client, patient, patient_user, therapist, outsider, time_machine
):
    """A list filtered record by record is audited without a `via`; it is still the release
    recipient's disclosure (or the care team's read), never a line of its own "with the
    clinic's permission"."""
    reader, _ = outsider
    time_machine.move_to(MON, tick=False)
    for who, path in [
        (reader, reverse("medications", kwargs={"patient_uuid": patient.uuid})),
        (therapist, reverse("goals", kwargs={"patient_uuid": patient.uuid})),
    ]:
        client.force_login(who)
        assert client.get(path).status_code == 200
    unnamed = AuditEvent.objects.filter(patient=patient, action="list", via="")
    assert unnamed.filter(actor=reader).exists()  # what the old accounting could not place

    _, api = _both(client, patient_user)
    assert [(g["who"], g["reason"], g["because"]) for g in api["results"]] == [
        ("Jordan Lee", "care_team", "because they are on your care team"),
        ("Dr. Olu Okafor", "release", "under the release you signed on Dec 7"),
    ]


def test_days_are_the_patients_own(client, patient, patient_user, prescriber, time_machine):
    # 23:50 and 00:10 in New York: two days for Dan, though one in UTC.
    late = datetime(2026, 12, 7, 23, 50, tzinfo=NY)
    _read(time_machine, late, prescriber, Category.MEDICATIONS, patient)
    _read(time_machine, late + timedelta(minutes=20), prescriber, Category.MEDICATIONS, patient)
    _, api = _both(client, patient_user)
    assert [g["day"] for g in api["results"]] == ["2026-12-08", "2026-12-07"]
