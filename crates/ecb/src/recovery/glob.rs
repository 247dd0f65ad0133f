//! Redis glob patterns ([`Pattern`]): the rules `KEYS`, `SCAN … MATCH` and `PSUBSCRIBE` use, from Redis `util.c`
//! `stringmatchlen`, compiled once and matched byte by byte (keys need not be UTF-8) in O(pattern × key) time at
//! worst (the usual two-pointer star algorithm: no backtracking blow-up, no recursion).
//!
//! The rules, as `stringmatchlen` applies them:
//! - `*` matches any run of bytes (also none), `?` any one byte; anything else matches itself.
//! - `\x` matches `x` literally, outside and inside brackets.
//! - `[abc]` matches one of the bytes; `[^abc]` one byte that is none of them; `[a-z]` a range, its ends in either
//!   order (`[z-a]` is `[a-z]`). A range's end is taken as it stands (`[a-]]` is the range `]`..`a`), and an escaped
//!   byte never starts a range (`[\a-z]` is `a`, `-`, `z`). `[]` matches nothing and `[^]` any byte.
//! - An empty key matches only the empty pattern, and `*` alone, which `KEYS` and `SCAN` take as "every key"
//!   (`keysCommand` / `scanGenericCommand` skip matching for it).
//!
//! Where this is stricter than Redis (an error instead of a guess, so a typo never selects keys nobody meant):
//! - an unclosed `[` (Redis takes the rest of the pattern as the set) is refused, naming its position;
//! - a trailing lone `\` (Redis takes it as a literal backslash) is refused;
//! - more than [`MAX_STARS`] `*` groups are refused: Redis stops recursing at that depth and then matches nothing.
//!
//! One byte-level difference: Redis compares range ends as C `char`, which is signed on x86-64 and unsigned on
//! ARM64 (Graviton, which ElastiCache runs on). Ranges here compare unsigned bytes, as ARM64 builds do; the two differ
//! only for a range with one end below 0x80 and the other at or above it.

use std::fmt;

/// `*` groups a pattern may have: `stringmatchlen` gives up (no match) past 1000 nested stars.
pub const MAX_STARS: usize = 1000;

/// A compiled Redis glob pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct Pattern {
    source: Vec<u8>,
    tokens: Vec<Token>,
}

#[derive(Clone, PartialEq, Eq)]
enum Token {
    /// One byte, literally.
    Byte(u8),
    /// Any one byte (`?`).
    Any,
    /// Any run of bytes (one or more `*`).
    Star,
    /// One byte of a set (`[...]`, already negated for `[^...]`): bit `b` of the 256-bit map.
    Set(Box<[u64; 4]>),
}

impl Token {
    fn matches(&self, b: u8) -> bool {
        match self {
            Self::Byte(x) => *x == b,
            Self::Any => true,
            Self::Star => false,
            Self::Set(bits) => bits[usize::from(b >> 6)] & (1 << (b & 63)) != 0,
        }
    }
}

/// Why a pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// A `[` without its `]`.
    #[error(
        "pattern {pattern}: the `[` at byte {at} (counting from 0) is never closed by a `]` (a `]` right after `-` \
         ends a range, not the set; write `\\[` for a literal `[`)"
    )]
    UnclosedBracket {
        /// The pattern, as text (lossy for non-UTF-8 bytes).
        pattern: String,
        /// Offset of the `[`.
        at: usize,
    },
    /// A `\` with nothing after it.
    #[error("pattern {pattern}: it ends with a lone `\\` (write `\\\\` for a literal backslash)")]
    TrailingBackslash {
        /// The pattern, as text.
        pattern: String,
    },
    /// Too many `*` groups.
    #[error(
        "pattern {pattern}: more than {MAX_STARS} `*` groups (Redis matches nothing past that depth)"
    )]
    TooManyStars {
        /// The pattern, as text.
        pattern: String,
    },
}

impl Pattern {
    /// Compiles `pattern`.
    ///
    /// # Errors
    /// [`PatternError`]: an unclosed `[`, a trailing lone `\`, more than [`MAX_STARS`] `*` groups.
    pub fn new(pattern: &[u8]) -> Result<Self, PatternError> {
        let text = || format!("{:?}", String::from_utf8_lossy(pattern));
        let mut tokens = Vec::new();
        let mut stars = 0;
        let mut i = 0;
        while let Some(&c) = pattern.get(i) {
            match c {
                b'*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                        stars += 1;
                    }
                    i += 1;
                }
                b'?' => {
                    tokens.push(Token::Any);
                    i += 1;
                }
                b'\\' => match pattern.get(i + 1) {
                    Some(&x) => {
                        tokens.push(Token::Byte(x));
                        i += 2;
                    }
                    None => return Err(PatternError::TrailingBackslash { pattern: text() }),
                },
                b'[' => {
                    let (set, next) =
                        parse_set(pattern, i).ok_or_else(|| PatternError::UnclosedBracket {
                            pattern: text(),
                            at: i,
                        })?;
                    tokens.push(Token::Set(set));
                    i = next;
                }
                _ => {
                    tokens.push(Token::Byte(c));
                    i += 1;
                }
            }
        }
        if stars > MAX_STARS {
            return Err(PatternError::TooManyStars { pattern: text() });
        }
        Ok(Self {
            source: pattern.to_vec(),
            tokens,
        })
    }

    /// The pattern as given.
    pub fn as_bytes(&self) -> &[u8] {
        &self.source
    }

    /// Whether the pattern is `*` alone: every key (no need to look).
    pub fn matches_everything(&self) -> bool {
        self.source == b"*"
    }

    /// Whether `key` matches, as `KEYS pattern` / `SCAN MATCH pattern` would decide it.
    pub fn matches(&self, key: &[u8]) -> bool {
        if key.is_empty() {
            // stringmatchlen never enters its loop for an empty string; KEYS/SCAN take a lone `*` as "all".
            return self.tokens.is_empty() || self.matches_everything();
        }
        let tokens = &self.tokens;
        let (mut p, mut k) = (0, 0);
        // The last `*` seen and the key offset it is currently taken to end at.
        let mut star: Option<(usize, usize)> = None;
        while k < key.len() {
            match tokens.get(p) {
                Some(Token::Star) => {
                    star = Some((p, k));
                    p += 1;
                    continue;
                }
                Some(t) if t.matches(key[k]) => {
                    p += 1;
                    k += 1;
                    continue;
                }
                _ => {}
            }
            // Mismatch: let the last `*` take one more byte, or fail.
            match star {
                Some((sp, sk)) => {
                    star = Some((sp, sk + 1));
                    p = sp + 1;
                    k = sk + 1;
                }
                None => return false,
            }
        }
        tokens[p..].iter().all(|t| *t == Token::Star)
    }

    /// The bytes every matching key starts with (escapes resolved), up to the first `*`, `?` or `[`.
    pub fn literal_prefix(&self) -> Vec<u8> {
        self.tokens
            .iter()
            .map_while(|t| match t {
                Token::Byte(b) => Some(*b),
                _ => None,
            })
            .collect()
    }
}

/// The set starting at `pattern[open]` (a `[`) and the offset after its `]`; `None` when it is never closed.
/// Mirrors the `[` branch of `stringmatchlen`.
fn parse_set(pattern: &[u8], open: usize) -> Option<(Box<[u64; 4]>, usize)> {
    let mut bits = Box::new([0u64; 4]);
    let mut set = |b: u8| bits[usize::from(b >> 6)] |= 1 << (b & 63);
    let mut i = open + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    loop {
        let c = *pattern.get(i)?;
        let left = pattern.len() - i;
        if c == b'\\' && left >= 2 {
            set(pattern[i + 1]);
            i += 2;
        } else if c == b']' {
            break;
        } else if left >= 3 && pattern[i + 1] == b'-' {
            let (a, b) = (c, pattern[i + 2]);
            for x in a.min(b)..=a.max(b) {
                set(x);
            }
            i += 3;
        } else {
            set(c);
            i += 1;
        }
    }
    if negate {
        for w in bits.iter_mut() {
            *w = !*w;
        }
    }
    Some((bits, i + 1))
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", String::from_utf8_lossy(&self.source))
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.source))
    }
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, key: &str) -> bool {
        Pattern::new(pattern.as_bytes())
            .unwrap()
            .matches(key.as_bytes())
    }

    /// A transcription of `stringmatchlen` (recursive, as Redis has it, without its nesting guard) to compare with.
    fn redis(p: &[u8], s: &[u8]) -> bool {
        fn go(mut p: &[u8], mut s: &[u8]) -> bool {
            while !p.is_empty() && !s.is_empty() {
                match p[0] {
                    b'*' => {
                        while p.len() > 1 && p[1] == b'*' {
                            p = &p[1..];
                        }
                        if p.len() == 1 {
                            return true;
                        }
                        while !s.is_empty() {
                            if go(&p[1..], s) {
                                return true;
                            }
                            s = &s[1..];
                        }
                        return false;
                    }
                    b'?' => s = &s[1..],
                    b'[' => {
                        p = &p[1..];
                        let not = p.first() == Some(&b'^');
                        if not {
                            p = &p[1..];
                        }
                        let mut hit = false;
                        loop {
                            if p.first() == Some(&b'\\') && p.len() >= 2 {
                                p = &p[1..];
                                hit |= p[0] == s[0];
                            } else if p.first() == Some(&b']') {
                                break;
                            } else if p.is_empty() {
                                return false; // unclosed: never compared (refused by Pattern::new)
                            } else if p.len() >= 3 && p[1] == b'-' {
                                let (a, b) = (p[0].min(p[2]), p[0].max(p[2]));
                                p = &p[2..];
                                hit |= (a..=b).contains(&s[0]);
                            } else {
                                hit |= p[0] == s[0];
                            }
                            p = &p[1..];
                        }
                        if hit == not {
                            return false;
                        }
                        s = &s[1..];
                    }
                    c => {
                        let c = if c == b'\\' && p.len() >= 2 {
                            p = &p[1..];
                            p[0]
                        } else {
                            c
                        };
                        if c != s[0] {
                            return false;
                        }
                        s = &s[1..];
                    }
                }
                p = &p[1..];
                if s.is_empty() {
                    while p.first() == Some(&b'*') {
                        p = &p[1..];
                    }
                    break;
                }
            }
            p.is_empty() && s.is_empty()
        }
        if p == b"*" {
            return true;
        }
        go(p, s)
    }

    #[test]
    fn the_redis_keyspace_tests_select_the_same_keys() {
        // tests/unit/keyspace.tcl "KEYS with pattern", "KEYS to get all keys", "KEYS with hashtag".
        let keys = ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"];
        let select = |p: &str| -> Vec<&str> { keys.iter().copied().filter(|k| m(p, k)).collect() };
        assert_eq!(select("foo*"), ["foo_a", "foo_b", "foo_c"]);
        assert_eq!(select("f*"), ["foo_a", "foo_b", "foo_c"]);
        assert_eq!(select("f*o*"), ["foo_a", "foo_b", "foo_c"]);
        assert_eq!(select("*").len(), 6);
        assert!(m("{a}*", "{a}x") && m("{a}*", "{a}") && !m("{a}*", "{b}a"));
        // "Regression for pattern matching long nested loops": no match, and quickly.
        let long = "a".repeat(50);
        assert!(!m(&format!("{}b", "a*".repeat(32)), &long));
    }

    #[test]
    fn wildcards_sets_ranges_and_escapes() {
        assert!(m("h?llo", "hello") && m("h?llo", "hallo") && !m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo") && m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hello") && m("h[ae]llo", "hallo") && !m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo") && !m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo") && !m("h[a-b]llo", "hcllo"));
        // Reversed ranges are ranges.
        assert!(m("[z-a]", "q") && m("[9-0]x", "5x"));
        // Escapes, outside and inside brackets.
        assert!(m(r"a\*b", "a*b") && !m(r"a\*b", "axb"));
        assert!(m(r"\?", "?") && !m(r"\?", "x"));
        assert!(m(r"[\]]", "]") && m(r"[\^]", "^") && !m(r"[\^]", "a"));
        assert!(m(r"[\a-z]", "-") && m(r"[\a-z]", "z") && !m(r"[\a-z]", "q"));
        // A range's end is taken as it stands, even `]` or `\`.
        assert!(m("[a-]]", "^") && m("[a-]]", "]") && !m("[a-]]", "b"));
        assert!(m(r"[a-\]x", "^x"));
        // `^` only negates first; `-` at the start or end is literal.
        assert!(m("[a^]", "^") && m("[-a]", "-") && m("[a-z-]", "-"));
        assert!(m("[a-]x]", "x") && m("[a-]x]", "_") && !m("[a-]x]", "-"));
        // Empty sets: `[]` is closed at once.
        assert!(!m("[]", "a") && m("[^]", "a") && !m("x[]]", "x]"));
        // Empty keys: only the empty pattern and the lone `*`.
        assert!(m("", "") && m("*", "") && !m("**", "") && !m("?", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn keys_are_bytes() {
        let p = Pattern::new(b"\xff*\x00").unwrap();
        assert!(p.matches(b"\xff\x80\x00") && !p.matches(b"\xfe\x00"));
        assert!(Pattern::new(b"[\x80-\xff]").unwrap().matches(b"\xc3"));
    }

    #[test]
    fn unclosed_brackets_and_lone_backslashes_are_refused_by_position() {
        let e = Pattern::new(b"user:[0-9*").unwrap_err();
        assert_eq!(
            e,
            PatternError::UnclosedBracket {
                pattern: "\"user:[0-9*\"".into(),
                at: 5
            }
        );
        assert!(e.to_string().contains("byte 5"), "{e}");
        for bad in ["[", "[a", "[^", "a[a-]", r"[\]", r"a[\", "[a-]x"] {
            assert!(
                matches!(
                    Pattern::new(bad.as_bytes()),
                    Err(PatternError::UnclosedBracket { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            Pattern::new(br"abc\"),
            Err(PatternError::TrailingBackslash { .. })
        ));
        assert!(Pattern::new(br"abc\\").unwrap().matches(br"abc\"));
        assert!(matches!(
            Pattern::new("a*".repeat(MAX_STARS + 1).as_bytes()),
            Err(PatternError::TooManyStars { .. })
        ));
        assert!(Pattern::new("a*".repeat(MAX_STARS).as_bytes()).is_ok());
    }

    #[test]
    fn the_literal_prefix_stops_at_the_first_wildcard() {
        let p = |s: &str| Pattern::new(s.as_bytes()).unwrap().literal_prefix();
        assert_eq!(p("user:*"), b"user:");
        assert_eq!(p(r"a\*b?c"), b"a*b");
        assert_eq!(p("[ab]x"), b"");
        assert_eq!(p("plain"), b"plain");
    }

    #[test]
    fn a_pathological_pattern_stays_fast() {
        let key = vec![b'a'; 20_000];
        let pattern = format!("{}b", "*a".repeat(500));
        let start = std::time::Instant::now();
        assert!(!Pattern::new(pattern.as_bytes()).unwrap().matches(&key));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn it_agrees_with_a_transcription_of_stringmatchlen_on_every_small_case() {
        // Every pattern over a small alphabet up to 4 bytes against every key up to 3 bytes.
        let alphabet = [b'a', b'b', b'*', b'?', b'[', b']', b'^', b'-', b'\\'];
        let keys_alpha = [b'a', b'b', b'-', b']', b'^', b'\\', b'*'];
        let mut patterns: Vec<Vec<u8>> = vec![Vec::new()];
        let mut layer = vec![Vec::new()];
        for _ in 0..4 {
            layer = layer
                .iter()
                .flat_map(|p: &Vec<u8>| {
                    alphabet.iter().map(move |c| {
                        let mut q = p.clone();
                        q.push(*c);
                        q
                    })
                })
                .collect();
            patterns.extend(layer.iter().cloned());
        }
        let mut keys: Vec<Vec<u8>> = vec![Vec::new()];
        let mut layer = vec![Vec::new()];
        for _ in 0..3 {
            layer = layer
                .iter()
                .flat_map(|k: &Vec<u8>| {
                    keys_alpha.iter().map(move |c| {
                        let mut q = k.clone();
                        q.push(*c);
                        q
                    })
                })
                .collect();
            keys.extend(layer.iter().cloned());
        }
        let mut compared = 0;
        for p in &patterns {
            let Ok(compiled) = Pattern::new(p) else {
                continue;
            };
            for k in &keys {
                assert_eq!(
                    compiled.matches(k),
                    redis(p, k),
                    "pattern {:?} key {:?}",
                    String::from_utf8_lossy(p),
                    String::from_utf8_lossy(k)
                );
                compared += 1;
            }
        }
        assert!(compared > 1_000_000, "{compared}");
    }
}
