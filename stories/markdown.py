"""Notes may be written in Markdown; what is shown is sanitised HTML.

The parser is markdown-it-py (CommonMark), whose time grows in step with the text, whatever
its shape: python-markdown took seconds on a few kilobytes of nested quotes, runs of `*`
or brackets, and a page showing such a note hung its worker. The text is also bounded
(`MAX_CHARS`, enforced by the note model), so the worst case is a known small figure, and
each worker renders a text once and then serves it from memory. Not from the shared cache:
that is Redis, the task broker too, and a note's words have no business there.
"""

import functools
import html

import nh3
from markdown_it import MarkdownIt

from core.text import without_bidi_controls

# The longest Markdown text we accept (note bodies); the model refuses longer ones.
MAX_CHARS = 5_000

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h3",
    "h4",
    "a",
    "hr",
}

# A single newline is a line break (as people type notes). Raw HTML and every link go through
# to nh3, which is the one sanitiser: it drops tags not listed above (a <script> with its
# content) and hrefs of other schemes (javascript:), as it did behind python-markdown.
# Images are not parsed at all: nh3 would drop <img> anyway.
_parser = MarkdownIt("commonmark", {"html": True, "breaks": True}).disable("image")
_parser.validateLink = lambda url: True


def too_long_message(length: int) -> str:
    return (
        f"A note can be at most {MAX_CHARS:,} characters; this one has {length:,}. "
        "Split it into two notes."
    )


def render(text: str) -> str:
    """Sanitised HTML for `text`; bounded in time for any input."""
    return _cached(text or "")


# A few hundred notes of at most MAX_CHARS each: a few megabytes per worker at most.
@functools.lru_cache(maxsize=256)
def _cached(text: str) -> str:
    return _render(text)


def _render(text: str) -> str:
    # Bidi overrides would reorder the note's text on screen; what is shown is the text as
    # stored, in its order (the stored note keeps them, for the record).
    text = without_bidi_controls(text)
    if len(text) > MAX_CHARS:
        # Only text stored before the limit existed can be longer: shown as plain text.
        paragraphs = (html.escape(p).replace("\n", "<br>\n") for p in text.split("\n\n"))
        return "".join(f"<p>{p}</p>\n" for p in paragraphs if p.strip())
    return nh3.clean(
        _parser.render(text),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        link_rel="noopener noreferrer nofollow",
    )
