//! The adaptive wait between status checks, written to `poll.waitSeconds` for the Wait states' `SecondsPath`.
//!
//! Short at first so a quick snapshot is seen quickly, growing with elapsed time so a long one costs few state
//! transitions (each poll cycle is ~3 billed transitions and ~9 of the 25,000 history events a Standard execution
//! may have), capped, and never past the deadline by more than a second.

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

/// [`next_wait_seconds`] for a step that started at `started_at`, must end by `deadline`, checked at `now`.
pub fn next_wait_for(
    started_at: crate::run::Timestamp,
    deadline: crate::run::Timestamp,
    now: crate::run::Timestamp,
) -> u64 {
    let elapsed = u64::try_from((now - started_at).whole_seconds()).unwrap_or(0);
    let remaining = u64::try_from((deadline - now).whole_seconds()).unwrap_or(0);
    next_wait_seconds(elapsed, remaining)
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
                datetime!(2026-11-22 03:02 UTC)
            ),
            30
        );
        assert_eq!(
            next_wait_for(
                start,
                datetime!(2026-11-22 03:10 UTC),
                datetime!(2026-11-22 03:11 UTC)
            ),
            1
        );
    }

    #[test]
    fn never_sleeps_far_past_the_deadline() {
        assert_eq!(next_wait_seconds(1000, 3), 4);
        assert_eq!(next_wait_seconds(1000, 0), 1);
    }
}
