#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""The `sql` verifier, an Arbiter process plugin (standard-library Python only).

Protocol: one JSON request per line on stdin, one JSON answer per line on stdout, in order.
Request:  {"id": …, "verifier": "sql", "response": "…```sql\\nSELECT …\\n```", "reference":
           {"schema": "CREATE TABLE …; INSERT …;", "query": "SELECT …"}, "options": {…}}
Answer:   {"id": …, "score": 1, "passed": true, "reason": "same_rows", "details": {…}}
       or {"id": …, "error": {"code": "invalid_reference", "message": "…"}}

The gold and candidate queries run against a fresh in-memory SQLite database built from the schema. The candidate
runs read-only (PRAGMA query_only, no ATTACH), with a budget of SQLite virtual-machine steps instead of a timer, a
cap on the rows it may return, a 10 MB limit on any one value and a 2 GiB address-space limit on the process.
Results match as multisets of rows, or as sequences when the gold query has a top-level ORDER BY (option
"ordered": "auto" | "always" | "never"). Numbers compare by value (1 = 1.0), non-integral reals to 12 significant
digits; column names are ignored.
"""

import json
import re
import resource
import sqlite3
import sys
from collections import Counter

STEP_GRANULARITY = 1000  # SQLite instructions between two progress-handler calls
DEFAULT_OPTIONS = {"ordered": "auto", "max_steps": 10_000_000, "max_rows": 100_000}
MAX_VALUE_BYTES = 10_000_000  # SQLITE_LIMIT_LENGTH: zeroblob(1e9) fails at once instead of allocating
MEMORY_BYTES = 2 << 30  # address-space limit of this process: a query that still finds a way to grow fails


class BadReference(Exception):
    pass


class BadOptions(Exception):
    pass


def fenced_blocks(text):
    """(language, body) of every fenced block, read line by line (linear in the text, whatever it holds)."""
    blocks, language, body = [], None, []
    for line in text.split("\n"):
        stripped = line.strip()
        if language is None:
            if stripped.startswith("```"):
                language, body = stripped[3:].strip().split(" ")[0].lower(), []
        elif stripped.startswith("```"):
            blocks.append((language, "\n".join(body)))
            language = None
        else:
            body.append(line)
    return blocks


def extract_query(response):
    """The last ```sql block; else the last fenced block without a language; else None."""
    blocks = fenced_blocks(response)
    for wanted in (("sql", "sqlite", "postgresql", "mysql"), ("",)):
        chosen = [body for lang, body in blocks if lang in wanted]
        if chosen:
            return chosen[-1].strip()
    return None


def strip_literals(sql):
    """The query with string literals, quoted names and comments blanked (so keywords inside them are not seen)."""
    sql = re.sub(r"--[^\n]*", " ", sql)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]", "''", sql)


def has_top_level_order_by(sql):
    text = strip_literals(sql)
    for match in re.finditer(r"\border\s+by\b", text, re.IGNORECASE):
        prefix = text[: match.start()]
        if prefix.count("(") == prefix.count(")"):
            return True
    return False


def normalise(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if value != value:
            return ("nan",)
        if value.is_integer() and abs(value) < 2**63:
            return int(value)
        return float(f"{value:.12g}")  # 12 significant digits: relative, so 1e-10 and 4e-10 differ
    if isinstance(value, bytes):
        return ("blob", value)
    return value


def run(connection, query, max_rows, budget):
    steps = [0]

    def progress():
        steps[0] += 1
        return 1 if steps[0] > budget else 0

    connection.set_progress_handler(progress, STEP_GRANULARITY)
    try:
        cursor = connection.execute(query)
        rows = cursor.fetchmany(max_rows + 1)
    finally:
        connection.set_progress_handler(None, 0)
    return [tuple(normalise(v) for v in row) for row in rows], steps[0] > budget


def deny_attach(action, *_):
    return sqlite3.SQLITE_DENY if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH) else sqlite3.SQLITE_OK


def read_options(sent):
    options = dict(DEFAULT_OPTIONS)
    for key, value in (sent or {}).items():
        if key not in options:
            raise BadOptions(f"verifier 'sql' has no option '{key}' (options: {', '.join(DEFAULT_OPTIONS)})")
        options[key] = value
    if options["ordered"] not in ("auto", "always", "never"):
        raise BadOptions("option 'ordered' must be one of 'auto', 'always', 'never'")
    for key in ("max_steps", "max_rows"):
        if not isinstance(options[key], int) or isinstance(options[key], bool) or options[key] < 1:
            raise BadOptions(f"option '{key}' must be a positive integer")
    return options


def verify(request):
    options = read_options(request.get("options"))
    reference = request.get("reference")
    if isinstance(reference, str):
        try:
            reference = json.loads(reference)
        except ValueError:
            pass
    if not isinstance(reference, dict) or not isinstance(reference.get("schema"), str) \
            or not isinstance(reference.get("query"), str):
        raise BadReference('the reference must be {"schema": "<CREATE/INSERT statements>", "query": "<gold SQL>"}')
    response = request.get("response")
    if not isinstance(response, str):
        raise BadReference("the response must be a string")

    candidate = extract_query(response)
    if not candidate:
        return {"score": 0, "passed": False, "reason": "no_sql", "details": {"message": "no ```sql block in the response"}}

    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    try:
        try:
            connection.executescript(reference["schema"])
            gold, _ = run(connection, reference["query"], options["max_rows"], 10**12)
        except sqlite3.Error as error:
            raise BadReference(f"the reference schema or gold query fails: {error}")
        if len(gold) > options["max_rows"]:
            raise BadReference(f"the gold query returns more than max_rows ({options['max_rows']}) rows")
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(deny_attach)
        details = {"query": candidate[:2000]}
        try:
            got, over_budget = run(connection, candidate, options["max_rows"], options["max_steps"] // STEP_GRANULARITY)
        except MemoryError:
            details["memory_bytes"] = MEMORY_BYTES
            return {"score": 0, "passed": False, "reason": "memory_limit", "details": details}
        except (sqlite3.Error, sqlite3.Warning, ValueError, OverflowError) as error:
            message = str(error)
            if message == "interrupted":
                details["max_steps"] = options["max_steps"]
                return {"score": 0, "passed": False, "reason": "budget", "details": details}
            details["error"] = message[:500]
            return {"score": 0, "passed": False, "reason": "sql_error", "details": details}
        if over_budget:
            details["max_steps"] = options["max_steps"]
            return {"score": 0, "passed": False, "reason": "budget", "details": details}
        if len(got) > options["max_rows"]:
            details["max_rows"] = options["max_rows"]
            return {"score": 0, "passed": False, "reason": "too_many_rows", "details": details}
    finally:
        connection.close()

    ordered = options["ordered"] == "always" or (options["ordered"] == "auto" and has_top_level_order_by(reference["query"]))
    same = gold == got if ordered else Counter(gold) == Counter(got)
    details.update({"ordered": ordered, "expected_rows": len(gold), "rows": len(got)})
    if same:
        return {"score": 1, "passed": True, "reason": "same_rows", "details": details}
    if gold and got and len(gold[0]) != len(got[0]):
        details["columns"] = [len(gold[0]), len(got[0])]
    missing = list((Counter(gold) - Counter(got)).elements())[:3]
    extra = list((Counter(got) - Counter(gold)).elements())[:3]
    if missing or extra:
        details["missing"] = [[str(value)[:100] for value in row[:20]] for row in missing]
        details["unexpected"] = [[str(value)[:100] for value in row[:20]] for row in extra]
    return {"score": 0, "passed": False, "reason": "wrong_rows" if (missing or extra) else "wrong_order",
            "details": details}


def answer(line):
    try:
        request = json.loads(line)
    except ValueError as error:
        return {"id": None, "error": {"code": "invalid_json", "message": str(error)}}
    if not isinstance(request, dict):
        return {"id": None, "error": {"code": "invalid_request", "message": "a request must be a JSON object"}}
    identifier = request.get("id")
    try:
        result = verify(request)
    except BadReference as error:
        return {"id": identifier, "error": {"code": "invalid_reference", "message": str(error)}}
    except BadOptions as error:
        return {"id": identifier, "error": {"code": "invalid_options", "message": str(error)}}
    result["id"] = identifier
    return result


def main():
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    except (ValueError, OSError):
        pass  # a lower limit is already set
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        out.write(json.dumps(answer(line), ensure_ascii=False, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
