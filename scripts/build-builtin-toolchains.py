#!/usr/bin/env python3
# Arbiter: rule-based rewards for reasoning models.
# Licensed under the Apache License, Version 2.0.
# SPDX-License-Identifier: Apache-2.0
"""Writes Sources/ArbiterCode/BuiltinToolchains.swift from verifiers/toolchains/.

The code verifier compiles the shipped toolchains in, so that `code` works without the directory; the files under
verifiers/toolchains/ are the source. Run this after editing them (a test fails while the two differ):

    python3 scripts/build-builtin-toolchains.py
"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "verifiers", "toolchains")
TARGET = os.path.join(ROOT, "Sources", "ArbiterCode", "BuiltinToolchains.swift")


def raw_string(text, indent):
    """A Swift raw multi-line string literal holding text, indented by `indent` spaces."""
    pad = " " * indent
    body = "\n".join((pad + line) if line else "" for line in text.rstrip("\n").split("\n"))
    return f'#"""\n{body}\n{pad}"""#'


def main():
    files = sorted(os.listdir(SOURCE))
    declarations = [name for name in files if name.endswith(".json")]
    harnesses = [name for name in files if not name.endswith(".json")]
    out = [
        "// Arbiter: rule-based rewards for reasoning models.",
        "// Licensed under the Apache License, Version 2.0.",
        "// SPDX-License-Identifier: Apache-2.0",
        "",
        "/// The toolchains and harnesses built into the code verifier: the same text as `verifiers/toolchains/` (a test keeps",
        "/// them equal), so that `code` works for python, c, cpp, javascript and bash without the directory.",
        "enum BuiltinToolchains {",
        "    /// Each toolchain declaration, by file name.",
        "    static let declarations: [(String, String)] = [",
    ]
    for name in declarations:
        with open(os.path.join(SOURCE, name)) as source:
            text = source.read()
        out += ["        (", f'            "{name}",', "            " + raw_string(text, 12), "        ),"]
    out += ["    ]", "", "    /// Harness and test-template code, by `code_file` name.", "    static let harnesses: [String: String] = ["]
    for name in harnesses:
        with open(os.path.join(SOURCE, name)) as source:
            text = source.read()
        out += [f'        "{name}": ' + raw_string(text, 8) + ","]
    out += ["    ]", "}", ""]
    with open(TARGET, "w") as target:
        target.write("\n".join(out))


if __name__ == "__main__":
    main()
