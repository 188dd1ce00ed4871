"""Request templates, sans-IO: ``{placeholder}`` fields checked once at config load, filled per
message.

``str.format`` syntax with plain names only (``{to}``, ``{text}``, ``{api_key}``); ``{{`` and
``}}`` are literal braces. No attribute access, indexing, conversions or format specs: a
template is data from a config file, and ``"{to.__class__}"`` must be an error, not a lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from string import Formatter
from urllib.parse import quote

MESSAGE_FIELDS = (
    "to",
    "text",
    "subject",
    "body",
    "id",
    "incident",
    "rule",
    "channel",
    "site",
)
"""What every message offers: the recipient, the SMS text (subject and body, cut to fit), the
request's own fields, its event id and the site. Secrets add their own names."""


def placeholders(template: str) -> list[str]:
    """The field names in ``template``; ValueError naming the first problem."""
    names = []
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:  # "Single '}' encountered in format string"
        raise ValueError(f"{exc} (write {{{{ or }}}} for a literal brace)") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or not name.isidentifier():
            raise ValueError(f"{{{name}}} is not a placeholder name (use {{to}}, {{text}}, …)")
        if spec or conversion:
            raise ValueError(f"{{{name}}}: no format specs or conversions in templates")
        names.append(name)
    return names


def check(template: str, known: Iterable[str]) -> str:
    """``template`` if every placeholder is known; otherwise ValueError naming it."""
    allowed = set(known)
    for name in placeholders(template):
        if name not in allowed:
            raise ValueError(
                f"unknown placeholder {{{name}}}; known: "
                + ", ".join(f"{{{k}}}" for k in sorted(allowed))
            )
    return template


def render(template: str, values: Mapping[str, str], escape: Callable[[str], str] = str) -> str:
    """Fill a checked template; ``escape`` applies to every value (``url_escape`` in URLs)."""
    return template.format_map({k: escape(v) for k, v in values.items()})


def url_escape(value: str) -> str:
    """Percent-encode everything but unreserved characters: a value cannot add a parameter."""
    return quote(value, safe="")


def header_escape(value: str) -> str:
    """A header value stays one line whatever the message says."""
    return " ".join(value.replace("\r", "\n").split("\n"))
