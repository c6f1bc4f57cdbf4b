/// Number, size and text formatting shared by every writer.
///
/// Deterministic and locale-free on purpose (no `String(format:)`): reports are compared
/// byte for byte in golden tests and across processes.
enum Format {
    /// `x` with exactly `decimals` digits after the point (0 = an integer), rounded half away
    /// from zero.
    static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "n/a" : (x < 0 ? "-∞" : "∞") }
        var p: Int64 = 1
        for _ in 0..<max(0, min(decimals, 12)) { p *= 10 }
        let scaled = (x * Double(p)).rounded()
        guard abs(scaled) < 9e18 else { return "\(x)" }
        let v = Int64(scaled)
        let a = v.magnitude
        let whole = a / UInt64(p), frac = a % UInt64(p)
        var s = (v < 0 ? "-" : "") + String(whole)
        if decimals > 0 {
            let f = String(frac)
            s += "." + String(repeating: "0", count: decimals - f.count) + f
        }
        return s
    }

    /// A compact human number: integers as integers, otherwise 1–3 decimals by magnitude
    /// with trailing zeros dropped (`12.5`, `0.123`, `1234.5`).
    static func num(_ x: Double) -> String {
        guard x.isFinite else { return fixed(x, 0) }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        let digits = abs(x) >= 100 ? 1 : abs(x) >= 1 ? 2 : abs(x) >= 0.001 ? 3 : 6
        var s = fixed(x, digits)
        while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    /// A ratio as a percentage with enough decimals that a value below 1 never prints as
    /// 100% (`0.99995` → `99.995%`).
    static func percent(_ ratio: Double) -> String {
        guard ratio.isFinite else { return fixed(ratio, 0) }
        var d = 2
        while d < 6 && ratio < 1 && fixed(ratio * 100, d) == fixed(100, d) { d += 1 }
        var s = fixed(ratio * 100, d)
        while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
        return s + "%"
    }

    /// Bytes in binary units (`1.5 MiB`).
    static func bytes(_ b: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var v = b
        var i = 0
        while abs(v) >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return num(i == 0 ? v : (v * 10).rounded() / 10) + " " + units[i]
    }

    /// Seconds as a short duration (`45s`, `12.5m`, `3.2h`, `41d`, `12y`).
    static func seconds(_ s: Double) -> String {
        guard s.isFinite else { return "∞" }
        if s < 120 { return num(s) + "s" }
        if s < 7200 { return fixed(s / 60, 1) + "m" }
        if s < 172_800 { return fixed(s / 3600, 1) + "h" }
        if s < 2 * 31_557_600 { return fixed(s / 86_400, 1) + "d" }
        return fixed(s / 31_557_600, 1) + "y"
    }

    /// Escapes text for XML and HTML content and attribute values.
    static func xml(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // Characters XML 1.0 forbids (C0 controls except tab, newline, return).
            case _ where u.value < 0x20 && u != "\t" && u != "\n" && u != "\r": out += "?"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
    static func csv(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacing("\"", with: "\"\"") + "\""
    }

    /// A Markdown table cell: pipes escaped, line breaks flattened.
    static func md(_ s: String) -> String {
        s.replacing("|", with: "\\|").replacing("\n", with: " ")
    }

    /// Left-aligned first column, right-aligned numbers, two spaces between columns.
    static func table(_ rows: [[String]], indent: String = "  ") -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        return rows.map { row in
            indent + row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
