"""The summary warns before saving clinical terms and labels, names them, and saves anyway only
when the clinician says so: the matcher as a pure rule, the page, the API, the shipped list."""

import string
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from stories import services
from stories.models import PersonSummary, SummaryTerm
from stories.terms import SHIPPED, Term, find_terms, read_csv

SHIPPED_TERMS = read_csv(SHIPPED)
ABBREVIATION = Term("SI", match_case=True)
WORD = Term("non-compliant")

# Text that cannot touch a term from either side: spaces and punctuation only.
separators = st.text(alphabet=" .,;:!?()\n", min_size=1, max_size=3)
plain = st.text(alphabet=string.ascii_letters + " .,", max_size=40)


# --- The matcher, a pure function ---------------------------------------------------------


def test_whole_words_and_case_for_abbreviations():
    found = find_terms("Dan sits by the sink. Si is his sister. SI: none.", SHIPPED_TERMS)
    assert [hit.as_written for hit in found] == ["SI"]


def test_words_match_in_any_case_and_several_words_across_spaces():
    found = find_terms("NON-COMPLIANT at times, a Poor   historian, r/o BPD", SHIPPED_TERMS)
    assert [hit.term.text for hit in found] == ["non-compliant", "poor historian", "r/o", "BPD"]


def test_a_term_inside_a_longer_listed_one_is_the_longer_ones():
    found = find_terms("treatment-resistant; later resistant", SHIPPED_TERMS)
    assert [hit.term.text for hit in found] == ["treatment-resistant", "resistant"]


def test_plain_words_find_nothing():
    text = (
        "Dan is a carpenter and the father of two girls. Quiet mornings, his workshop and "
        "being present for his daughters matter to him; feeling foggy worries him."
    )
    assert find_terms(text, SHIPPED_TERMS) == []


@given(before=plain, after=plain, left=separators, right=separators)
def test_property_a_listed_term_between_separators_is_always_found(before, after, left, right):
    for term in (ABBREVIATION, WORD):
        text = f"{before}{left}{term.text}{right}{after}"
        assert term.text in [hit.term.text for hit in find_terms(text, [term])]


@given(
    prefix=st.text(alphabet=string.ascii_letters + string.digits, max_size=3),
    suffix=st.text(alphabet=string.ascii_letters + string.digits, max_size=3),
)
def test_property_a_term_touching_letters_is_never_found(prefix, suffix):
    if not (prefix or suffix):
        return
    for term in (ABBREVIATION, WORD):
        assert find_terms(f"{prefix}{term.text}{suffix}", [term]) == []


@given(text=st.text(alphabet="SIsi ", max_size=12))
def test_property_an_abbreviation_matches_only_as_written(text):
    found = find_terms(text, [ABBREVIATION])
    assert all(hit.as_written == "SI" for hit in found)
    assert bool(found) == any(word == "SI" for word in text.split())


@given(text=st.text(max_size=80))
def test_property_findings_come_from_the_list_each_once(text):
    found = find_terms(text, SHIPPED_TERMS)
    names = [hit.term.text for hit in found]
    assert len(names) == len(set(names))
    assert all(hit.term in SHIPPED_TERMS for hit in found)
    assert all(hit.as_written.lower() in text.lower() or " " in hit.term.text for hit in found)


# --- The list as data ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_data_migration_loads_the_shipped_list():
    assert SummaryTerm.objects.count() == len(SHIPPED_TERMS)
    si = SummaryTerm.objects.get(text="SI")
    assert si.match_case is True
    assert SummaryTerm.objects.get(text="borderline").match_case is False


@pytest.mark.django_db
def test_the_clinic_replaces_the_list_and_a_bad_file_changes_nothing(tmp_path):
    good = tmp_path / "terms.csv"
    good.write_text("term,match_case,instead\nEUPD,yes,what he finds hard\nfrequent flyer,no,\n")
    out = StringIO()
    call_command("summary_terms_import", str(good), stdout=out)
    assert "2 terms" in out.getvalue()
    assert sorted(SummaryTerm.objects.values_list("text", flat=True)) == ["EUPD", "frequent flyer"]
    bad = tmp_path / "bad.csv"
    bad.write_text("term,match_case,instead\nMDD,perhaps,\n")
    with pytest.raises(CommandError, match="Line 2: match_case is yes or no"):
        call_command("summary_terms_import", str(bad))
    assert SummaryTerm.objects.count() == 2
    call_command("summary_terms_import", stdout=StringIO())
    assert SummaryTerm.objects.count() == len(SHIPPED_TERMS)


# --- The service, the page and the API ----------------------------------------------------

CLINICAL = "Dan, 38, MDD and PTSD, Hx of SI, non-compliant with sertraline."


@pytest.mark.django_db
def test_service_refuses_until_confirmed_and_records_what_was_kept(patient, prescriber):
    with pytest.raises(services.ClinicalTerms) as warning:
        services.summary_save(actor=prescriber, patient=patient, text=CLINICAL, version=None)
    assert [h.as_written for h in warning.value.found] == [
        "MDD",
        "PTSD",
        "Hx",
        "SI",
        "non-compliant",
    ]
    assert not PersonSummary.objects.filter(patient=patient).exists()
    saved = services.summary_save(
        actor=prescriber, patient=patient, text=CLINICAL, version=None, confirm_terms=True
    )
    assert saved.terms_kept == "MDD, PTSD, Hx, SI, non-compliant"
    plain = services.summary_save(
        actor=prescriber, patient=patient, text="Dan builds chairs.", version=saved.version
    )
    assert plain.terms_kept == ""
    assert plain.revisions.get().terms_kept == "MDD, PTSD, Hx, SI, non-compliant"


@pytest.mark.django_db
def test_page_warns_names_the_words_and_saves_anyway_on_request(client, patient, prescriber):
    client.force_login(prescriber)
    url = reverse("summary_edit", args=[patient.uuid])
    response = client.post(url, {"text": CLINICAL, "version": "0"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not saved yet." in page
    assert "Dan would recognize" in page
    for word in ("MDD", "PTSD", "Hx", "SI", "non-compliant"):
        assert f"<strong>{word}</strong>" in page
    assert "Save anyway" in page
    assert CLINICAL in page  # the words they wrote are still in the box
    assert not PersonSummary.objects.filter(patient=patient).exists()
    saved = client.post(url, {"text": CLINICAL, "version": "0", "confirm_terms": "1"})
    assert saved.status_code == 302
    assert PersonSummary.objects.get(patient=patient).terms_kept.startswith("MDD")


@pytest.mark.django_db
def test_page_saves_plain_words_without_a_warning(client, patient, prescriber):
    client.force_login(prescriber)
    url = reverse("summary_edit", args=[patient.uuid])
    response = client.post(url, {"text": "Dan sits in his workshop.", "version": "0"})
    assert response.status_code == 302
    assert "Save anyway" not in client.get(url).content.decode()


@pytest.mark.django_db
def test_api_answers_400_with_the_words_unless_confirmed(client, patient, prescriber):
    client.force_login(prescriber)
    url = reverse("api_summary", args=[patient.uuid])
    refused = client.put(url, {"text": CLINICAL, "version": 0}, content_type="application/json")
    assert refused.status_code == 400
    body = refused.json()
    assert [t["term"] for t in body["terms_found"]] == ["MDD", "PTSD", "Hx", "SI", "non-compliant"]
    assert "Dan would recognize" in body["text"][0]
    assert not PersonSummary.objects.filter(patient=patient).exists()
    saved = client.put(
        url,
        {"text": CLINICAL, "version": 0, "confirm_terms": True},
        content_type="application/json",
    )
    assert saved.status_code == 200
    assert saved.json()["terms_kept"] == "MDD, PTSD, Hx, SI, non-compliant"
