/// What `GET /readyz` asks: can this node commit an audit row now? Every
/// answer but liveness and metrics needs one, so a load balancer should
/// send traffic only to a node that can.
///
/// Asked of the vault itself each time, not kept as a flag: an empty write
/// transaction on the writer connection (`Vault.checkCanCommit`), queued
/// behind the audit commits and stopped at the vault timeout like them. It
/// takes the write lock — SQLite's, after checking that the file at the
/// path is still the vault; PostgreSQL's head row of the audit log — so a
/// stalled or unreachable database, a lock held elsewhere past the
/// deadline, or a replaced vault file each make it fail, and it succeeds
/// again as soon as a commit would (a lost PostgreSQL connection is made
/// again by the probe itself).
struct Readiness: Sendable {
    let writer: SerializedVault
    let timeout: Duration
    let health: CommitHealth

    func canCommit() async -> Bool {
        do {
            try await writer.perform(until: .now + timeout) { try $0.checkCanCommit() }
            health.succeeded()
            return true
        } catch {
            health.failed(error)
            return false
        }
    }
}
