//! STAND-INS, until the keys-read branch's `recovery/glob.rs` (the Redis glob [`Pattern`]) and `recovery/source.rs`
//! (BACKUP → shards) land: the lead swaps these for them on merge (the uses are `Pattern::parse`,
//! `Pattern::matches`, [`shards`], [`Shard::name`] and [`Shard::open`]). Only local `.rdb` files here.

use std::io::Read;
use std::path::PathBuf;

use crate::error::{CliError, CliResult};

/// A Redis glob pattern (util.c `stringmatchlen`: `*`, `?`, `[...]` with `^` and ranges, `\` escapes), case-sensitive.
#[derive(Debug, Clone)]
pub struct Pattern(Vec<u8>);

impl Pattern {
    /// Parses `text`.
    ///
    /// # Errors
    /// An unclosed `[`, a trailing `\`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let p = text.as_bytes();
        let mut i = 0;
        while i < p.len() {
            match p[i] {
                b'\\' if i + 1 == p.len() => return Err("a trailing \\ escapes nothing".into()),
                b'\\' => i += 2,
                b'[' => {
                    i += 1;
                    loop {
                        match p.get(i) {
                            None => return Err(format!("the [ at {} is not closed", text.len())),
                            Some(b'\\') => i += 2,
                            Some(b']') => break,
                            Some(_) => i += 1,
                        }
                    }
                    i += 1;
                }
                _ => i += 1,
            }
        }
        Ok(Self(p.to_vec()))
    }

    /// Whether `key` matches.
    pub fn matches(&self, key: &[u8]) -> bool {
        glob(&self.0, key)
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    while pi < p.len() {
        match p[pi] {
            b'*' => {
                while p.get(pi + 1) == Some(&b'*') {
                    pi += 1;
                }
                if pi + 1 == p.len() {
                    return true;
                }
                return (si..=s.len()).any(|k| glob(&p[pi + 1..], &s[k..]));
            }
            b'?' => {
                if si >= s.len() {
                    return false;
                }
                si += 1;
            }
            b'[' => {
                let Some(&c) = s.get(si) else { return false };
                pi += 1;
                let not = p.get(pi) == Some(&b'^');
                if not {
                    pi += 1;
                }
                let mut hit = false;
                while let Some(&x) = p.get(pi) {
                    if x == b']' {
                        break;
                    }
                    if x == b'\\' && pi + 1 < p.len() {
                        pi += 1;
                        hit |= p[pi] == c;
                    } else if p.get(pi + 1) == Some(&b'-') && pi + 2 < p.len() && p[pi + 2] != b']'
                    {
                        let (lo, hi) = (x.min(p[pi + 2]), x.max(p[pi + 2]));
                        hit |= (lo..=hi).contains(&c);
                        pi += 2;
                    } else {
                        hit |= x == c;
                    }
                    pi += 1;
                }
                if hit == not {
                    return false;
                }
                si += 1;
            }
            b'\\' if pi + 1 < p.len() => {
                pi += 1;
                if s.get(si) != Some(&p[pi]) {
                    return false;
                }
                si += 1;
            }
            x => {
                if s.get(si) != Some(&x) {
                    return false;
                }
                si += 1;
            }
        }
        pi += 1;
    }
    si == s.len()
}

/// One RDB stream of the backup.
#[derive(Debug, Clone)]
pub struct Shard {
    /// How messages name it (the path).
    pub name: String,
    path: PathBuf,
}

impl Shard {
    /// Opens it for one pass, front to back.
    ///
    /// # Errors
    /// The file cannot be opened.
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&self.path)?,
        )))
    }
}

/// The shards of BACKUP (stand-in: a local file only).
///
/// # Errors
/// [`CliError::Usage`] for `s3://` (not in the stand-in) and [`CliError::NotFound`] for a missing file.
pub fn shards(backup: &str) -> CliResult<Vec<Shard>> {
    if backup.starts_with("s3://") {
        return Err(CliError::Usage(format!(
            "{backup}: s3:// backups come with recovery/source.rs (stand-in: local files only)"
        )));
    }
    let path = PathBuf::from(backup);
    if !path.is_file() {
        return Err(CliError::NotFound(format!("{backup}: no such file")));
    }
    Ok(vec![Shard {
        name: backup.to_string(),
        path,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_redis_does() {
        let m = |p: &str, s: &str| Pattern::parse(p).unwrap().matches(s.as_bytes());
        assert!(m("user:*", "user:1") && !m("user:*", "users:1"));
        assert!(m("h?llo", "hello") && !m("h?llo", "hllo"));
        assert!(m("h[ae]llo", "hallo") && !m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo") && !m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo") && !m("h[a-b]llo", "hcllo"));
        assert!(m("a\\*b", "a*b") && !m("a\\*b", "axb"));
        assert!(m("*", "") && m("**x", "abx"));
        assert!(Pattern::parse("user:[").is_err());
        assert!(Pattern::parse("x\\").is_err());
    }
}
