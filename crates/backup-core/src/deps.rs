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

impl Deps<(), (), (), crate::SystemClock> {
    /// No ports yet, the system clock and `config`: a `main.rs` adds the ports its step uses with the `with_*`
    /// methods, so the type says exactly what the step touches.
    pub fn new(config: Config) -> Self {
        Self {
            snapshots: (),
            exports: (),
            verifier: (),
            clock: crate::SystemClock,
            probe: (),
            secrets: (),
            config,
        }
    }
}

impl<S, E, V, C, P, K> Deps<S, E, V, C, P, K> {
    /// The same dependencies with ElastiCache `snapshots`.
    pub fn with_snapshots<S2>(self, snapshots: S2) -> Deps<S2, E, V, C, P, K> {
        let Self {
            exports,
            verifier,
            clock,
            probe,
            secrets,
            config,
            ..
        } = self;
        Deps {
            snapshots,
            exports,
            verifier,
            clock,
            probe,
            secrets,
            config,
        }
    }

    /// The same dependencies with the export bucket `exports`.
    pub fn with_exports<E2>(self, exports: E2) -> Deps<S, E2, V, C, P, K> {
        let Self {
            snapshots,
            verifier,
            clock,
            probe,
            secrets,
            config,
            ..
        } = self;
        Deps {
            snapshots,
            exports,
            verifier,
            clock,
            probe,
            secrets,
            config,
        }
    }

    /// The same dependencies with the RDB `verifier`.
    pub fn with_verifier<V2>(self, verifier: V2) -> Deps<S, E, V2, C, P, K> {
        let Self {
            snapshots,
            exports,
            clock,
            probe,
            secrets,
            config,
            ..
        } = self;
        Deps {
            snapshots,
            exports,
            verifier,
            clock,
            probe,
            secrets,
            config,
        }
    }

    /// The same dependencies with the restored data's `probe`.
    pub fn with_probe<P2>(self, probe: P2) -> Deps<S, E, V, C, P2, K> {
        let Self {
            snapshots,
            exports,
            verifier,
            clock,
            secrets,
            config,
            ..
        } = self;
        Deps {
            snapshots,
            exports,
            verifier,
            clock,
            probe,
            secrets,
            config,
        }
    }

    /// The same dependencies with `secrets`.
    pub fn with_secrets<K2>(self, secrets: K2) -> Deps<S, E, V, C, P, K2> {
        let Self {
            snapshots,
            exports,
            verifier,
            clock,
            probe,
            config,
            ..
        } = self;
        Deps {
            snapshots,
            exports,
            verifier,
            clock,
            probe,
            secrets,
            config,
        }
    }
}
