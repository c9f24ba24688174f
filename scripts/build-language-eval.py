#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Builds fixtures/language/sentences.jsonl: short, human-written sentences in many languages, taken from the
compiled gettext catalogs (.mo) that two permissively licensed PyPI packages ship (Trac, ihatemoney) and, for
Arabic, Hindi and Thai, which those catalogs barely cover, from the UI translation files (JSON) of a third
(apache-airflow-core).

    pip download --no-deps -d /tmp/langsrc trac==1.6 ihatemoney==7.2.1 apache-airflow-core==3.3.2
    python3 scripts/build-language-eval.py /tmp/langsrc > fixtures/language/sentences.jsonl

With --dev it builds the development set instead, fixtures/language/dev-sentences.jsonl, from the catalogs of two
other packages (Wagtail, pretix). Model choices (such as how the two n-gram models are weighed) are made on the
development set only; the evaluation set above is only measured.

    pip download --no-deps -d /tmp/devsrc wagtail==8.0.1 pretix==2026.8.0
    python3 scripts/build-language-eval.py --dev /tmp/devsrc > fixtures/language/dev-sentences.jsonl

Each catalog's translations (msgstr) become rows of their language; English rows are the source strings
(msgid). Placeholders, markup and formatting are removed, and only strings of 30 to 80 characters that are
mostly letters are kept (the benchmark's target is about 50 characters). At most PER_LANGUAGE rows per language,
spread evenly over the catalog's sorted strings, so the set is reproducible. Never point this at the catalogs of
Django or Sphinx: they are kept for independent evaluation.
"""
import gettext
import json
import os
import re
import sys
import unicodedata
import zipfile

PER_LANGUAGE = 80
SOURCES = [("Trac-1.6-py3-none-any.whl", "trac/locale"), ("ihatemoney-7.2.1-py3-none-any.whl", "ihatemoney/translations")]
DEV_SOURCES = [("wagtail-8.0.1-py3-none-any.whl", "wagtail/locale"),
               ("wagtail-8.0.1-py3-none-any.whl", "wagtail/[a-z_]+/locale"),
               ("pretix-2026.8.0-py3-none-any.whl", "pretix/locale")]
# Catalog locale -> ISO 639-1 code of the model. Locales of languages the model lacks are skipped.
LOCALES = {
    "ar": "ar", "bn": "bn", "ca": "ca", "cs": "cs", "da": "da", "de": "de", "el": "el", "es": "es", "et": "et",
    "fa": "fa", "fi": "fi", "fr": "fr", "he": "he", "hi": "hi", "hu": "hu", "id": "id", "it": "it", "ja": "ja",
    "kn": "kn", "ko": "ko", "nb": "no", "nb_NO": "no", "nl": "nl", "pl": "pl", "pt": "pt", "pt_BR": "pt", "ro": "ro",
    "ru": "ru", "sl": "sl", "sq": "sq", "sv": "sv", "ta": "ta", "te": "te", "th": "th", "tr": "tr", "uk": "uk",
    "ur": "ur", "vi": "vi", "zh_CN": "zh", "zh_Hans": "zh", "zh_TW": "zh",
    # Further spellings in the development catalogs.
    "af": "af", "bg": "bg", "cy": "cy", "he_IL": "he", "hr": "hr", "hr_HR": "hr", "id_ID": "id", "ja_JP": "ja",
    "lt": "lt", "lv": "lv", "nb": "no", "pt_PT": "pt", "sk": "sk", "sk_SK": "sk", "tr_TR": "tr", "zh_Hant": "zh",
    "zh": "zh",
}
PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifr]|\{[^{}]*\}|\$\{[^}]*\}")
MARKUP = re.compile(r"\{\s*\}|<[^<>]*>|&[a-z]+;|\[\[[^\]]*\]\]|\[[^\]]*\]|`[^`]*`|\*\*?|__|=>")


def clean(text):
    text = PLACEHOLDER.sub(" ", text)
    text = MARKUP.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip(" :;,-")
    return text


def usable(text):
    if not 30 <= len(text) <= 80:
        return False
    letters = sum(unicodedata.category(ch)[0] in "LM" for ch in text)
    return letters >= 0.6 * len(text.replace(" ", "")) and "http" not in text and "@" not in text


def catalogs(folder, sources, pattern=r"messages\.mo"):
    for wheel, prefix in sources:
        with zipfile.ZipFile(os.path.join(folder, wheel)) as archive:
            for name in sorted(archive.namelist()):
                match = re.fullmatch(prefix + r"/([^/]+)/LC_MESSAGES/" + pattern, name)
                if match:
                    with archive.open(name) as handle:
                        try:
                            catalog = gettext.GNUTranslations(handle)
                        except ValueError as error:  # a malformed header (plural forms); nothing to read
                            print(f"skipped {wheel}:{name}: {error}", file=sys.stderr)
                            continue
                        yield wheel.split("-")[0], match.group(1), catalog


AIRFLOW = ("apache_airflow_core-3.3.2-py3-none-any.whl", "airflow/ui/dist/i18n/locales", {"ar", "hi", "th"})


def strings(value, key=""):
    """The strings of a nested JSON object, by dotted key."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from strings(inner, f"{key}.{name}")
    elif isinstance(value, str):
        yield key, value


def airflow(folder):
    """Airflow's UI translations of the few languages the catalogs lack, as (package, locale, {english: text})."""
    wheel, prefix, locales = AIRFLOW
    with zipfile.ZipFile(os.path.join(folder, wheel)) as archive:
        def load(locale):
            merged = {}
            for name in sorted(archive.namelist()):
                if name.startswith(f"{prefix}/{locale}/") and name.endswith(".json"):
                    merged.update(strings(json.load(archive.open(name)), name.rsplit("/", 1)[1]))
            return merged
        english = load("en")
        for locale in sorted(locales):
            translated = load(locale)
            yield "apache-airflow-core", locale, {english[k]: v for k, v in translated.items() if k in english}


def main(folder, dev=False):
    rows = {}
    english = set()
    if dev:
        books = [(package, locale, catalog._catalog)
                 for package, locale, catalog in catalogs(folder, DEV_SOURCES, r"(?:django|djangojs)\.mo")]
    else:
        books = [(package, locale, catalog._catalog) for package, locale, catalog in catalogs(folder, SOURCES)]
        books += list(airflow(folder))
    for package, locale, catalog in books:
        language = LOCALES.get(locale)
        for source, translated in catalog.items():
            if not isinstance(source, str) or not source or not translated or translated == source:
                continue
            english.add((package, clean(source)))
            if language:
                rows.setdefault(language, set()).add((package, locale, clean(translated)))
    rows["en"] = {(package, "en", text) for package, text in english}
    for language in sorted(rows):
        chosen = sorted(row for row in rows[language] if usable(row[2]))
        step = max(1, len(chosen) / PER_LANGUAGE)
        picked = [chosen[int(i * step)] for i in range(min(PER_LANGUAGE, len(chosen)))]
        for package, locale, text in picked:
            print(json.dumps({"language": language, "text": text, "source": f"{package}:{locale}"}, ensure_ascii=False))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    development = "--dev" in arguments
    arguments = [argument for argument in arguments if argument != "--dev"]
    main(arguments[0] if arguments else ("/tmp/devsrc" if development else "/tmp/langsrc"), dev=development)
