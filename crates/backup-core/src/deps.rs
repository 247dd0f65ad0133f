//! [`Deps`]: what a backup step handler is given, built once per cold start by its `main.rs` (the composition root)
//! and borrowed by every invocation.
//!
//! One shape for every step: the ports a step does not use are `()`, so a handler's signature says exactly which
//! ports it touches (`Deps<(), E, (), C>` reads only the export bucket), and a unit test fills the same struct with
//! the fakes of `backup_core::testing`.

use crate::config::Config;

/// The dependencies of a backup step.
///
/// - `S`: ElastiCache ([`crate::ports::Snapshots`]), or `()`;
/// - `E`: the export bucket ([`crate::ports::ExportStore`]), or `()`;
/// - `V`: the RDB verifier ([`crate::ports::Verifier`]), or `()`;
/// - `C`: the clock ([`crate::Clock`]);
/// - `P`: the restored data's probe ([`crate::ports::DataProbe`]), or `()` (only VerifyRestore reads data);
/// - `K`: secrets ([`crate::ports::Secrets`]), or `()` (restores read a group's AUTH token).
#[derive(Debug, Clone)]
pub struct Deps<S, E, V, C, P = (), K = ()> {
    /// ElastiCache.
    pub snapshots: S,
    /// The export bucket.
    pub exports: E,
    /// The end-to-end check of an exported object.
    pub verifier: V,
    /// Wall clock.
    pub clock: C,
    /// The Redis-protocol probe of a restored group.
    pub probe: P,
    /// Secret values (Secrets Manager).
    pub secrets: K,
    /// Settings read at cold start.
    pub config: Config,
}
