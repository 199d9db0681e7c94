"""The analysis page's strings: the same keys and placeholders in all four
languages, every key the page asks for exists, and no stray script."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "pwa" / "src"
LANGS = ("en", "sr-Latn", "sr-Cyrl", "sl")
FILES = {lang: json.loads((ROOT / "i18n" / "analysis" / f"{lang}.json").read_text("utf-8")) for lang in LANGS}


def texts(message: str | dict[str, str]) -> list[str]:
    return [message] if isinstance(message, str) else list(message.values())


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{(\w+)\}", text))


def test_same_keys_and_placeholders() -> None:
    keys = set(FILES["en"])
    for lang in LANGS:
        assert set(FILES[lang]) == keys, lang
        for key, message in FILES[lang].items():
            english = placeholders(texts(FILES["en"][key])[0])
            for text in texts(message):
                assert text.strip(), f"{lang} {key} empty"
                assert placeholders(text) == english, f"{lang} {key}"


def test_scripts() -> None:
    for key, message in FILES["sr-Cyrl"].items():
        for text in texts(message):
            latin = [w for w in re.findall(r"[A-Za-zčćžšđČĆŽŠĐ]+", re.sub(r"\{\w+\}", "", text)) if w != "Patrol"]
            assert latin == [], f"sr-Cyrl {key}: {text}"
    for lang in ("en", "sr-Latn", "sl"):
        for key, message in FILES[lang].items():
            assert not any(re.search(r"[\u0400-\u04FF]", t) for t in texts(message)), f"{lang} {key}"


def test_every_literal_key_the_page_uses_exists() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in (ROOT / "analysis").glob("*.js*"):
        source = path.read_text("utf-8")
        used |= set(re.findall(r"\bL\(\s*'([\w.]+)'", source))
        prefixes |= set(re.findall(r"\bL\(\s*`([\w.]+)\$\{", source))
    assert len(used) > 50
    missing = sorted(k for k in used if k not in FILES["en"])
    assert missing == []
    for prefix in prefixes:  # keys built at run time: some key with that prefix exists
        assert any(k.startswith(prefix) for k in FILES["en"]), prefix
