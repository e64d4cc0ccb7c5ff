import PirvaultStore

/// Value types of the store that the domain's API hands out, so callers need
/// not import the store module.
public typealias Timestamp = PirvaultStore.Timestamp
public typealias AuditFilter = PirvaultStore.AuditFilter
public typealias OpaqueTokenRecord = PirvaultStore.OpaqueTokenRecord
public typealias Plan = PirvaultStore.Plan
public typealias GrantType = PirvaultStore.GrantType
public typealias TokenFormat = PirvaultStore.TokenFormat
public typealias InstanceStatus = PirvaultStore.InstanceStatus
public typealias VaultStores = PirvaultStore.VaultStores
public typealias StoreLimits = PirvaultStore.StoreLimits
public typealias Interrupter = PirvaultStore.Interrupter
public typealias AuditEventType = PirvaultStore.AuditEventType
public typealias AuditOutcome = PirvaultStore.AuditOutcome
