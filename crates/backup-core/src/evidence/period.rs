//! The window a report covers: `--since` of `ecb evidence` ([`parse_since`]) and the calendar month of the evidence
//! function ([`month_window`]). Every time is UTC.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::model::Timestamp;

/// The forms `--since` accepts, for error messages.
pub const SINCE_FORMS: &str = "a duration back from now (90d, 12h, 2w), an RFC 3339 time (2026-11-01T00:00:00Z) or a date (2026-11-01, UTC)";

/// The start of the window `text` names, relative to `now`: `<n>h`, `<n>d` or `<n>w` back from `now`, an RFC 3339
/// time, or a `YYYY-MM-DD` date (its midnight, UTC).
///
/// # Errors
/// A message naming `--since`, the text and the forms accepted, when it is none of them, zero, too far back, or
/// after `now`.
pub fn parse_since(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let bad = || format!("--since {text:?}: expected {SINCE_FORMS}");
    let t = text.trim();
    let start = if let Some(d) = duration(t) {
        let d = d.ok_or_else(bad)?;
        now.checked_sub(d)
            .ok_or_else(|| format!("--since {text:?}: too far back"))?
    } else if let Ok(at) = OffsetDateTime::parse(t, &Rfc3339) {
        at
    } else if let Ok(day) = Date::parse(t, format_description!("[year]-[month]-[day]")) {
        day.with_time(Time::MIDNIGHT).assume_utc()
    } else {
        return Err(bad());
    };
    if start >= now {
        return Err(format!(
            "--since {text:?}: the window must start before now ({})",
            crate::model::rfc3339(now)
        ));
    }
    Ok(start)
}

/// `Some(Some(d))` for a well-formed `<n>[hdw]`, `Some(None)` for a number with a unit that is zero or overflows,
/// `None` when `t` is not of that form at all.
fn duration(t: &str) -> Option<Option<Duration>> {
    let unit = t.chars().last()?;
    let hours_per = match unit {
        'h' => 1,
        'd' => 24,
        'w' => 24 * 7,
        _ => return None,
    };
    let digits = t.get(..t.len() - 1)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        digits
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .and_then(|n| n.checked_mul(hours_per))
            .filter(|h| *h <= 24 * 366 * 100)
            .map(Duration::hours),
    )
}

/// The calendar month `month` names (`YYYY-MM`), or the one before `now`'s when `None`: its first instant, the
/// first instant of the next month, and its label `YYYY-MM`.
///
/// # Errors
/// A message naming `month` when it is not `YYYY-MM` (month 01–12).
pub fn month_window(
    month: Option<&str>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp, String), String> {
    let first = match month {
        Some(m) => {
            let bad = || format!("month {m:?}: expected YYYY-MM (e.g. 2026-11)");
            let (y, mo) = m.trim().split_once('-').ok_or_else(bad)?;
            if y.len() != 4 || mo.len() != 2 {
                return Err(bad());
            }
            let year: i32 = y.parse().map_err(|_| bad())?;
            let month = mo
                .parse::<u8>()
                .ok()
                .and_then(|n| Month::try_from(n).ok())
                .ok_or_else(bad)?;
            Date::from_calendar_date(year, month, 1).map_err(|_| bad())?
        }
        None => {
            let this = now.to_offset(time::UtcOffset::UTC).date();
            let (y, m) = if this.month() == Month::January {
                (this.year() - 1, Month::December)
            } else {
                (this.year(), this.month().previous())
            };
            Date::from_calendar_date(y, m, 1).map_err(|e| format!("month before {this}: {e}"))?
        }
    };
    let (ny, nm) = if first.month() == Month::December {
        (first.year() + 1, Month::January)
    } else {
        (first.year(), first.month().next())
    };
    let next =
        Date::from_calendar_date(ny, nm, 1).map_err(|e| format!("month after {first}: {e}"))?;
    Ok((
        first.with_time(Time::MIDNIGHT).assume_utc(),
        next.with_time(Time::MIDNIGHT).assume_utc(),
        format!("{:04}-{:02}", first.year(), u8::from(first.month())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2026-12-05 12:00:00 UTC);

    #[test]
    fn durations_dates_and_times_are_accepted() {
        assert_eq!(parse_since("90d", NOW).unwrap(), NOW - Duration::days(90));
        assert_eq!(parse_since("12h", NOW).unwrap(), NOW - Duration::hours(12));
        assert_eq!(parse_since("2w", NOW).unwrap(), NOW - Duration::weeks(2));
        assert_eq!(
            parse_since("2026-11-01", NOW).unwrap(),
            datetime!(2026-11-01 00:00:00 UTC)
        );
        assert_eq!(
            parse_since("2026-11-01T06:00:00+01:00", NOW).unwrap(),
            datetime!(2026-11-01 05:00:00 UTC)
        );
    }

    #[test]
    fn anything_else_names_the_flag_and_the_forms() {
        for bad in [
            "yesterday-ish",
            "",
            "0d",
            "d",
            "-3d",
            "90x",
            "2026-13-01",
            "99999999999999w",
        ] {
            let err = parse_since(bad, NOW).unwrap_err();
            assert!(err.contains("--since"), "{bad}: {err}");
        }
        assert!(
            parse_since("yesterday-ish", NOW)
                .unwrap_err()
                .contains("90d")
        );
        assert!(
            parse_since("2027-01-01", NOW)
                .unwrap_err()
                .contains("before now")
        );
    }

    #[test]
    fn the_previous_month_is_the_default_and_a_named_month_is_whole() {
        let (from, to, label) = month_window(None, NOW).unwrap();
        assert_eq!(
            (from, to),
            (
                datetime!(2026-11-01 0:00 UTC),
                datetime!(2026-12-01 0:00 UTC)
            )
        );
        assert_eq!(label, "2026-11");
        let (from, to, label) = month_window(None, datetime!(2027-01-01 06:00 UTC)).unwrap();
        assert_eq!(
            (from, to),
            (
                datetime!(2026-12-01 0:00 UTC),
                datetime!(2027-01-01 0:00 UTC)
            )
        );
        assert_eq!(label, "2026-12");
        let (from, to, _) = month_window(Some("2026-02"), NOW).unwrap();
        assert_eq!(
            (from, to),
            (
                datetime!(2026-02-01 0:00 UTC),
                datetime!(2026-03-01 0:00 UTC)
            )
        );
        for bad in ["2026-13", "2026-1", "26-11", "november", ""] {
            assert!(
                month_window(Some(bad), NOW)
                    .unwrap_err()
                    .contains("YYYY-MM"),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn no_text_panics_the_parsers(s in "\\PC*") {
            let _ = parse_since(&s, NOW);
            let _ = month_window(Some(&s), NOW);
        }
    }
}
