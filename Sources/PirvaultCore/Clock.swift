import PirvaultStore

/// Where the vault gets the time. Tests inject a fixed or stepping clock
/// instead of sleeping.
public struct Clock: Sendable {
    public let now: @Sendable () -> Timestamp

    public init(now: @escaping @Sendable () -> Timestamp) { self.now = now }

    public static let system = Clock(now: Timestamp.now)
}
