//! Cutting free text to a length, by characters: the one place text is shortened.
//!
//! Text that reaches a limit here can be anything — a service's error page in another script, an AWS message, an
//! execution's cause, an id typed by hand — and slicing a `str` at a byte index panics when that byte falls inside a
//! multi-byte character. Every cut of such text goes through [`clip`] or [`ellipsize`], which only ever cut between
//! characters (Unicode scalar values; a combining mark may be separated from its base, never a character split).
//! The limits they serve (Slack's, PagerDuty's, the fleet summary's) are counted in characters too.

/// The longest prefix of `s` with at most `max_chars` characters; `s` itself when it is no longer.
///
/// Never panics; the result is always a prefix of `s` ending on a character boundary.
pub fn clip(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        // `char_indices` yields only character boundaries, so `get` always succeeds.
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// `s` cut to at most `max_chars` characters, ending in `…` when it was cut (the `…` counts towards `max_chars`);
/// `s` unchanged when it fits, and empty when `max_chars` is 0.
///
/// Never panics; a cut result is a prefix of `s` of `max_chars - 1` characters followed by `…`.
pub fn ellipsize(s: &str, max_chars: usize) -> String {
    let kept = clip(s, max_chars);
    if kept.len() == s.len() {
        return s.to_string();
    }
    let Some(room) = max_chars.checked_sub(1) else {
        return String::new();
    };
    let mut out = String::with_capacity(kept.len() + '…'.len_utf8());
    out.push_str(clip(kept, room));
    out.push('…');
    out
}

/// `s` cut to at most `max_bytes` bytes of UTF-8, between characters, ending in `…` when it was cut (the `…`'s
/// three bytes count towards `max_bytes`); `s` unchanged when it fits. For limits AWS counts in bytes (a Step
/// Functions payload, a Lambda error message).
///
/// Never panics; a cut result is a prefix of `s` followed by `…`, or empty when `max_bytes` < 3.
pub fn ellipsize_bytes(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_string();
    }
    let Some(room) = max_bytes.checked_sub('…'.len_utf8()) else {
        return String::new();
    };
    let end = (0..=room)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    let mut out = String::with_capacity(end + '…'.len_utf8());
    out.push_str(s.get(..end).unwrap_or_default());
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ellipsize_bytes_cuts_between_characters_within_the_byte_limit() {
        assert_eq!(ellipsize_bytes("abc", 3), "abc");
        assert_eq!(ellipsize_bytes("abcdef", 5), "ab…");
        assert_eq!(ellipsize_bytes("éééé", 7), "éé…");
        assert_eq!(ellipsize_bytes("éééé", 6), "é…");
        assert_eq!(ellipsize_bytes("abcd", 2), "");
    }

    proptest! {
        #[test]
        fn ellipsize_bytes_never_exceeds_its_limit(s in ".*", max in 0usize..64) {
            let out = ellipsize_bytes(&s, max);
            prop_assert!(out.len() <= max || out == s);
            prop_assert!(s.starts_with(out.trim_end_matches('…')));
        }
    }

    #[test]
    fn clip_cuts_between_characters() {
        let s = format!("x{}", "é".repeat(10));
        assert_eq!(clip(&s, 3), "xéé");
        assert_eq!(clip(&s, 0), "");
        assert_eq!(clip(&s, 11), s);
        assert_eq!(clip(&s, 500), s);
        assert_eq!(clip("访问被拒绝", 2), "访问");
    }

    #[test]
    fn ellipsize_marks_a_cut_and_leaves_short_text_alone() {
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("abcd", 4), "abcd");
        assert_eq!(ellipsize("访问被拒绝", 3), "访问…");
        assert_eq!(ellipsize("abc", 0), "");
        assert_eq!(ellipsize("abc", 1), "…");
        assert_eq!(ellipsize("", 0), "");
    }

    proptest! {
        #[test]
        fn clip_is_a_prefix_of_at_most_max_chars(s in ".*", long in ".{0,600}", max in 0usize..700) {
            for s in [s.as_str(), long.as_str()] {
                let c = clip(s, max);
                prop_assert!(s.starts_with(c));
                prop_assert_eq!(c.chars().count(), s.chars().count().min(max));
            }
        }

        #[test]
        fn ellipsize_keeps_the_bound_and_marks_the_cut(s in ".*", long in ".{0,600}", max in 0usize..700) {
            for s in [s.as_str(), long.as_str()] {
                let e = ellipsize(s, max);
                prop_assert!(e.chars().count() <= max);
                if s.chars().count() <= max {
                    prop_assert_eq!(&e, s);
                } else if max > 0 {
                    let kept = e.strip_suffix('…').unwrap_or_default();
                    prop_assert!(e.ends_with('…') && s.starts_with(kept));
                    prop_assert_eq!(e.chars().count(), max);
                }
            }
        }
    }
}
