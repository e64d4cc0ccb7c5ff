/// A dictionary that holds at most `limit` keys: once full, values of new
/// keys go to `overflow` instead. The audit report aggregates untrusted,
/// unbounded input (flow paths, reasons) through it, so its memory stays flat
/// however many events it reads.
package struct BoundedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    package let limit: Int
    package let overflow: Key
    package let empty: Value
    package private(set) var entries: [Key: Value] = [:]

    package init(limit: Int, overflow: Key, empty: Value) {
        self.limit = limit
        self.overflow = overflow
        self.empty = empty
    }

    /// The key a value for `key` is stored under: `key` itself while there is room.
    package func slot(for key: Key) -> Key {
        entries[key] != nil || entries.count < limit - 1 ? key : overflow
    }

    /// Changes the value of `key` (or of `overflow` when the map is full), starting from `empty`.
    package mutating func update(_ key: Key, _ change: (inout Value) -> Void) {
        let (slot, empty) = (slot(for: key), empty)
        change(&entries[slot, default: empty])
    }
}

extension BoundedMap where Value == Int {
    package mutating func add(_ key: Key, _ count: Int = 1) { update(key) { $0 += count } }
}
