// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

/// Sums, negations, scalar multiples and products of matrices written out (`A + B`, `2A`, `A B`), folded into one
/// matrix whose entries are expressions, so that equivalence compares entries as usual.
enum MatrixAlgebra {
    /// The most entries a folded product may have.
    static let maxEntries = 400

    /// The expression with every foldable matrix operation folded; anything else is returned unchanged.
    static func fold(_ expression: MathExpr) -> MathExpr {
        switch expression {
        case .sum(let terms):
            let folded = terms.map(fold)
            guard folded.contains(where: { rows(of: $0) != nil }) else { return .sum(folded) }
            let all = folded.compactMap(rows(of:))
            guard all.count == folded.count, let shape = shape(of: all[0]),
                all.allSatisfy({ self.shape(of: $0).map { $0 == shape } ?? false })
            else { return .sum(folded) }
            return matrix((0..<shape.rows).map { r in (0..<shape.columns).map { c in .sum(all.map { $0[r][c] }) } })
        case .negate(let inner):
            let folded = fold(inner)
            guard let entries = rows(of: folded) else { return .negate(folded) }
            return matrix(entries.map { $0.map { .negate($0) } })
        case .product(let factors):
            let folded = factors.map(fold)
            guard folded.contains(where: { rows(of: $0) != nil }) else { return .product(folded) }
            var scalars: [MathExpr] = []
            var result: [[MathExpr]]? = nil
            for factor in folded {
                if let entries = rows(of: factor) {
                    if let left = result {
                        guard let product = multiply(left, entries) else { return .product(folded) }
                        result = product
                    } else {
                        result = entries
                    }
                } else {
                    scalars.append(factor)
                }
            }
            guard var entries = result else { return .product(folded) }
            if !scalars.isEmpty { entries = entries.map { $0.map { .product(scalars + [$0]) } } }
            return matrix(entries)
        default:
            return expression
        }
    }

    private static func rows(of expression: MathExpr) -> [[MathExpr]]? {
        guard case .bracketed(open: "M", close: "M", let rows) = expression else { return nil }
        var result: [[MathExpr]] = []
        for row in rows {
            guard case .bracketed(open: "r", close: "r", let entries) = row else { return nil }
            result.append(entries)
        }
        return result
    }

    private static func shape(of rows: [[MathExpr]]) -> (rows: Int, columns: Int)? {
        guard let columns = rows.first?.count, rows.allSatisfy({ $0.count == columns }) else { return nil }
        return (rows.count, columns)
    }

    private static func multiply(_ left: [[MathExpr]], _ right: [[MathExpr]]) -> [[MathExpr]]? {
        guard let a = shape(of: left), let b = shape(of: right), a.columns == b.rows,
            a.rows * b.columns <= maxEntries, a.rows * b.columns * a.columns <= maxEntries * 8
        else { return nil }
        return (0..<a.rows).map { r in
            (0..<b.columns).map { c in .sum((0..<a.columns).map { k in .product([left[r][k], right[k][c]]) }) }
        }
    }

    private static func matrix(_ rows: [[MathExpr]]) -> MathExpr {
        .bracketed(open: "M", close: "M", rows.map { .bracketed(open: "r", close: "r", $0) })
    }
}
