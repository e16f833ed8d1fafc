"""Notes may be written in Markdown; what is shown is sanitised HTML.

The parser is markdown-it-py (CommonMark), whose time grows in step with the text, whatever
its shape: python-markdown took seconds on a few kilobytes of nested quotes, runs of `*`
or brackets, and a page showing such a note hung its worker. The text is also bounded
(`MAX_CHARS`, enforced by the note model), so the worst case is a known small figure, and
each distinct text is rendered once and then served from the cache.
"""

import hashlib
import html

import nh3
from django.core.cache import cache
from markdown_it import MarkdownIt

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

# Bump when the rendering changes, so cached HTML from the earlier renderer is not served.
_CACHE_VERSION = "md2"
_CACHE_SECONDS = 7 * 24 * 3600


def too_long_message(length: int) -> str:
    return (
        f"A note can be at most {MAX_CHARS:,} characters; this one has {length:,}. "
        "Split it into two notes."
    )


def render(text: str) -> str:
    """Sanitised HTML for `text`; bounded in time for any input."""
    text = text or ""
    key = f"{_CACHE_VERSION}:{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    result = _render(text)
    cache.set(key, result, _CACHE_SECONDS)
    return result


def _render(text: str) -> str:
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
