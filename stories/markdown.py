"""Notes may be written in Markdown; what is shown is sanitised HTML."""

import markdown as md
import nh3

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


def render(text: str) -> str:
    html = md.markdown(text or "", extensions=["nl2br", "sane_lists"], output_format="html")
    return nh3.clean(
        html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, link_rel="noopener noreferrer nofollow"
    )
