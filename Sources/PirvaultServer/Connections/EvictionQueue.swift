/// Connections in the order they last became evictable (nothing in
/// progress), oldest first: append, remove and take the oldest, each in
/// constant time, so a full server picks its eviction without a scan.
///
/// A doubly linked list threaded through a dictionary; not thread-safe
/// (`ConnectionTracker` holds it under its lock).
struct EvictionQueue {
    private struct Links {
        var previous: ObjectIdentifier?
        var next: ObjectIdentifier?
    }

    private var links: [ObjectIdentifier: Links] = [:]
    private var oldest: ObjectIdentifier?
    private var newest: ObjectIdentifier?

    var count: Int { links.count }

    func contains(_ id: ObjectIdentifier) -> Bool { links[id] != nil }

    /// Puts `id` last (the newest); it must not be queued already.
    mutating func append(_ id: ObjectIdentifier) {
        links[id] = Links(previous: newest, next: nil)
        if let newest { links[newest]?.next = id } else { oldest = id }
        newest = id
    }

    /// Takes `id` out wherever it is; nothing happens when it is not queued.
    mutating func remove(_ id: ObjectIdentifier) {
        guard let removed = links.removeValue(forKey: id) else { return }
        if let previous = removed.previous { links[previous]?.next = removed.next } else { oldest = removed.next }
        if let next = removed.next { links[next]?.previous = removed.previous } else { newest = removed.previous }
    }

    /// Takes out and returns the oldest, if any.
    mutating func removeOldest() -> ObjectIdentifier? {
        guard let id = oldest else { return nil }
        remove(id)
        return id
    }
}
