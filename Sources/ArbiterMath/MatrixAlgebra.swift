// Arbiter: rule-based rewards for reasoning models.
// Licensed under the Apache License, Version 2.0.
// SPDX-License-Identifier: Apache-2.0

import BigInt

/// Sums, negations, scalar multiples and products of matrices written out (`A + B`, `2A`, `A B`), folded into one
/// matrix whose entries are expressions (whole powers `A^n` too), so that equivalence compares entries as usual.
enum MatrixAlgebra {
    /// The most entries a folded product may have.
    static let maxEntries = 400
    /// The most expression nodes a folded matrix may hold, counted as written out: a chain of products reuses each
    /// factor's entries in every entry of the next, so sizes multiply (22 products of 2×2 matrices would be
    /// millions of nodes to evaluate and walk). Past this the operation is left unfolded.
    static let maxNodes = 50_000
    /// The largest integer power of a matrix folded (`A^{64}` at most six squarings and six products); larger
    /// powers are left unfolded.
    static let maxPower = 64
    /// The largest exact entry, in bits, multiplied as a number (a 2,048-bit product of 20×20 matrices is 8,000
    /// multiplications of 32-word numbers); larger entries are multiplied as expressions, whose evaluation the step
    /// budget bounds.
    static let maxEntryBits = 2_048

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
            let entries = (0..<shape.rows).map { r in (0..<shape.columns).map { c in MathExpr.sum(all.map { $0[r][c] }) } }
            return withinSize(entries) ? matrix(entries) : .sum(folded)
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
                        guard let product = multiply(left, entries), withinSize(product) else { return .product(folded) }
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
            return withinSize(entries) ? matrix(entries) : .product(folded)
        case .power(let base, let exponent):
            let folded = fold(base)
            guard let entries = rows(of: folded) else { return .power(folded, exponent) }
            // `A^T` (also `A^{T}`) of a written-out matrix is its transpose: a variable named T cannot be meant.
            if exponent == .variable("T"), let shape = shape(of: entries) {
                return matrix((0..<shape.columns).map { c in (0..<shape.rows).map { r in entries[r][c] } })
            }
            guard let product = power(entries, exponent), withinSize(product) else { return .power(folded, exponent) }
            return matrix(product)
        default:
            return expression
        }
    }

    /// The largest matrix inverted (`A^{-1}`): Gauss–Jordan elimination on exact entries costs n³ operations.
    static let maxInverseSize = 8

    /// `A^n` for a square matrix and a whole `n` in −``maxPower``…``maxPower``, by repeated squaring: `A^0` is the
    /// identity of A's size, and `A^{-n}` is `(A^{-1})^n` when A is invertible; `nil` for anything else (a singular
    /// matrix, a fractional or symbolic exponent).
    private static func power(_ entries: [[MathExpr]], _ exponent: MathExpr) -> [[MathExpr]]? {
        var exponent = exponent
        var inverse = false
        if case .negate(let inner) = exponent {
            exponent = inner
            inverse = true
        }
        guard case .number(var value, decimal: false) = exponent, value.isInteger else { return nil }
        if value.isNegative {
            value = -value
            inverse = true
        }
        guard value.numerator <= BigInt(maxPower), let shape = shape(of: entries), shape.rows == shape.columns
        else { return nil }
        if value.numerator == 0 {
            // `A^0` (also `A^{-0}`) is the identity of A's size, whatever A is.
            return (0..<shape.rows).map { r in
                (0..<shape.rows).map { c in MathExpr.number(r == c ? .one : .zero, decimal: false) }
            }
        }
        var base = entries
        if inverse {
            guard let inverted = self.inverse(entries) else { return nil }
            base = inverted
        }
        var remaining = Int(value.numerator)
        var result: [[MathExpr]]? = nil
        while true {
            if remaining & 1 == 1 {
                if let left = result {
                    guard let product = multiply(left, base), withinSize(product) else { return nil }
                    result = product
                } else {
                    result = base
                }
            }
            remaining >>= 1
            guard remaining > 0 else { return result }
            guard let square = multiply(base, base), withinSize(square) else { return nil }
            base = square
        }
    }

    /// The inverse of a square matrix: exact entries by Gauss–Jordan elimination over the rationals (each entry
    /// within ``maxEntryBits``), a 2×2 matrix of expressions by its adjugate over the determinant
    /// (`\frac{1}{ad-bc}` times `d, -b; -c, a`, undefined where the determinant vanishes, as the inverse is); `nil`
    /// when the matrix is singular, larger than ``maxInverseSize``, or of expressions and larger than 2×2.
    private static func inverse(_ entries: [[MathExpr]]) -> [[MathExpr]]? {
        let size = entries.count
        guard size >= 1, size <= maxInverseSize else { return nil }
        if let values = numbers(entries) {
            return exactInverse(values)?.map { $0.map { MathExpr.number($0, decimal: false) } }
        }
        guard size == 2 else { return nil }
        let (a, b, c, d) = (entries[0][0], entries[0][1], entries[1][0], entries[1][1])
        let scale = MathExpr.reciprocal(.sum([.product([a, d]), .negate(.product([b, c]))]))
        return [[.product([scale, d]), .product([scale, .negate(b)])], [.product([scale, .negate(c)]), .product([scale, a])]]
    }

    /// Gauss–Jordan elimination with exact rationals; `nil` for a singular matrix or an entry past ``maxEntryBits``.
    private static func exactInverse(_ values: [[Rational]]) -> [[Rational]]? {
        let size = values.count
        var left = values
        var right = (0..<size).map { r in (0..<size).map { c in r == c ? Rational.one : Rational.zero } }
        for column in 0..<size {
            guard let pivot = (column..<size).first(where: { !left[$0][column].isZero }) else { return nil }
            left.swapAt(column, pivot)
            right.swapAt(column, pivot)
            let scale = left[column][column]
            for k in 0..<size {
                guard let l = left[column][k].divided(by: scale), let r = right[column][k].divided(by: scale) else {
                    return nil
                }
                left[column][k] = l
                right[column][k] = r
            }
            for row in 0..<size where row != column && !left[row][column].isZero {
                let factor = left[row][column]
                for k in 0..<size {
                    left[row][k] = left[row][k] - factor * left[column][k]
                    right[row][k] = right[row][k] - factor * right[column][k]
                    guard left[row][k].bitSize <= maxEntryBits, right[row][k].bitSize <= maxEntryBits else { return nil }
                }
            }
        }
        return right
    }

    /// Whether the entries hold at most ``maxNodes`` nodes written out; the count stops at the limit, so it costs at
    /// most that many visits however much the entries share.
    private static func withinSize(_ entries: [[MathExpr]]) -> Bool {
        var remaining = maxNodes
        for row in entries {
            for entry in row where !count(entry, within: &remaining) { return false }
        }
        return true
    }

    private static func count(_ expression: MathExpr, within remaining: inout Int) -> Bool {
        remaining -= 1
        guard remaining >= 0 else { return false }
        switch expression {
        case .sum(let items), .product(let items), .set(let items), .bracketed(_, _, let items),
            .function(_, let items), .list(let items), .union(let items), .relation(let items, _):
            for item in items where !count(item, within: &remaining) { return false }
        case .negate(let inner), .reciprocal(let inner):
            return count(inner, within: &remaining)
        case .power(let a, let b), .plusMinus(let a, let b):
            return count(a, within: &remaining) && count(b, within: &remaining)
        default:
            break
        }
        return true
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
        if let x = numbers(left), let y = numbers(right), let product = exactProduct(x, y) { return product }
        return (0..<a.rows).map { r in
            (0..<b.columns).map { c in .sum((0..<a.columns).map { k in .product([left[r][k], right[k][c]]) }) }
        }
    }

    /// The product of exact matrices (shapes already checked), or `nil` when an entry may pass ``maxEntryBits``:
    /// sized before multiplying (the widest entries' bits plus the bits of the inner dimension), and whole entries
    /// multiplied as integers, with no gcd per operation.
    private static func exactProduct(_ x: [[Rational]], _ y: [[Rational]]) -> [[MathExpr]]? {
        let widest = { (m: [[Rational]]) in m.lazy.flatMap { $0 }.map(\.bitSize).max() ?? 0 }
        guard widest(x) + widest(y) + y.count.bitWidth - y.count.leadingZeroBitCount <= maxEntryBits else { return nil }
        let whole = x.allSatisfy { $0.allSatisfy(\.isInteger) } && y.allSatisfy { $0.allSatisfy(\.isInteger) }
        var result: [[MathExpr]] = []
        for r in 0..<x.count {
            var row: [MathExpr] = []
            for c in 0..<y[0].count {
                if whole {
                    var sum = BigInt(0)
                    for k in 0..<y.count { sum += x[r][k].numerator * y[k][c].numerator }
                    row.append(.number(Rational(sum), decimal: false))
                } else {
                    var sum = Rational.zero
                    // Unlike denominators multiply: the sum may outgrow the estimate, so it is checked as it grows.
                    for k in 0..<y.count {
                        sum = sum + x[r][k] * y[k][c]
                        guard sum.bitSize <= maxEntryBits else { return nil }
                    }
                    row.append(.number(sum, decimal: false))
                }
            }
            result.append(row)
        }
        return result
    }

    /// The entries as exact numbers when every one is written without a decimal point (a decimal entry keeps its
    /// reading, so it is multiplied as an expression).
    private static func numbers(_ entries: [[MathExpr]]) -> [[Rational]]? {
        var result: [[Rational]] = []
        for row in entries {
            var values: [Rational] = []
            for entry in row {
                switch entry {
                case .number(let value, decimal: false) where value.bitSize <= maxEntryBits: values.append(value)
                case .negate(.number(let value, decimal: false)) where value.bitSize <= maxEntryBits: values.append(-value)
                default: return nil
                }
            }
            result.append(values)
        }
        return result
    }

    private static func matrix(_ rows: [[MathExpr]]) -> MathExpr {
        .bracketed(open: "M", close: "M", rows.map { .bracketed(open: "r", close: "r", $0) })
    }
}
