"""Every message a user can see exists in Chinese and in English."""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from pathlib import Path

import pytest

import tipline
from tipline.auth import Role
from tipline.errors import DomainError
from tipline.settings import LOCALES
from tipline.web.i18n import PACKAGE_ROOTS, catalogues
from tipline.web.refusals import _STATUS_KEYS
from tipline.web.templating import NAV

# Keys the web layer itself owns; every other package prefixes keys with its name.
WEB_PREFIXES = ("app.", "nav.", "home.", "role.", "error.", "web.")

TEMPLATE_KEY = re.compile(r"""\b_\(\s*(["'])(?P<key>[^"']+)\1\s*[,)]""")
# A message key handed to an exception, a translate() call or a message_key attribute.
PYTHON_KEY = re.compile(
    r"""(?:(?:Error|Exception|Invalid|NotFound|Forbidden|Conflict|Denied)\(\s*"""
    r"""|translate\([^,()]+,\s*|message_key\s*(?::\s*[^=]+)?=\s*)"""
    r""""(?P<key>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\""""
)


def _files(pattern: str) -> list[Path]:
    return sorted(path for root in PACKAGE_ROOTS if root.exists() for path in root.glob(pattern))


def _template_keys() -> dict[str, set[str]]:
    """Literal ``_("key")`` uses, by template file."""
    found: dict[str, set[str]] = {}
    for path in _files("**/templates/**/*.html"):
        keys = {match["key"] for match in TEMPLATE_KEY.finditer(path.read_text("utf-8"))}
        if keys:
            found[str(path)] = keys
    return found


def _python_keys() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in _files("**/*.py"):
        if "migrations" in path.parts:
            continue
        keys = {match["key"] for match in PYTHON_KEY.finditer(path.read_text("utf-8"))}
        if keys:
            found[str(path)] = keys
    return found


def _missing(used: dict[str, set[str]]) -> list[str]:
    merged = catalogues()
    return [
        f"{where}: {key} missing in {locale}"
        for where, keys in used.items()
        for key in sorted(keys)
        for locale in LOCALES
        if key not in merged[locale]
    ]


def test_every_catalogue_key_exists_in_every_locale() -> None:
    merged = catalogues()
    for locale in LOCALES:
        for other in LOCALES:
            missing = sorted(merged[locale].keys() - merged[other].keys())
            assert not missing, f"in {locale} but not in {other}: {missing}"


def test_each_package_has_both_catalogues_with_the_same_keys() -> None:
    """A package may not lean on another package's file for a missing translation."""
    problems = []
    for folder in sorted({path.parent for path in _files("**/locales/*.json")}):
        import json

        keys = {}
        for locale in LOCALES:
            path = folder / f"{locale}.json"
            if not path.exists():
                problems.append(f"{path} is missing")
                continue
            keys[locale] = set(json.loads(path.read_text("utf-8")))
        if len(keys) == len(LOCALES):
            first, *others = LOCALES
            for other in others:
                diff = sorted(keys[first] ^ keys[other])
                if diff:
                    problems.append(f"{folder}: {first} and {other} differ in {diff}")
    assert not problems, "\n".join(problems)


def test_package_keys_carry_the_package_name() -> None:
    import json

    wrong = []
    for path in _files("**/locales/zh-CN.json"):
        # A sub-package's catalogue carries its domain package's name.
        root = next(root for root in PACKAGE_ROOTS if path.is_relative_to(root))
        folders = path.relative_to(root).parts[:-2]
        package = folders[0] if folders else root.name
        allowed = WEB_PREFIXES if package == "web" else (f"{package}.",)
        wrong += [
            f"{path}: {key}"
            for key in json.loads(path.read_text("utf-8"))
            if not key.startswith(allowed)
        ]
    assert not wrong, "keys must start with their package name:\n" + "\n".join(wrong)


def test_placeholders_match_between_locales() -> None:
    merged = catalogues()
    formatter = string.Formatter()

    def names(text: str) -> set[str]:
        return {field for _, field, _, _ in formatter.parse(text) if field}

    mismatched = [
        key
        for key, text in merged["zh-CN"].items()
        if key in merged["en"] and names(text) != names(merged["en"][key])
    ]
    assert not mismatched, f"placeholders differ between zh-CN and en: {mismatched}"


def test_no_message_is_empty() -> None:
    empty = [
        f"{locale}: {key}"
        for locale, catalogue in catalogues().items()
        for key, text in catalogue.items()
        if not text.strip()
    ]
    assert not empty


def test_every_key_a_template_uses_exists_in_both_locales() -> None:
    used = _template_keys()
    assert used, "no template uses _() at all: the scan is broken"
    assert not _missing(used), "\n".join(_missing(used))


def test_every_key_the_code_raises_exists_in_both_locales() -> None:
    used = _python_keys()
    assert any("error.login_required" in keys for keys in used.values()), "scan is broken"
    assert not _missing(used), "\n".join(_missing(used))


def test_keys_built_at_run_time_exist() -> None:
    """Navigation labels, role names and status messages are looked up by variable."""
    used = {
        "NAV": {item.label for item in NAV},
        "Role": {f"role.{role.value}" for role in Role},
        "status pages": {*_STATUS_KEYS.values(), "error.internal", "error.csrf"},
    }
    assert not _missing(used), "\n".join(_missing(used))


def _import_everything() -> None:
    roots = [tipline]
    try:
        import villageaffairs

        roots.append(villageaffairs)
    except ImportError:
        pass
    for root in roots:
        for module in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
            if module.name.endswith(("__main__", "piccolo_conf")):
                continue
            importlib.import_module(module.name)


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_domain_error_has_a_message_in_both_locales() -> None:
    _import_everything()
    errors = _subclasses(DomainError)
    assert len(errors) >= 4
    used = {f"{cls.__module__}.{cls.__qualname__}": {cls.message_key} for cls in errors}
    assert not _missing(used), "\n".join(_missing(used))


@pytest.mark.parametrize("locale", LOCALES)
def test_chinese_and_english_really_differ(locale: str) -> None:
    """A catalogue copied from the other language would pass the key checks."""
    text = catalogues()[locale]["app.name"]
    has_cjk = any("\u4e00" <= char <= "\u9fff" for char in text)
    assert has_cjk == (locale == "zh-CN")
