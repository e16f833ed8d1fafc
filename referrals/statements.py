"""The fixed words every release carries (45 CFR 164.508(c)(2); 42 CFR 2.31 and 2.32).

Changing these is a new STATEMENT_VERSION on Release: signed releases keep the version
their patient read.
"""

RIGHT_TO_REVOKE = (
    "You may revoke this authorisation at any time, in Concord (My releases → Revoke) or in writing to either "
    "clinician named here. Revocation takes effect at once, except to the extent that information was already "
    "disclosed in reliance on it."
)
NOT_CONDITIONED = (
    "Your treatment, payment, enrolment or eligibility for benefits will not be conditioned on whether you sign "
    "this authorisation."
)
REDISCLOSURE = (
    "Information disclosed under this authorisation may be redisclosed by the recipient and may then no longer be "
    "protected by federal privacy rules (HIPAA)."
)
PART2_NOTICE = (
    "42 CFR Part 2 notice: this information has been disclosed to you from records protected by federal "
    "confidentiality rules (42 CFR part 2). The federal rules prohibit you from making any further disclosure of "
    "information in this record that identifies a patient as having or having had a substance use disorder either "
    "directly, by reference to publicly available information, or through verification of such identification by "
    "another person unless further disclosure is expressly permitted by the written consent of the individual whose "
    "information is being disclosed or as otherwise permitted by 42 CFR part 2. A general authorization for the "
    "release of medical or other information is NOT sufficient for this purpose (see § 2.31). The federal rules "
    "restrict any use of the information to investigate or prosecute with regard to a crime any patient with a "
    "substance use disorder, except as provided at §§ 2.12(c)(5) and 2.65."
)
PART2_CONSENT = (
    "I understand that my substance use disorder records are protected under 42 CFR part 2 and cannot be disclosed "
    "without my written consent unless otherwise provided for by the regulations. I consent to the disclosure of the "
    "substance use disorder information described here, to the recipient named here, for the purpose stated."
)


def statements(*, substance_use: bool) -> list[tuple[str, str]]:
    """The statements, headed, in the order a release shows them."""
    items = [
        ("Your right to revoke", RIGHT_TO_REVOKE),
        ("Treatment does not depend on this", NOT_CONDITIONED),
        ("Redisclosure", REDISCLOSURE),
    ]
    if substance_use:
        items += [
            ("Substance-use information (42 CFR Part 2)", PART2_CONSENT),
            ("Notice to the recipient", PART2_NOTICE),
        ]
    return items
