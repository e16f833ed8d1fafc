"""FHIR R4 export of a patient's record, so that data can leave Concord.

Built only from the apps' selectors, so it carries exactly what the caller may see (a
therapist without a release gets no medication resources) and each read is audited; the
export itself is audited as an EXPORT of each category included.
"""

import uuid

from django.utils import timezone

from alliance import selectors as alliance_selectors
from appointments import selectors as appointments_selectors
from core import audit
from core.access import Action, Category
from messaging import selectors as messaging_selectors
from prescribing import selectors as prescribing_selectors
from referrals import selectors as referrals_selectors
from stories import selectors as stories_selectors

SYSTEM = "urn:concord"
MED_STATUS = {"proposed": "draft", "active": "active", "paused": "on-hold", "stopped": "stopped"}
GOAL_STATUS = {
    "proposed": "proposed",
    "active": "active",
    "on_hold": "on-hold",
    "achieved": "completed",
    "let_go": "cancelled",
    "entered_in_error": "entered-in-error",
}
REFERRAL_STATUS = {
    "sent": "active",
    "accepted": "active",
    "active": "active",
    "declined": "revoked",
    "closed": "completed",
}
OBSERVATION_CODES = {
    "response": "Response to medication",
    "side_effect": "Side effect",
    "adherence": "Adherence",
    "question": "Question",
}


def _dosage(med) -> dict:
    """The dose taken, not the tablet strength alone: "50 mg (1/2 tablet) by mouth, daily",
    with the amount as a quantity when the strength and dose can be read."""
    how = f"{med.dose} {med.route}, {med.directions}"
    taken = med.dose_taken
    if taken is None:
        return {"text": how}
    value, unit = taken.replace(",", "").split(" ", 1)
    return {
        "text": f"{taken} ({how})",
        "doseAndRate": [{"doseQuantity": {"value": float(value), "unit": unit}}],
    }


def _ref(uuid) -> str:
    return f"urn:uuid:{uuid}"


def _some(key: str, values: list) -> dict:
    """FHIR forbids empty arrays: leave the element out instead."""
    return {key: values} if values else {}


def _entry(resource: dict) -> dict:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _rxnorm(med) -> dict:
    """The RxNorm ingredient coding of a medicine chosen from the formulary; nothing for free
    text (not coded), which the text alone names."""
    if not med.rxnorm_code:
        return {}
    return {"coding": [{"system": RXNORM, "code": med.rxnorm_code, "display": med.drug_name}]}


REVIEW_SYSTEM = f"{SYSTEM}:deprescribing-review"


def _detected_issue(med, flag, subject) -> dict:
    """A deprescribing review still to answer, as a DetectedIssue implicating the medicine:
    why it may no longer be needed (no open goal it serves, no purpose in the patient's words,
    a goal achieved or let go, one of five or more at once)."""
    return {
        "resourceType": "DetectedIssue",
        "id": str(uuid.uuid5(med.uuid, flag.key)),
        "status": "preliminary",
        "code": {
            "coding": [{"system": REVIEW_SYSTEM, "code": flag.kind}],
            "text": "Deprescribing review",
        },
        "severity": "low",
        "patient": subject,
        "implicated": [{"reference": _ref(med.uuid), "display": med.label}],
        "detail": flag.text,
    }


def patient_bundle(*, actor, patient) -> dict:
    """A FHIR R4 Bundle (collection) of what the actor may see of this patient."""
    pid = str(patient.uuid)
    subject = {"reference": _ref(pid), "display": patient.display_name}
    entries = [
        _entry(
            {
                "resourceType": "Patient",
                "id": pid,
                "identifier": [{"system": SYSTEM, "value": pid}],
                "name": [{"family": patient.family_name, "given": [patient.given_name]}],
                "birthDate": patient.date_of_birth.isoformat(),
            }
        )
    ]
    included = {Category.PROFILE}
    plan = prescribing_selectors.medication_plan(actor=actor, patient=patient)
    prescribing_selectors.with_reviews(actor=actor, patient=patient, items=plan)
    for item in plan:
        med = item.medication
        included.add(Category.MEDICATIONS)
        entries += [_entry(_detected_issue(med, flag, subject)) for flag in item.review.flags]
        entries.append(
            _entry(
                {
                    "resourceType": "MedicationRequest",
                    "id": str(med.uuid),
                    "status": MED_STATUS[med.status],
                    "intent": "proposal" if med.status == "proposed" else "order",
                    "medicationCodeableConcept": {
                        "text": f"{med.drug_name} {med.strength} {med.form}".strip(),
                        **_rxnorm(med),
                    },
                    "subject": subject,
                    "requester": {"display": med.prescriber.full_name},
                    **_some("reasonCode", [{"text": med.purpose}] if med.purpose else []),
                    **_some(
                        "note",
                        [
                            {"text": f"{label}: {text}"}
                            for label, text in (("Hopes", med.hopes), ("Worries", med.worries))
                            if text
                        ],
                    ),
                    "dosageInstruction": [_dosage(med)],
                }
            )
        )
        for prescription in med.prescriptions.all():
            for fill in prescription.fills.all():
                entries.append(
                    _entry(
                        {
                            "resourceType": "MedicationDispense",
                            "id": f"{prescription.uuid.hex[:24]}{fill.pk:08x}"[:64],
                            "status": "completed",
                            "medicationCodeableConcept": {
                                "text": f"{med.drug_name} {med.strength}",
                                **_rxnorm(med),
                            },
                            "subject": subject,
                            "authorizingPrescription": [{"reference": _ref(med.uuid)}],
                            "quantity": {"value": fill.quantity},
                            "daysSupply": {
                                "value": fill.days_supply,
                                "unit": "days",
                                "system": "http://unitsofmeasure.org",
                                "code": "d",
                            },
                            "whenHandedOver": f"{fill.filled_on.isoformat()}T12:00:00Z",
                        }
                    )
                )
        for observation in item.observations:
            included.add(Category.OBSERVATIONS)
            entries.append(
                _entry(
                    {
                        "resourceType": "Observation",
                        "id": str(observation.uuid),
                        "status": "final",
                        "code": {"text": OBSERVATION_CODES[observation.kind]},
                        "subject": subject,
                        "effectiveDateTime": f"{observation.observed_on.isoformat()}T12:00:00Z",
                        "valueString": observation.text,
                        "focus": [{"reference": _ref(med.uuid)}],
                    }
                )
            )
    for goal in stories_selectors.goal_list(actor=actor, patient=patient):
        included.add(Category.GOALS)
        entries.append(
            _entry(
                {
                    "resourceType": "Goal",
                    "id": str(goal.uuid),
                    "lifecycleStatus": GOAL_STATUS[goal.status],
                    "description": {"text": goal.what},
                    "subject": subject,
                    **_some("note", [{"text": goal.why}] if goal.why else []),
                    **(
                        {"target": [{"dueDate": goal.target_date.isoformat()}]}
                        if goal.target_date
                        else {}
                    ),
                }
            )
        )
    for series in alliance_selectors.trends(actor=actor, patient=patient):
        category = Category.ALLIANCE if series.instrument.kind == "alliance" else Category.OUTCOMES
        included.add(category)
        for check_in in series.check_ins:
            entries.append(
                _entry(
                    {
                        "resourceType": "QuestionnaireResponse",
                        "id": str(check_in.uuid),
                        "status": "completed",
                        "questionnaire": f"{SYSTEM}/questionnaire/{check_in.instrument.key}|{check_in.instrument.version}",
                        "subject": subject,
                        "authored": check_in.submitted_at.isoformat(),
                        **_some(
                            "item",
                            [
                                {"linkId": key, "answer": [{"valueInteger": value}]}
                                for key, value in check_in.answers.items()
                            ],
                        ),
                    }
                )
            )
            entries.append(
                _entry(
                    {
                        "resourceType": "Observation",
                        "id": f"{check_in.uuid.hex}0",
                        "status": "final",
                        "code": {"text": f"{check_in.instrument.name} score"},
                        "subject": subject,
                        "effectiveDateTime": check_in.submitted_at.isoformat(),
                        "valueQuantity": {"value": check_in.total},
                        "derivedFrom": [{"reference": _ref(check_in.uuid)}],
                    }
                )
            )
    for view in referrals_selectors.releases_for_patient(actor=actor, patient=patient):
        release = view.release
        included.add(Category.RELEASES)
        entries.append(
            _entry(
                {
                    "resourceType": "Consent",
                    "id": str(release.uuid),
                    "status": "active" if view.in_force else "inactive",
                    "scope": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                "code": "patient-privacy",
                            }
                        ]
                    },
                    "category": [
                        {
                            "coding": [{"system": "http://loinc.org", "code": "59284-0"}],
                            "text": "Authorization to share health information",
                        }
                    ],
                    "patient": subject,
                    "dateTime": release.signed_at.isoformat(),
                    "policyRule": {
                        "text": "HIPAA 45 CFR 164.508"
                        + (" and 42 CFR Part 2" if release.covers_substance_use else "")
                    },
                    "provision": {
                        "type": "permit",
                        "period": {
                            "start": release.signed_at.isoformat(),
                            "end": release.expires_at.isoformat(),
                        },
                        "actor": [
                            {
                                "role": {"text": "discloser"},
                                "reference": {"display": release.discloser.full_name},
                            },
                            {
                                "role": {"text": "recipient"},
                                "reference": {"display": release.recipient.full_name},
                            },
                        ],
                        "purpose": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                "code": "TREAT",
                                "display": release.purpose[:200],
                            }
                        ],
                        **_some(
                            "class", [{"system": SYSTEM, "code": c} for c in release.categories]
                        ),
                    },
                }
            )
        )
    for referral in referrals_selectors.referrals_for_patient(actor=actor, patient=patient):
        included.add(Category.REFERRALS)
        entries.append(
            _entry(
                {
                    "resourceType": "ServiceRequest",
                    "id": str(referral.uuid),
                    "status": REFERRAL_STATUS[referral.status],
                    "intent": "order",
                    "priority": {"routine": "routine", "soon": "urgent", "urgent": "asap"}[
                        referral.urgency
                    ],
                    "code": {"text": "Referral"},
                    "subject": subject,
                    "requester": {"display": referral.author.full_name},
                    "performer": [{"display": referral.to_clinician.full_name}],
                    "reasonCode": [{"text": referral.reason}],
                    "authoredOn": referral.created_at.isoformat(),
                }
            )
        )
    previous = {}
    for message in messaging_selectors.communications(actor=actor, patient=patient):
        included.add(Category.MESSAGES)
        conversation = message.conversation
        from_patient = message.author_id == patient.user_id
        if from_patient:
            to = conversation.clinician.full_name if conversation.clinician else "Care team"
        else:
            to = patient.display_name
        entries.append(
            _entry(
                {
                    "resourceType": "Communication",
                    "id": str(message.uuid),
                    "identifier": [
                        {"system": f"{SYSTEM}:conversation", "value": str(conversation.uuid)}
                    ],
                    "status": "completed",
                    "subject": subject,
                    "topic": {"text": conversation.subject},
                    "sent": message.created_at.isoformat(),
                    "sender": {"display": message.author.full_name},
                    "recipient": [{"display": to}],
                    "payload": [{"contentString": message.text}],
                    **(
                        {"inResponseTo": [{"reference": _ref(previous[conversation.pk])}]}
                        if conversation.pk in previous
                        else {}
                    ),
                }
            )
        )
        previous[conversation.pk] = message.uuid
    for visit in appointments_selectors.visits_for_export(actor=actor, patient=patient):
        included.add(Category.VISITS)
        entries.append(_entry(_appointment(visit, patient, subject)))
    for category in sorted(included):
        audit.record(
            actor=actor,
            patient=patient,
            category=category,
            action=Action.EXPORT,
            object_type="fhir.Bundle",
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": entries,
    }


# --- The equity view as a MeasureReport ----------------------------------------------------


def equity_measure_report(table) -> dict:
    """The equity table (already suppressed) as a FHIR R4 MeasureReport of type summary: one
    group per figure, its score for everyone and one stratum per group of the chosen
    description. A hidden figure is not sent at all: its stratum carries only its label."""
    from . import equity

    def score(value, column):
        if value in (None, equity.HIDDEN):
            return None
        return {"value": round(float(value), 2)} | (
            {"unit": "patients"} if column.key == "patients" else {}
        )

    groups = []
    for column in table.columns:
        stratum = []
        for g, label in table.groups:
            one = {"value": {"text": label}}
            if (s := score(table.rows[g][column.key], column)) is not None:
                one["measureScore"] = s
            stratum.append(one)
        group = {
            "code": {
                "coding": [{"system": f"{SYSTEM}/equity", "code": column.key}],
                "text": column.label,
            },
            "stratifier": [
                {
                    "code": [{"text": table.dimension.label}],
                    "stratum": stratum,
                }
            ],
        }
        if (s := score(table.total[column.key], column)) is not None:
            group["measureScore"] = s
        groups.append(group)
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": f"{SYSTEM}/measures/equity",
        "date": timezone.now().isoformat(),
        "period": {"start": table.since.isoformat(), "end": table.until.isoformat()},
        "reporter": {"display": ", ".join(p.name for p in table.practices)},
        "group": groups,
    }
# A visit's status in FHIR R4's words (Appointment.status).
APPOINTMENT_STATUS = {
    "booked": "booked",
    "attended": "fulfilled",
    "cancelled": "cancelled",
    "missed": "noshow",
}


def _appointment(visit, patient, subject) -> dict:
    """One visit as a FHIR R4 Appointment: who, when, where, and what became of it."""
    participants = [
        {"actor": subject, "status": "accepted"},
        {"actor": {"display": visit.clinician.full_name}, "status": "accepted"},
    ]
    if visit.also_with is not None:
        participants.append({"actor": {"display": visit.also_with.full_name}, "status": "accepted"})
    resource = {
        "resourceType": "Appointment",
        "id": str(visit.uuid),
        "identifier": [{"system": f"{SYSTEM}:visit", "value": str(visit.uuid)}],
        "status": APPOINTMENT_STATUS[visit.status],
        "serviceType": [{"text": visit.get_kind_display()}],
        "start": visit.starts_at.isoformat(),
        "end": visit.ends_at.isoformat(),
        "minutesDuration": visit.minutes,
        "created": visit.created_at.isoformat(),
        "participant": participants,
    }
    where = ", ".join(part for part in (visit.place, visit.video_link) if part)
    if where:
        resource["comment"] = where
    if visit.status == "cancelled":
        by_patient = visit.cancelled_by_id == patient.user_id
        resource["cancelationReason"] = {
            "text": "Cancelled by the patient" if by_patient else "Cancelled by the clinic"
        }
    if visit.change_asked:
        resource["patientInstruction"] = (
            f"The patient asked to {visit.change_asked} it: {visit.change_note}".rstrip(": ")
        )
    return resource
