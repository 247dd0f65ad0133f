//! EventBridge Scheduler expressions (Scheduler User Guide, "Schedule types": `rate(value unit)`, `cron(minutes
//! hours day-of-month month day-of-week year)`): how often a schedule runs, when it runs next, and at which UTC
//! times of day a daily cron runs. Only the forms this needs are read: `rate(...)` fully; `cron(...)` when minutes and
//! hours are numbers or lists, the month and year are `*`, and day-of-month is `*`/`?` (every day, or the weekdays of
//! day-of-week: numbers 1-7 or SUN-SAT, lists and ranges), in UTC. Anything else (a day of the month, `L`, `W`, `#`,
//! a time zone) is shown as written, without an interval or a next run.

use time::{Duration, OffsetDateTime};

/// What is known of a schedule expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `rate(N unit)`.
    Rate(Duration),
    /// A cron: the UTC minutes of the day it runs at (sorted), every day (`daily`) or on some weekdays.
    Cron {
        /// Minutes after midnight, sorted.
        times: Vec<u32>,
        /// Every day (day-of-month `*`/`?` and day-of-week `*`/`?`).
        daily: bool,
        /// The longest run of days between two run days (1 every day, 3 for MON-FRI, 7 once a week).
        gap_days: u32,
    },
    /// Another form (shown as written).
    Other,
}

/// Reads `expression` as written in the schedule; `timezone` other than UTC makes a cron [`Expr::Other`] (this code
/// has no time zone database).
pub fn parse(expression: &str, timezone: &str) -> Expr {
    let e = expression.trim();
    if let Some(body) = e.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')) {
        let mut it = body.split_whitespace();
        let (Some(n), Some(unit), None) = (it.next(), it.next(), it.next()) else {
            return Expr::Other;
        };
        // A u32 keeps every product below i64's range (no overflow on any input).
        let Ok(n) = n.parse::<u32>().map(i64::from) else {
            return Expr::Other;
        };
        return match unit {
            "minute" | "minutes" => Expr::Rate(Duration::minutes(n)),
            "hour" | "hours" => Expr::Rate(Duration::hours(n)),
            "day" | "days" => Expr::Rate(Duration::days(n)),
            _ => Expr::Other,
        };
    }
    let Some(body) = e.strip_prefix("cron(").and_then(|b| b.strip_suffix(')')) else {
        return Expr::Other;
    };
    if !matches!(timezone, "" | "UTC" | "Etc/UTC") {
        return Expr::Other;
    }
    let f: Vec<&str> = body.split_whitespace().collect();
    let [minutes, hours, dom, month, dow, year] = f.as_slice() else {
        return Expr::Other;
    };
    let list = |s: &str, max: u32| -> Option<Vec<u32>> {
        s.split(',')
            .map(|v| v.parse::<u32>().ok().filter(|v| *v <= max))
            .collect()
    };
    let (Some(ms), Some(hs)) = (list(minutes, 59), list(hours, 23)) else {
        return Expr::Other;
    };
    if *month != "*" || *year != "*" {
        return Expr::Other;
    }
    let any = |s: &str| s == "*" || s == "?";
    if !any(dom) {
        return Expr::Other;
    }
    let gap_days = if any(dow) {
        1
    } else {
        match weekdays(dow) {
            Some(days) => longest_gap(&days),
            None => return Expr::Other,
        }
    };
    let mut times: Vec<u32> = hs
        .iter()
        .flat_map(|h| ms.iter().map(move |m| h * 60 + m))
        .collect();
    times.sort_unstable();
    times.dedup();
    Expr::Cron {
        times,
        daily: gap_days == 1 && any(dow),
        gap_days,
    }
}

/// The weekdays (1 = SUN … 7 = SAT) of a day-of-week field: numbers or names, lists and ranges; `None` for `L`, `#`
/// or anything else.
fn weekdays(field: &str) -> Option<Vec<u32>> {
    const NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let day = |s: &str| -> Option<u32> {
        s.parse::<u32>()
            .ok()
            .filter(|d| (1..=7).contains(d))
            .or_else(|| {
                let upper = s.to_ascii_uppercase();
                NAMES
                    .iter()
                    .position(|n| *n == upper)
                    .and_then(|i| u32::try_from(i + 1).ok())
            })
    };
    let mut days = Vec::new();
    for part in field.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                if a > b {
                    return None;
                }
                days.extend(a..=b);
            }
            None => days.push(day(part)?),
        }
    }
    days.sort_unstable();
    days.dedup();
    Some(days)
}

/// The longest number of days from one run day to the next, around the week (`[2]` → 7, MON-FRI → 3).
fn longest_gap(days: &[u32]) -> u32 {
    let wrap = days.first().zip(days.last()).map(|(f, l)| 7 - l + f);
    days.windows(2)
        .map(|w| w[1] - w[0])
        .chain(wrap)
        .max()
        .unwrap_or(7)
}

impl Expr {
    /// The longest time between two runs: a rate's period; a daily cron's longest gap; a cron on some weekdays, its
    /// longest run of days (MON-FRI: 3 days).
    pub fn interval(&self) -> Option<Duration> {
        match self {
            Self::Rate(d) => Some(*d),
            Self::Cron {
                times, daily: true, ..
            } => {
                let gaps = times.windows(2).map(|w| w[1] - w[0]);
                let wrap = times
                    .first()
                    .zip(times.last())
                    .map(|(f, l)| 24 * 60 - l + f);
                gaps.chain(wrap)
                    .max()
                    .map(|m| Duration::minutes(i64::from(m)))
            }
            Self::Cron { gap_days, .. } => Some(Duration::days(i64::from(*gap_days))),
            Self::Other => None,
        }
    }

    /// The next run after `now`: a daily cron's next time of day; a rate's next multiple of its period after
    /// `start` (a rate schedule runs from its start date, or from its creation when it has none: Scheduler User
    /// Guide, "Rate-based schedules"). `None` otherwise.
    pub fn next_run(
        &self,
        now: OffsetDateTime,
        start: Option<OffsetDateTime>,
    ) -> Option<OffsetDateTime> {
        match self {
            Self::Rate(d) if d.whole_seconds() > 0 => {
                let start = start?;
                if start > now {
                    return Some(start);
                }
                let periods = (now - start).whole_seconds() / d.whole_seconds() + 1;
                start.checked_add(d.checked_mul(i32::try_from(periods).ok()?)?)
            }
            Self::Cron {
                times, daily: true, ..
            } => {
                let now = now.to_offset(time::UtcOffset::UTC);
                let midnight = now.replace_time(time::Time::MIDNIGHT);
                times
                    .iter()
                    .map(|m| midnight + Duration::minutes(i64::from(*m)))
                    .find(|t| *t > now)
                    .or_else(|| {
                        times.first().map(|m| {
                            midnight + Duration::days(1) + Duration::minutes(i64::from(*m))
                        })
                    })
            }
            _ => None,
        }
    }

    /// The UTC minutes of the day the schedule starts a run, when fixed (a cron).
    pub fn times_of_day(&self) -> &[u32] {
        match self {
            Self::Cron { times, .. } => times,
            _ => &[],
        }
    }
}

/// `hh:mm-hh:mm` (ElastiCache `SnapshotWindow`, UTC: API Reference, ReplicationGroup) as minutes after midnight.
pub fn window(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    let hm = |s: &str| -> Option<u32> {
        let (h, m) = s.split_once(':')?;
        let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    Some((hm(a)?, hm(b)?))
}

/// Whether a run started at `minute` (of the UTC day) falls in the window `(start, end)` or in the `lead` minutes
/// before it (a backup started then is still snapshotting when the window opens); windows may wrap midnight.
pub fn overlaps(minute: u32, (start, end): (u32, u32), lead: u32) -> bool {
    let day = 24 * 60;
    let from = (start + day - lead) % day;
    let inside = |m: u32, a: u32, b: u32| {
        if a <= b {
            m >= a && m < b
        } else {
            m >= a || m < b
        }
    };
    inside(minute, from, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rates_and_daily_crons_have_an_interval_others_none() {
        assert_eq!(
            parse("rate(12 hours)", "UTC").interval(),
            Some(Duration::hours(12))
        );
        assert_eq!(
            parse("cron(0 3 * * ? *)", "UTC").interval(),
            Some(Duration::hours(24))
        );
        assert_eq!(
            parse("cron(0 3,15 * * ? *)", "UTC").interval(),
            Some(Duration::hours(12))
        );
        assert_eq!(
            parse("cron(0 3 ? * SUN *)", "UTC").interval(),
            Some(Duration::days(7))
        );
        assert_eq!(
            parse("cron(0 3 ? * MON-FRI *)", "UTC").interval(),
            Some(Duration::days(3))
        );
        assert_eq!(
            parse("cron(0 3 ? * 2,5 *)", "UTC").interval(),
            Some(Duration::days(4))
        );
        // A day of the month, the last day, the nth weekday: not judged (no interval, no next run).
        for other in [
            "cron(0 3 1 * ? *)",
            "cron(0 3 L * ? *)",
            "cron(0 3 ? * 6#3 *)",
            "cron(0 3 ? * FRI-MON *)",
        ] {
            assert_eq!(parse(other, "UTC"), Expr::Other, "{other}");
        }
        // No input overflows: the largest rate still has a next run or none, never a panic.
        let huge = parse("rate(4294967295 days)", "UTC");
        assert_eq!(huge.interval(), Some(Duration::days(4_294_967_295)));
        let _ = huge.next_run(
            datetime!(2026-12-04 00:00 UTC),
            Some(datetime!(2026-01-01 00:00 UTC)),
        );
        assert_eq!(parse("rate(99999999999 days)", "UTC"), Expr::Other);
        assert_eq!(parse("cron(0/5 3 * * ? *)", "UTC"), Expr::Other);
        assert_eq!(parse("cron(0 3 * * ? *)", "Europe/Paris"), Expr::Other);
        assert_eq!(parse("at(2026-01-01T00:00:00)", "UTC").interval(), None);
    }

    #[test]
    fn next_runs_of_a_daily_cron_and_a_rate() {
        let now = datetime!(2026-12-04 02:42 UTC);
        assert_eq!(
            parse("cron(0 3 * * ? *)", "UTC").next_run(now, None),
            Some(datetime!(2026-12-04 03:00 UTC))
        );
        assert_eq!(
            parse("cron(30 1 * * ? *)", "UTC").next_run(now, None),
            Some(datetime!(2026-12-05 01:30 UTC))
        );
        let start = datetime!(2026-12-01 00:10 UTC);
        assert_eq!(
            parse("rate(1 day)", "UTC").next_run(now, Some(start)),
            Some(datetime!(2026-12-05 00:10 UTC))
        );
        assert_eq!(parse("rate(1 day)", "UTC").next_run(now, None), None);
    }

    #[test]
    fn a_window_overlaps_a_run_inside_it_or_just_before() {
        let w = window("03:30-04:30").unwrap();
        assert!(overlaps(3 * 60 + 45, w, 60));
        assert!(overlaps(3 * 60, w, 60));
        assert!(!overlaps(5 * 60, w, 60));
        assert!(!overlaps(60, w, 60));
        assert!(overlaps(10, window("23:30-00:30").unwrap(), 0));
        assert_eq!(window("25:00-01:00"), None);
    }
}
