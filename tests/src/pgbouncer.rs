//! A real PgBouncer in transaction mode for the tests (`pgbouncer-harness`), with
//! the tests' rule for a missing binary: skipped with a reason outside CI, a
//! failure in CI (`.ci/run` installs Debian's package).

pub use pgbouncer_harness::PgBouncer;

/// Starts PgBouncer in front of `upstream` (`host`, `port` of PostgreSQL, trust
/// auth, user `postgres`) with `server_connections` server connections per
/// database. `None` (with a printed reason) when the binary is missing outside
/// CI; any other failure to start fails the test.
pub fn start(upstream: (&str, u16), server_connections: u32) -> Option<PgBouncer> {
    let bin = pgbouncer_harness::binary();
    if !bin.exists() {
        let why = format!(
            "PgBouncer test: {} is missing (Debian package `pgbouncer`)",
            bin.display()
        );
        if crate::in_ci() {
            panic!("CI must run the PgBouncer test: {why}");
        }
        crate::announce_skip(&why);
        return None;
    }
    let (host, port) = upstream;
    match PgBouncer::start(host, port, server_connections) {
        Ok(bouncer) => Some(bouncer),
        Err(why) => panic!("PgBouncer did not start: {why}"),
    }
}
