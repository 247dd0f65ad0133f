//! The adaptive wait between status checks, written to `poll.waitSeconds` for the Wait states' `SecondsPath`.
//!
//! Short at first so a quick snapshot is seen quickly, growing with elapsed time so a long one costs few state
//! transitions (each poll cycle is ~3 billed transitions and ~9 of the 25,000 history events a Standard execution
//! may have), capped, and never past the deadline by more than a second.
//!
//! With history — the expected duration `E` of the phase, from the target's previous verified backup — the plan is
//! [`planned_wait_seconds`]: nothing before `E / 2` (history up to 2× off still sees an early finish at its first
//! check), then checks every `E / 8` up to `E`, then every `E / 10` (growing with the overrun). A phase that
//! matches its history takes 5 checks; the policy without history takes 22 for a 10-minute phase.

/// First wait, seconds.
pub const MIN_WAIT_SECONDS: u64 = 5;
/// Longest wait, seconds.
pub const MAX_WAIT_SECONDS: u64 = 60;

/// Seconds to wait before the next check, given seconds elapsed since the step began and seconds left until its
/// deadline: `clamp(elapsed / 4, MIN_WAIT_SECONDS, MAX_WAIT_SECONDS)`, but at most `remaining + 1` (so the check
/// after the deadline happens promptly), and at least 1.
pub fn next_wait_seconds(elapsed_seconds: u64, remaining_seconds: u64) -> u64 {
    let grown = (elapsed_seconds / 4).clamp(MIN_WAIT_SECONDS, MAX_WAIT_SECONDS);
    grown.min(remaining_seconds.saturating_add(1)).max(1)
}

/// Shortest expected duration the plan uses, seconds: below it the policy without history is as cheap.
pub const MIN_EXPECTED_SECONDS: u64 = 40;

/// Seconds to wait before the next check when the phase is expected to take `expected_seconds` (`E`, from
/// history): until `E / 2` first; then to the next of the checkpoints `5E/8`, `6E/8`, `7E/8`, `E`; after `E`, steps
/// of `E / 10`, or half the overrun past `E` when that is longer, up to `E / 8` or a minute. At least [`MIN_WAIT_SECONDS`] after the first wait, and never past the deadline by more than a
/// second. Without history (or `E` under [`MIN_EXPECTED_SECONDS`]) it is [`next_wait_seconds`].
pub fn planned_wait_seconds(
    elapsed_seconds: u64,
    remaining_seconds: u64,
    expected_seconds: Option<u64>,
) -> u64 {
    let Some(e) = expected_seconds.filter(|e| *e >= MIN_EXPECTED_SECONDS) else {
        return next_wait_seconds(elapsed_seconds, remaining_seconds);
    };
    let half = e / 2;
    let wait = if elapsed_seconds < half {
        half - elapsed_seconds
    } else if elapsed_seconds < e {
        // The next of the checkpoints 5E/8, 6E/8, 7E/8, E.
        let next = (5..=8)
            .map(|k| e * k / 8)
            .find(|c| *c > elapsed_seconds)
            .unwrap_or(e);
        (next - elapsed_seconds).max(MIN_WAIT_SECONDS)
    } else {
        // Late: steps of E/10, growing with half the overrun, at most E/8 or a minute, whichever is longer.
        ((elapsed_seconds - e) / 2)
            .clamp(e / 10, (e / 8).max(MAX_WAIT_SECONDS))
            .max(MIN_WAIT_SECONDS)
    };
    wait.min(remaining_seconds.saturating_add(1)).max(1)
}

/// [`planned_wait_seconds`] for a step that started at `started_at`, must end by `deadline`, checked at `now`,
/// expected (from history) to take `expected_seconds`.
pub fn next_wait_for(
    started_at: crate::model::Timestamp,
    deadline: crate::model::Timestamp,
    now: crate::model::Timestamp,
    expected_seconds: Option<u64>,
) -> u64 {
    let elapsed = u64::try_from((now - started_at).whole_seconds()).unwrap_or(0);
    let remaining = u64::try_from((deadline - now).whole_seconds()).unwrap_or(0);
    planned_wait_seconds(elapsed, remaining, expected_seconds)
}

/// What polling one phase costs: checks made and how late the completion was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseCost {
    /// Status checks (each a Wait, a Task and a Choice state: 3 transitions).
    pub checks: u32,
    /// Seconds between the completion and the check that saw it.
    pub latency_seconds: u64,
}

/// Simulates polling a phase that completes after `actual_seconds` with the real planner: the first wait as the
/// starting step sets it, then one check per wait. For tests and `make bench-cost`.
pub fn simulate(
    actual_seconds: u64,
    deadline_seconds: u64,
    expected_seconds: Option<u64>,
) -> PhaseCost {
    let mut elapsed = 0;
    let mut checks = 0;
    loop {
        elapsed += planned_wait_seconds(
            elapsed,
            deadline_seconds.saturating_sub(elapsed),
            expected_seconds,
        );
        checks += 1;
        if elapsed >= actual_seconds || elapsed > deadline_seconds {
            return PhaseCost {
                checks,
                latency_seconds: elapsed.saturating_sub(actual_seconds),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_short() {
        assert_eq!(next_wait_seconds(0, 3600), MIN_WAIT_SECONDS);
    }

    #[test]
    fn grows_with_elapsed_time_then_caps() {
        assert_eq!(next_wait_seconds(100, 3600), 25);
        assert_eq!(next_wait_seconds(10_000, 3600), MAX_WAIT_SECONDS);
        let waits: Vec<_> = (0..2000)
            .step_by(50)
            .map(|e| next_wait_seconds(e, 100_000))
            .collect();
        assert!(
            waits.windows(2).all(|w| w[0] <= w[1]),
            "not monotonic: {waits:?}"
        );
    }

    #[test]
    fn next_wait_for_uses_elapsed_and_remaining_time() {
        use time::macros::datetime;
        let start = datetime!(2026-11-22 03:00 UTC);
        assert_eq!(
            next_wait_for(
                start,
                datetime!(2026-11-22 04:00 UTC),
                datetime!(2026-11-22 03:02 UTC),
                None
            ),
            30
        );
        assert_eq!(
            next_wait_for(
                start,
                datetime!(2026-11-22 03:10 UTC),
                datetime!(2026-11-22 03:11 UTC),
                None
            ),
            1
        );
    }

    #[test]
    fn never_sleeps_far_past_the_deadline() {
        assert_eq!(next_wait_seconds(1000, 3), 4);
        assert_eq!(next_wait_seconds(1000, 0), 1);
    }

    #[test]
    fn a_phase_that_matches_its_history_takes_five_checks_and_is_seen_on_time() {
        for e in [60, 180, 600, 3600] {
            let c = simulate(e, 7200, Some(e));
            assert_eq!(c.checks, 5, "E = {e}: {c:?}");
            assert_eq!(c.latency_seconds, 0, "E = {e}: {c:?}");
            // A little later than its history: seen within 10 % of its duration.
            let late = simulate(e + e / 50, 7200, Some(e));
            assert!(late.latency_seconds * 10 <= e + e / 50, "E = {e}: {late:?}");
        }
    }

    #[test]
    fn history_two_times_off_is_never_worse_than_no_history() {
        for e in [60, 180, 600, 3600] {
            for actual in [e / 2, e / 2 + 1, e * 3 / 4, e, e * 3 / 2, e * 2] {
                let with = simulate(actual, 4 * e + 600, Some(e));
                let without = simulate(actual, 4 * e + 600, None);
                assert!(
                    with.checks <= without.checks,
                    "E {e}, actual {actual}: {with:?} vs {without:?}"
                );
                // Latency: within what the policy without history may be late at that time (its wait there),
                // or E/8.
                assert!(
                    with.latency_seconds <= next_wait_seconds(actual, u64::MAX).max(e / 8),
                    "E {e}, actual {actual}: {with:?} vs {without:?}"
                );
            }
        }
    }

    #[test]
    fn without_usable_history_it_is_the_policy_without_history() {
        for elapsed in [0, 7, 100, 1000] {
            assert_eq!(
                planned_wait_seconds(elapsed, 3600, None),
                next_wait_seconds(elapsed, 3600)
            );
            assert_eq!(
                planned_wait_seconds(elapsed, 3600, Some(10)),
                next_wait_seconds(elapsed, 3600)
            );
        }
        assert_eq!(simulate(600, 3600, None).checks, 22);
    }

    #[test]
    fn the_plan_never_sleeps_past_the_deadline() {
        assert_eq!(planned_wait_seconds(0, 10, Some(600)), 11);
        assert_eq!(planned_wait_seconds(500, 0, Some(600)), 1);
    }
}
