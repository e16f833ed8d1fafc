"""Clinical terms and labels in the plain-language summary: a pure matcher, no database.

The person reads their summary. Words like "MDD", "SI" or "non-compliant" describe a chart,
not a person, so the summary page warns before saving text that uses them. The list itself is
data (stories.SummaryTerm), editable by the clinic; this module only finds the words.
"""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SHIPPED = Path(__file__).resolve().parent / "data" / "summary_terms.csv"


@dataclass(frozen=True)
class Term:
    """One entry of the list. `match_case`: an abbreviation (SI) matches only as written, so
    "si" in a sentence and "Si" in a name are not it; a word (borderline) matches in any case."""

    text: str
    match_case: bool = False
    instead: str = ""


@dataclass(frozen=True)
class Found:
    term: Term
    as_written: str


def _pattern(term: Term) -> re.Pattern:
    # Whole words only: no letter, digit or underscore may touch either end ("SI" is not in
    # "SIT" or "BASIS"); a term of several words matches across any run of spaces.
    words = [re.escape(part) for part in term.text.split()]
    flags = 0 if term.match_case else re.IGNORECASE
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", flags)


def find_terms(text: str, terms: Iterable[Term]) -> list[Found]:
    """The listed terms the text uses, each once, in the order they first appear. A term
    inside a longer one found at the same place ("resistant" in "treatment-resistant") is
    the longer one's, not a second finding."""
    hits = []
    for term in terms:
        if not term.text.strip():
            continue
        for match in _pattern(term).finditer(text or ""):
            hits.append(
                (match.start(), -match.end(), term.text.lower(), Found(term, match.group(0)))
            )
    hits.sort(key=lambda hit: hit[:3])
    seen, spans, found = set(), [], []
    for start, neg_end, key, hit in hits:
        end = -neg_end
        if any(s <= start and end <= e for s, e in spans):
            continue
        spans.append((start, end))
        if key not in seen:
            seen.add(key)
            found.append(hit)
    return found


def read_csv(path: str | Path) -> list[Term]:
    """A term list from a CSV file with the columns term, match_case (yes/no), instead.
    Raises ValueError naming the line that is wrong."""
    terms = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"term", "match_case"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError("The file needs the columns term, match_case and instead.")
        for line, row in enumerate(reader, start=2):
            text = " ".join((row.get("term") or "").split())
            if not text:
                raise ValueError(f"Line {line}: the term is empty.")
            if len(text) > 60:
                raise ValueError(f"Line {line}: a term is at most 60 characters.")
            flag = (row.get("match_case") or "").strip().lower()
            if flag not in ("yes", "no"):
                raise ValueError(f"Line {line}: match_case is yes or no, not {flag!r}.")
            terms.append(Term(text, flag == "yes", (row.get("instead") or "").strip()[:200]))
    return terms
