"""Reading a medicine's free-text strength, dose and directions: pure functions, no database.

A dose of "1/2 tablet" of a "100 mg" tablet is 50 mg taken. Showing "Sertraline 100 mg" beside
it invites a patient or a pharmacist to double the dose, so every place a medicine is named uses
`label()`, which says the amount taken when it can be worked out and what was written otherwise.
Nothing here guesses: text it cannot read with certainty gives None, and the caller shows the
words as the prescriber wrote them.
"""

import re
from fractions import Fraction

_WORDS = {
    "a": Fraction(1),
    "an": Fraction(1),
    "one": Fraction(1),
    "two": Fraction(2),
    "three": Fraction(3),
    "four": Fraction(4),
    "five": Fraction(5),
    "six": Fraction(6),
}
_PARTS = {"half": Fraction(1, 2), "quarter": Fraction(1, 4), "third": Fraction(1, 3)}
_VULGAR = {"½": Fraction(1, 2), "¼": Fraction(1, 4), "¾": Fraction(3, 4), "⅓": Fraction(1, 3)}
_VULGAR.update({"⅔": Fraction(2, 3)})

# What a dose may count: units of the dispensed form, never an amount ("50 mg" is not 50 tablets).
_FORM_WORDS = (
    "tablet|tablets|tab|tabs|capsule|capsules|cap|caps|pill|pills|lozenge|lozenges|"
    "patch|patches|puff|puffs|sachet|sachets|suppository|suppositories|film|films"
)
_NUMBER = r"\d+(?:\.\d+)?"
_COUNT = re.compile(
    rf"^(?:(?P<whole>\d+)\s+(?P<num>\d+)\s*/\s*(?P<den>\d+)"  # 1 1/2
    rf"|(?P<fnum>\d+)\s*/\s*(?P<fden>\d+)"  # 1/2
    rf"|(?P<vwhole>\d+)?\s*(?P<vulgar>[½¼¾⅓⅔])"  # ½, 1½
    rf"|(?P<dec>{_NUMBER}))$"  # 2, 1.5
)
_UNITS = {"mg": "mg", "mcg": "mcg", "µg": "mcg", "μg": "mcg", "g": "g", "units": "units"}
_UNITS.update({"unit": "units", "iu": "IU", "mmol": "mmol", "ml": "mL"})
_STRENGTH = re.compile(rf"^(?P<amount>\d{{1,3}}(?:,\d{{3}})+|{_NUMBER})\s*(?P<unit>[a-zµμ]+)$")


def _count_from_words(words: list[str]) -> Fraction | None:
    """ "one half", "half a", "a half", "one and a half", "two", "a quarter of a" → a count."""
    words = [w for w in words if w not in ("of", "a", "an")] or words
    if words in (["a"], ["an"]):
        return Fraction(1)
    total, part_seen = Fraction(0), False
    i = 0
    while i < len(words):
        word = words[i]
        if word in _WORDS and i + 1 < len(words) and words[i + 1] in _PARTS:
            total += _WORDS[word] * _PARTS[words[i + 1]]  # "one half", "three quarters"
            part_seen = True
            i += 2
            continue
        if word.rstrip("s") in _PARTS and word.rstrip("s") != word and not part_seen:
            return None  # "quarters" without a number
        if word in _PARTS and not part_seen:
            total += _PARTS[word]
            part_seen = True
        elif word in _WORDS and total == 0:
            total += _WORDS[word]
        elif word == "and" and total > 0 and not part_seen:
            pass
        else:
            return None
        i += 1
    return total if total > 0 else None


def units_in_dose(dose: str) -> Fraction | None:
    """How many units of the form one dose is: "1/2 tablet" → 1/2, "two capsules" → 2.

    None when the dose is not a plain count of units ("50 mg", "5 mL", "as directed", "1-2").
    """
    text = " ".join((dose or "").lower().replace("-", " - ").split())
    if not text:
        return None
    text = re.sub(rf"\s*(?:\b(?:of\s+)?(?:an?\s+)?(?:{_FORM_WORDS}))$", "", text).strip()
    if not text or re.search(r"[a-z]", text) and re.search(r"\d", text):
        return None
    match = _COUNT.match(text)
    if match:
        g = match.groupdict()
        if g["whole"] is not None:
            if int(g["den"]) == 0:
                return None
            count = int(g["whole"]) + Fraction(int(g["num"]), int(g["den"]))
        elif g["fnum"] is not None:
            if int(g["fden"]) == 0:
                return None
            count = Fraction(int(g["fnum"]), int(g["fden"]))
        elif g["vulgar"] is not None:
            count = int(g["vwhole"] or 0) + _VULGAR[g["vulgar"]]
        else:
            count = Fraction(g["dec"])
        return count if count > 0 else None
    if re.fullmatch(r"[a-z ]+", text):
        return _count_from_words(text.split())
    return None


def parse_strength(strength: str) -> tuple[Fraction, str] | None:
    """ "100 mg" → (100, "mg"), "0.5 mg" → (1/2, "mg"). None for "1%", "10 mg/5 mL", "50"."""
    text = "".join((strength or "").lower().split())
    match = _STRENGTH.match(text)
    if not match or match["unit"] not in _UNITS:
        return None
    amount = Fraction(match["amount"].replace(",", ""))
    if amount <= 0:
        return None
    return amount, _UNITS[match["unit"]]


def format_amount(amount: Fraction) -> str | None:
    """50 → "50", 12.5 → "12.5"; None when it has no exact short decimal (100/3)."""
    scaled = amount * 1000
    if scaled.denominator != 1:
        return None
    whole, thousandths = divmod(int(scaled), 1000)
    if not thousandths:
        return f"{whole:,}" if whole >= 10000 else str(whole)
    return f"{whole}.{thousandths:03d}".rstrip("0")


def dose_taken(strength: str, dose: str) -> str | None:
    """The amount one dose is, "50 mg", when both strength and dose can be read; else None."""
    count = units_in_dose(dose)
    parsed = parse_strength(strength)
    if count is None or parsed is None:
        return None
    amount = format_amount(count * parsed[0])
    return f"{amount} {parsed[1]}" if amount is not None else None


def _count_words(count: Fraction) -> str:
    if count.denominator == 1:
        return str(count.numerator)
    whole, rest = divmod(count.numerator, count.denominator)
    frac = f"{rest}/{count.denominator}"
    return f"{whole} {frac}" if whole else frac


_SINGULAR = {
    "tablets": "tablet", "tab": "tablet", "tabs": "tablet", "capsules": "capsule",
    "cap": "capsule", "caps": "capsule", "pills": "pill", "lozenges": "lozenge",
    "patches": "patch", "puffs": "puff", "sachets": "sachet", "suppositories": "suppository",
    "films": "film",
}  # fmt: skip


def _unit_word(dose: str, form: str) -> str | None:
    """What one unit of the dose is called: the dose's own word ("2 capsules", "2 puffs"), or
    the medicine's form when the dose is a bare count and the form is one of those units.
    None otherwise ("2" of an inhaler): the label then does not name a unit it cannot know."""
    match = re.search(rf"\b({_FORM_WORDS})$", " ".join((dose or "").lower().split()))
    if match:
        return _SINGULAR.get(match[1], match[1])
    form = (form or "").strip().lower()
    if not form:
        return "tablet"
    if re.fullmatch(_FORM_WORDS, form):
        return _SINGULAR.get(form, form)
    return None


def label(drug_name: str, strength: str, dose: str, form: str = "") -> str:
    """How a medicine is named everywhere: the amount taken first, the tablet it comes from after.

    "Sertraline 50 mg (1/2 of a 100 mg tablet)", "Sertraline 100 mg (2 × 50 mg tablets)",
    "Sertraline 50 mg". When the amount cannot be worked out, the name and strength as written.
    """
    taken = dose_taken(strength, dose)
    if taken is None:
        return " ".join(p for p in (drug_name.strip(), strength.strip()) if p)
    count = units_in_dose(dose)
    unit = _unit_word(dose, form)
    if unit is None:
        return " ".join(p for p in (drug_name.strip(), strength.strip()) if p)
    if count == 1:
        return f"{drug_name.strip()} {taken}"
    if count < 1:
        return f"{drug_name.strip()} {taken} ({_count_words(count)} of a {strength.strip()} {unit})"
    plural = {"patch": "patches", "suppository": "suppositories"}.get(unit, f"{unit}s")
    return f"{drug_name.strip()} {taken} ({_count_words(count)} × {strength.strip()} {plural})"


_FREQUENCIES = (
    (re.compile(r"\b(as needed|when needed|if needed|prn|p\.r\.n\.?)\b"), None),
    (re.compile(r"\b(every other day|alternate days)\b"), Fraction(1, 2)),
    (
        re.compile(
            r"\b(four times (a|per|each) day|four times daily|qid|q\.i\.d\.?|every 6 hours)\b"
        ),
        Fraction(4),
    ),
    (
        re.compile(
            r"\b(three times (a|per|each) day|three times daily|tid|t\.i\.d\.?|every 8 hours)\b"
        ),
        Fraction(3),
    ),
    (
        re.compile(
            r"\b(twice (a|per|each) day|twice daily|two times (a|per|each) day|bid|b\.i\.d\.?|every 12 hours)\b"
        ),
        Fraction(2),
    ),
)
_ONCE = re.compile(
    r"\b(once (a|per|each) day|once daily|daily|every day|each day|every morning|every evening|"
    r"every night|nightly|at night|at bedtime|in the morning|in the evening|qd|od|q\.d\.?|qhs|"
    r"mane|nocte)\b"
)
_MORNING = re.compile(r"\b(morning|mane)\b")
# A second dose in the day, or a clock time: more than one plain frequency, so not read.
_ANOTHER = re.compile(
    r"\b(another|again|a second|and one|and then|then)\b|\b\d{1,2}(:\d\d)?\s*(am|pm)\b|\bat \d"
)
_NIGHT = re.compile(r"\b(night|evening|bedtime|nocte)\b")


def doses_per_day(directions: str) -> Fraction | None:
    """How many times a day the directions say: "twice a day" → 2. None when not said plainly."""
    text = " ".join((directions or "").lower().split())
    if not text:
        return None
    for pattern, times in _FREQUENCIES:
        if pattern.search(text):
            return times
    if _MORNING.search(text) and _NIGHT.search(text):
        return Fraction(2)  # "one in the morning and one at night"
    if _ANOTHER.search(text):
        return None  # "in the morning, and another at 2pm": not one plain frequency
    if _ONCE.search(text):
        return Fraction(1)
    return None


def daily_units(dose: str, directions: str) -> Fraction | None:
    """Units of the form taken in a day, or None when the dose or the frequency is unclear."""
    count, times = units_in_dose(dose), doses_per_day(directions)
    if count is None or times is None:
        return None
    return count * times


def daily_amounts(before: dict, after: dict) -> tuple[Fraction | None, Fraction | None]:
    """The daily amount before and after a change, measured alike so that they compare.

    In the strength's unit (mg a day) when both strengths are read in the same unit, so that a
    change to 50 mg tablets counts; in units of the form when the strength did not change; else
    both None: the change cannot be measured.
    """
    units = [daily_units(s.get("dose", ""), s.get("directions", "")) for s in (before, after)]
    if None in units:
        return None, None
    strengths = [parse_strength(s.get("strength", "")) for s in (before, after)]
    if None not in strengths and strengths[0][1] == strengths[1][1]:
        return units[0] * strengths[0][0], units[1] * strengths[1][0]
    if (before.get("strength") or "").strip() == (after.get("strength") or "").strip():
        return units[0], units[1]
    return None, None
