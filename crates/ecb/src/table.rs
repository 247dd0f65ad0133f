//! Tables and times as `ecb` prints them (comfy-table; UTC times as RFC 3339 to the second).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use time::OffsetDateTime;

/// A table with `header`, fitted to the terminal's width.
pub fn new(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

/// `2026-12-04T03:04:05Z`.
pub fn time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Seconds as `1h 2m 3s` (humantime).
pub fn duration(seconds: i64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(seconds.unsigned_abs())).to_string()
}

/// Prints `value` as pretty JSON on stdout ([`out`]).
pub fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => out(text),
        Err(e) => eprintln!("ecb: JSON: {e}"),
    }
}

/// Writes `text` and a newline to stdout. A closed pipe (`ecb runs | head`) ends the process quietly with exit code
/// 0, as a command killed by SIGPIPE would end, instead of the panic `println!` gives; other write errors are
/// reported on stderr.
pub fn out(text: impl std::fmt::Display) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("ecb: writing to stdout: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(
            time(datetime!(2026-12-04 04:04:05.9 +01:00)),
            "2026-12-04T03:04:05Z"
        );
        assert_eq!(duration(3723), "1h 2m 3s");
    }
}
