"""The fixed words every release carries (45 CFR 164.508(c)(2); 42 CFR 2.31 and 2.32).

Changing these is a new version here and Release.STATEMENT_VERSION: a signed release keeps
(and prints) the words of the version its patient read, so old versions stay, word for word.
"""

CURRENT = 2

# Version 1, as signed until the two redisclosure statements were scoped to their records.
_V1 = {
    "revoke": (
        "You may revoke this authorisation at any time, in Concord (My releases → Revoke) or in writing to "
        "either clinician named here. Revocation takes effect at once, except to the extent that information was "
        "already disclosed in reliance on it."
    ),
    "not_conditioned": (
        "Your treatment, payment, enrolment or eligibility for benefits will not be conditioned on whether you "
        "sign this authorisation."
    ),
    "redisclosure": (
        "Information disclosed under this authorisation may be redisclosed by the recipient and may then no "
        "longer be protected by federal privacy rules (HIPAA)."
    ),
    "redisclosure_heading": "Redisclosure",
    "part2_consent": (
        "I understand that my substance use disorder records are protected under 42 CFR part 2 and cannot be "
        "disclosed without my written consent unless otherwise provided for by the regulations. I consent to the "
        "disclosure of the substance use disorder information described here, to the recipient named here, for "
        "the purpose stated."
    ),
    "part2_notice_heading": "Notice to the recipient",
    "part2_notice_scope": "",
}

# The 42 CFR 2.32 notice itself, unchanged between versions.
_PART2_NOTICE = (
    "this information has been disclosed to you from records protected by federal confidentiality rules (42 CFR "
    "part 2). The federal rules prohibit you from making any further disclosure of information in this record "
    "that identifies a patient as having or having had a substance use disorder either directly, by reference to "
    "publicly available information, or through verification of such identification by another person unless "
    "further disclosure is expressly permitted by the written consent of the individual whose information is "
    "being disclosed or as otherwise permitted by 42 CFR part 2. A general authorization for the release of "
    "medical or other information is NOT sufficient for this purpose (see § 2.31). The federal rules restrict any "
    "use of the information to investigate or prosecute with regard to a crime any patient with a substance use "
    "disorder, except as provided at §§ 2.12(c)(5) and 2.65."
)

# Version 2: each redisclosure statement says which records it governs, so that "may be
# redisclosed" (HIPAA) and "prohibit you from making any further disclosure" (Part 2) no longer
# read as two answers to the same question. US spelling.
_V2 = {
    "revoke": (
        "You may revoke this authorization at any time, in Concord (My releases → Revoke) or in writing to "
        "either clinician named here. Revocation takes effect at once, except to the extent that information was "
        "already disclosed in reliance on it."
    ),
    "not_conditioned": (
        "Your treatment, payment, enrollment or eligibility for benefits will not be conditioned on whether you "
        "sign this authorization."
    ),
    "redisclosure": (
        "Health information disclosed under this authorization, other than substance use disorder records "
        "protected by 42 CFR part 2, may be redisclosed by the recipient and may then no longer be protected by "
        "federal privacy rules (HIPAA). Substance use disorder records, if this authorization includes them, are "
        "governed by 42 CFR part 2 instead: the recipient may not redisclose them except as the Part 2 notice "
        "allows."
    ),
    "redisclosure_heading": "Redisclosure of other health information (HIPAA)",
    "part2_consent": _V1["part2_consent"],
    "part2_notice_heading": "Notice to the recipient about the substance use disorder records (42 CFR part 2)",
    "part2_notice_scope": (
        "This notice governs the substance use disorder records disclosed under this authorization; the HIPAA "
        "redisclosure statement above does not apply to them. "
    ),
}

_VERSIONS = {1: _V1, 2: _V2}

# The words of the current version, for pages and tests that quote them.
RIGHT_TO_REVOKE = _V2["revoke"]
NOT_CONDITIONED = _V2["not_conditioned"]
REDISCLOSURE = _V2["redisclosure"]
PART2_CONSENT = _V2["part2_consent"]
PART2_NOTICE = _V2["part2_notice_scope"] + "42 CFR Part 2 notice: " + _PART2_NOTICE


def statements(*, substance_use: bool, version: int = CURRENT) -> list[tuple[str, str]]:
    """The statements of one version, headed, in the order a release shows them. KeyError for a
    version that never existed."""
    words = _VERSIONS[version]
    items = [
        ("Your right to revoke", words["revoke"]),
        ("Treatment does not depend on this", words["not_conditioned"]),
        (words["redisclosure_heading"], words["redisclosure"]),
    ]
    if substance_use:
        items += [
            ("Substance-use information (42 CFR Part 2)", words["part2_consent"]),
            (
                words["part2_notice_heading"],
                words["part2_notice_scope"] + "42 CFR Part 2 notice: " + _PART2_NOTICE,
            ),
        ]
    return items
