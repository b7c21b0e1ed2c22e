"""Messages in the user's language: zh-CN by default, English on request.

Each package keeps its own catalogue in ``<package>/locales/{zh-CN,en}.json`` (a flat
map of key -> text with ``{name}`` placeholders); they are merged here. A test checks
that every key exists in every locale.

The catalogues (and the templates, :func:`tipline.web.templating.template_dirs`) are
found under :data:`PACKAGE_ROOTS`: ``tipline/`` itself, and every other top-level
package that registers its folder with :func:`register_package_root` when it is
imported (``villageaffairs`` does), so the base names no package above it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from tipline.settings import LOCALES

PACKAGE_ROOTS: list[Path] = [Path(__file__).resolve().parent.parent]
LOCALE_COOKIE = "lang"


def register_package_root(root: Path) -> None:
    """Search ``root`` too for ``**/locales/*.json`` and ``**/templates`` (again: harmless)."""
    if root not in PACKAGE_ROOTS:
        PACKAGE_ROOTS.append(root)
        catalogues.cache_clear()


@functools.cache
def catalogues() -> dict[str, dict[str, str]]:
    """Every locale's merged catalogue; a key defined twice is an error."""
    merged: dict[str, dict[str, str]] = {locale: {} for locale in LOCALES}
    for root in PACKAGE_ROOTS:
        for locale in LOCALES:
            for path in sorted(root.glob(f"**/locales/{locale}.json")):
                entries = json.loads(path.read_text(encoding="utf-8"))
                duplicated = merged[locale].keys() & entries.keys()
                if duplicated:
                    raise ValueError(f"{path}: keys defined twice: {sorted(duplicated)}")
                merged[locale].update(entries)
    return merged


def translate(locale: str, key: str, /, **values: Any) -> str:
    """The text of ``key`` in ``locale``; an unknown key shows as itself (and a test fails)."""
    catalogue = catalogues().get(locale) or catalogues()["zh-CN"]
    text = catalogue.get(key, key)
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def choose_locale(cookie_value: str | None, default: str) -> str:
    return cookie_value if cookie_value in LOCALES else default
