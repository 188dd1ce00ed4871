"""The files ``anfang plugins new`` writes, kept as package data and filled in here.

Each file under ``plugin/`` ends in ``.tmpl`` (so no linter or type checker mistakes a template
for project code) and holds ``{{placeholders}}``; the ``package/`` folder becomes the plugin's
import package. An unknown placeholder is a bug in the template and fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

NAME_PATTERN = r"[a-z][a-z0-9_]{1,30}"
_NAME = re.compile(NAME_PATTERN)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_SUFFIX = ".tmpl"


@dataclass(frozen=True)
class PluginNames:
    """Every spelling of one plugin name that the template needs."""

    name: str

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(
                f"plugin name {self.name!r} must be 2-31 lower-case letters, digits or '_', "
                "starting with a letter (e.g. acme or acme_fire)"
            )

    @property
    def words(self) -> list[str]:
        return [word for word in self.name.split("_") if word]

    @property
    def placeholders(self) -> dict[str, str]:
        return {
            "name": self.name,
            "Camel": "".join(word.capitalize() for word in self.words),
            "codec": "-".join(self.words),
            "package": f"anfang_plugin_{self.name}",
            "dist": "anfang-plugin-" + "-".join(self.words),
        }


def _fill(text: str, values: dict[str, str], where: str) -> str:
    def one(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise KeyError(f"{where}: unknown placeholder {match.group(0)}") from None

    return _PLACEHOLDER.sub(one, text)


def _walk(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            out.extend(_walk(entry, f"{prefix}{entry.name}/"))
        elif entry.name.endswith(_SUFFIX):
            out.append((prefix + entry.name.removesuffix(_SUFFIX), entry))
    return out


def render_plugin(names: PluginNames) -> dict[str, str]:
    """Relative path → content of every file of a new plugin distribution."""
    values = names.placeholders
    files: dict[str, str] = {}
    for relative, entry in _walk(resources.files(__name__).joinpath("plugin")):
        path = relative
        if relative.startswith("package/"):
            path = values["package"] + relative.removeprefix("package")
        files[path] = _fill(entry.read_text(encoding="utf-8"), values, relative)
    return files
