import PirvaultCore
import PirvaultJSON

/// Feeds bytes to the strict JSON parser and to the service-key importer.
///
/// Invariants: JSON the parser accepts is written (compact, pretty,
/// canonical) as JSON it accepts again, and one re-serialisation reaches a
/// fixed point; `CanonicalJSON.isCanonical`, the export verifier's fast
/// check, holds exactly when parsing and writing canonically gives the same
/// bytes; an imported service key, printed again, imports as the same key;
/// a refused one is a usage error with a one-line message.
enum ServiceKeyTarget {
    static func check(_ input: [UInt8]) throws(InvariantViolation) {
        try checkJSON(input)
        try checkImport(input)
    }

    private static func checkJSON(_ input: [UInt8]) throws(InvariantViolation) {
        let value: JSONValue?
        do {
            value = try JSONValue.parse(input)
        } catch let error as JSONParseError {
            if containsControl(error.description) { throw InvariantViolation("parse error message \(error.description.debugDescription)") }
            value = nil
        } catch {
            throw InvariantViolation("the parser threw \(error), not a JSONParseError")
        }
        if let value {
            // Compared as bytes: Swift's `==` on strings is Unicode canonical equivalence.
            let compact = value.compactString()
            let canonical = value.canonicalString()
            guard let fromCompact = try? JSONValue.parse(compact), fromCompact.compactString().utf8.elementsEqual(compact.utf8),
                let fromPretty = try? JSONValue.parse(value.prettyString()), fromPretty.compactString().utf8.elementsEqual(compact.utf8),
                let fromCanonical = try? JSONValue.parse(canonical), fromCanonical.canonicalString().utf8.elementsEqual(canonical.utf8)
            else {
                throw InvariantViolation("\(compact.debugDescription) does not survive being written and parsed again")
            }
        }
        let writesItself = value.map { !hasFraction($0) && $0.canonicalBytes() == input } ?? false
        if CanonicalJSON.isCanonical(input[...]) != writesItself {
            throw InvariantViolation(
                "isCanonical says \(!writesItself) but parse and canonical write say \(writesItself) for \(String(decoding: input, as: UTF8.self).debugDescription)")
        }
    }

    /// Canonical events hold integers only; RFC 8785 numbers with fractions are out of scope.
    private static func hasFraction(_ value: JSONValue) -> Bool {
        switch value {
        case .number: return true
        case .array(let items): return items.contains(where: hasFraction)
        case .object(let members): return members.contains { hasFraction($0.1) }
        default: return false
        }
    }

    private static func checkImport(_ input: [UInt8]) throws(InvariantViolation) {
        let key: ServiceKey
        do {
            key = try ServiceKey(importing: input)
        } catch let error as VaultError {
            guard error.isUsageError, !containsControl(error.description) else {
                throw InvariantViolation("import refused with \(error.description.debugDescription)")
            }
            return
        } catch {
            throw InvariantViolation("import threw \(error), not a VaultError")
        }
        let printed = key.json
        let again: ServiceKey
        do {
            again = try ServiceKey(importing: Array(printed.utf8))
        } catch {
            throw InvariantViolation("the imported key, printed as \(printed.debugDescription), does not import again: \(error)")
        }
        guard again.json.utf8.elementsEqual(printed.utf8) else {
            throw InvariantViolation("the imported key changes when printed and imported again: \(printed.debugDescription)")
        }
    }
}
