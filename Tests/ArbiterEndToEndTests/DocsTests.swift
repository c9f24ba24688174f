// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import ArbiterCore
import Foundation
import Testing

/// The documentation's pages, as path relative to the repository → text.
private func markdownPages() throws -> [String: String] {
    var pages: [String: String] = [:]
    for fixed in ["README.md", "clients/python/README.md", "fixtures/peer/README.md"] {
        pages[fixed] = try String(contentsOf: Paths.root.appendingPathComponent(fixed), encoding: .utf8)
    }
    let docs = Paths.root.appendingPathComponent("docs")
    let walker = FileManager.default.enumerator(at: docs, includingPropertiesForKeys: nil)
    while let url = walker?.nextObject() as? URL {
        guard url.pathExtension == "md" else { continue }
        let relative = "docs/" + url.path.dropFirst(docs.path.count + 1)
        pages[relative] = try String(contentsOf: url, encoding: .utf8)
    }
    return pages
}

/// The `<!-- options:NAME:begin -->` … `end` blocks of a text, by name, each with its markers; a name seen twice
/// maps to every occurrence. Markers count only as whole lines (as for `scripts/gen-option-docs`).
private func optionBlocks(_ text: String) -> [String: [String]] {
    var blocks: [String: [String]] = [:]
    var open: (name: String, lines: [Substring])? = nil
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if var current = open {
            current.lines.append(line)
            if line == "<!-- options:\(current.name):end -->" {
                blocks[current.name, default: []].append(current.lines.joined(separator: "\n"))
                open = nil
            } else {
                open = current
            }
        } else if line.hasPrefix("<!-- options:"), line.hasSuffix(":begin -->") {
            let name = line.dropFirst("<!-- options:".count).dropLast(":begin -->".count)
            if !name.isEmpty, !name.contains(":"), !name.contains(" ") { open = (String(name), [line]) }
        }
    }
    return blocks
}

/// What is wrong with the option tables of `pages` against `arbiter list --markdown`'s `listing`: a verifier
/// without a table, a table twice, a table that differs, a table of no verifier.
func optionTableProblems(listing: String, pages: [String: String]) -> [String] {
    let wanted = optionBlocks(listing)
    var found: [String: [(page: String, block: String)]] = [:]
    for (page, text) in pages {
        for (name, blocks) in optionBlocks(text) {
            found[name, default: []] += blocks.map { (page, $0) }
        }
    }
    var problems: [String] = []
    for (name, blocks) in wanted.sorted(by: { $0.key < $1.key }) {
        let places = found[name] ?? []
        if places.isEmpty {
            problems.append("'\(name)' has no option table in docs/")
        } else if places.count > 1 {
            problems.append("'\(name)' has \(places.count) option tables: \(places.map(\.page).sorted())")
        } else if places[0].block != blocks[0] {
            problems.append("the option table of '\(name)' in \(places[0].page) differs from arbiter list")
        }
    }
    for name in found.keys.sorted() where wanted[name] == nil {
        problems.append("an option table in docs/ names no verifier: '\(name)'")
    }
    return problems
}

/// Markdown text without fenced code blocks and inline code, where a `](x)` is not a link.
private func proseOnly(_ text: String) -> String {
    withoutFences(text).replacingOccurrences(of: "`[^`\n]*`", with: "", options: .regularExpression)
}

/// Markdown text without fenced code blocks.
private func withoutFences(_ text: String) -> String {
    var lines: [Substring] = []
    var inFence = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.trimmingCharacters(in: .whitespaces).hasPrefix("```") {
            inFence.toggle()
            continue
        }
        if !inFence { lines.append(line) }
    }
    return lines.joined(separator: "\n")
}

/// The relative link targets of a markdown page (no `http:`, `https:` or `mailto:`).
func relativeLinks(_ text: String) -> [String] {
    let prose = proseOnly(text)
    let pattern = try! NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
    let range = NSRange(prose.startIndex..., in: prose)
    return pattern.matches(in: prose, range: range).compactMap { match in
        let target = String(prose[Range(match.range(at: 1), in: prose)!])
        return ["http:", "https:", "mailto:"].contains { target.hasPrefix($0) } ? nil : target
    }
}

/// GitHub's anchor for a heading: lowercased, punctuation dropped, spaces as hyphens.
func headingAnchor(_ heading: String) -> String {
    String(heading.lowercased().compactMap { character -> Character? in
        if character == " " { return "-" }
        return character.isLetter || character.isNumber || character == "-" || character == "_" ? character : nil
    })
}

/// The anchors of a page's headings.
private func anchors(_ text: String) -> Set<String> {
    var result = Set<String>()
    for line in withoutFences(text).split(separator: "\n") where line.hasPrefix("#") {
        result.insert(headingAnchor(line.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces)))
    }
    return result
}

/// Links of `pages` (path relative to the repository → text) that lead nowhere: a file that does not exist, or an
/// anchor no heading of the target page has. `exists` says whether a repository path exists.
func brokenLinks(pages: [String: String], exists: (String) -> Bool) -> [String] {
    var broken: [String] = []
    for (page, text) in pages.sorted(by: { $0.key < $1.key }) {
        let directory = String(page.split(separator: "/").dropLast().joined(separator: "/"))
        for link in relativeLinks(text) {
            let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let target = parts[0].isEmpty ? page : normalized(directory + "/" + parts[0])
            guard !target.hasPrefix(".."), exists(target) else {
                broken.append("\(page): \(link) (no file \(target))")
                continue
            }
            if parts.count == 2, target.hasSuffix(".md") {
                let targetText = pages[target]
                    ?? (try? String(contentsOf: Paths.root.appendingPathComponent(target), encoding: .utf8)) ?? ""
                if !anchors(targetText).contains(parts[1]) { broken.append("\(page): \(link) (no heading #\(parts[1]))") }
            }
        }
    }
    return broken
}

/// A relative path with `.` and `..` resolved; a `..` that leaves the repository stays at the front.
private func normalized(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") where part != "." {
        if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
    }
    return parts.joined(separator: "/")
}

private func repositoryPathExists(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: Paths.root.appendingPathComponent(path).path)
}

@Suite("Documentation")
struct DocsTests {
    @Test("every verifier's option table in docs/ is what `arbiter list --markdown` declares")
    func optionTablesMatchTheRegistry() throws {
        let verifiers = Paths.root.appendingPathComponent("verifiers").path
        let markdown = try runArbiter(["list", "--markdown", "--verifiers", verifiers])
        #expect(markdown.status == 0, "\(markdown.stderrText)")
        let listing = String(decoding: markdown.stdout, as: UTF8.self)

        // The listing itself has a table for every verifier and a row for every option.
        let json = try runArbiter(["list", "--json", "--verifiers", verifiers])
        let entries = try JSONParser.parse(String(decoding: json.stdout, as: UTF8.self)).objectValue?["verifiers"]?
            .arrayValue ?? []
        #expect(entries.count >= 15, "the shipped registry has 15 verifiers")
        let blocks = optionBlocks(listing)
        for entry in entries {
            let name = try #require(entry.objectValue?["name"]?.stringValue)
            let block = try #require(blocks[name]?.first, "no table for '\(name)' in arbiter list --markdown")
            for option in entry.objectValue?["options"]?.arrayValue ?? [] {
                let optionName = try #require(option.objectValue?["name"]?.stringValue)
                #expect(block.contains("| `\(optionName)` |"), "option '\(optionName)' of '\(name)' has no row")
            }
        }

        let problems = optionTableProblems(listing: listing, pages: try markdownPages())
        #expect(problems.isEmpty, "run scripts/gen-option-docs:\n\(problems.joined(separator: "\n"))")
    }

    @Test("a stale, missing, doubled or unknown option table is reported (negative control)")
    func optionTableProblemsAreFound() {
        let table = "<!-- options:exact:begin -->\n| option | type | default | meaning |\n|---|---|---|---|\n"
            + "| `trim` | boolean | `true` | Trim. |\n<!-- options:exact:end -->"
        let listing = table + "\n<!-- options:regex:begin -->\nNo options.\n<!-- options:regex:end -->\n"
        let good = [
            "a.md": "# A\n\n" + table + "\n\nIn prose, `<!-- options:exatc:begin -->` is no marker.",
            "b.md": "<!-- options:regex:begin -->\nNo options.\n<!-- options:regex:end -->",
        ]
        #expect(optionTableProblems(listing: listing, pages: good).isEmpty)

        let stale = table.replacingOccurrences(of: "`true`", with: "`false`")
        #expect(optionTableProblems(listing: listing, pages: ["a.md": stale, "b.md": good["b.md"]!])
            == ["the option table of 'exact' in a.md differs from arbiter list"])
        #expect(optionTableProblems(listing: listing, pages: ["a.md": table])
            == ["'regex' has no option table in docs/"])
        #expect(optionTableProblems(listing: listing, pages: good.merging(["c.md": table]) { $1 })
            == ["'exact' has 2 option tables: [\"a.md\", \"c.md\"]"])
        let unknown = "<!-- options:exatc:begin -->\n<!-- options:exatc:end -->"
        #expect(optionTableProblems(listing: listing, pages: good.merging(["c.md": unknown]) { $1 })
            == ["an option table in docs/ names no verifier: 'exatc'"])
    }

    @Test("every relative link of the README, docs/ and the client's README leads to a file and heading")
    func linksResolve() throws {
        let pages = try markdownPages()
        #expect(pages.keys.contains("docs/README.md"))
        let broken = brokenLinks(pages: pages, exists: repositoryPathExists)
        #expect(broken.isEmpty, "\(broken.joined(separator: "\n"))")
    }

    @Test("a link to a missing file or heading is reported; code is not a link (negative control)")
    func brokenLinksAreFound() {
        let pages = [
            "README.md": "# Arbiter\n\nSee [the protocol](docs/protocol.md#ordering) and [x](docs/gone.md).\n"
                + "`[not](a-link.md)`\n```\n[nor](this.md)\n```\n[up](../outside.md) [web](https://example.com)",
            "docs/protocol.md": "# The protocol\n\n## Ordering\n\n## `exact`\n\n[back](../README.md#arbiter) [bad](../README.md#nope)"
                + " [verifier](#exact)",
        ]
        let exists: (String) -> Bool = { pages[$0] != nil }
        #expect(brokenLinks(pages: pages, exists: exists) == [
            "README.md: docs/gone.md (no file docs/gone.md)",
            "README.md: ../outside.md (no file ../outside.md)",
            "docs/protocol.md: ../README.md#nope (no heading #nope)",
        ])
        #expect(headingAnchor("Recipes: R1's reward in one name") == "recipes-r1s-reward-in-one-name")
    }

    @Test("the README is at most 250 lines and links every page of docs/ (one click from the README)")
    func readmeIsShortAndLinksEveryPage() throws {
        let pages = try markdownPages()
        let readme = try #require(pages["README.md"])
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(lines <= 250, "README.md has \(lines) lines")
        let linked = Set(relativeLinks(readme).map { String($0.split(separator: "#").first ?? "") })
        for page in pages.keys where page.hasPrefix("docs/") {
            #expect(linked.contains(page), "README.md does not link \(page)")
        }
        #expect(linked.contains("clients/python/README.md"))
    }
}
