//! Checks that stop within a time budget and go on later from a [`Checkpoint`]: one large file verified by several
//! short-lived processes (AWS Lambda stops a function at 15 minutes), with the same result as one pass.
//!
//! [`check_and_hash_from`] reads the file from the start, or from a checkpoint, and asks a [`Pause`] at opcode
//! boundaries (between two keys, or between a key's EXPIRETIME and the key) whether to stop. A paused check returns
//! a [`Checkpoint`]: where the next opcode starts, everything the check has counted so far (keys per database and
//! type, the sample, the hash slots, the AUX fields), the running CRC-64, and the SHA-256 state. The SHA-256 state
//! is the one at the start of the read chunk the check was parsing (`shaAt`, at most [`READ_CHUNK`] bytes before
//! `offset` in practice): the next invocation reads the file from `shaAt`, hashes the bytes up to `offset`, and
//! parses from `offset`. So the SHA-256 stays the SHA-256 of the whole file, and the report equals a single pass's
//! (tests compare them on every fixture, cut at every opcode boundary).
//!
//! A checkpoint is JSON (serde), a few hundred bytes for most files and under [`MAX_CHECKPOINT_BYTES`] in all but
//! pathological ones (see [`Checkpoint::json_len`]): the sample is bounded by
//! [`MAX_SAMPLE_NAME_BYTES`](crate::MAX_SAMPLE_NAME_BYTES), the hash slots take the shortest of five text forms
//! (at most 2,732 characters), and the per-slot records as their difference from the keys' slots. Its
//! `format` is [`CHECKPOINT_FORMAT`]: a checkpoint of another format, or one whose state is not valid, is refused
//! with [`RdbError::Checkpoint`], and the check starts again from the first byte.

use std::io::Read;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::digest::common::hazmat::SerializableState;
use sha2::{Digest, Sha256};

use crate::error::RdbError;
use crate::hashing::{self, ChunkStart};
use crate::parser::{self, Resumable};
use crate::report::Report;
use crate::state::ParserState;
pub use crate::state::Pause;

#[cfg(doc)]
use crate::hashing::READ_CHUNK;

/// The checkpoint format this version writes and reads.
pub const CHECKPOINT_FORMAT: u32 = 1;

/// The size a checkpoint's JSON stays under, bytes, unless its hash slots are near half of all 16,384 (scattered at
/// random: a bitmap of 2,732 characters) and its sampled key names long (up to
/// [`MAX_SAMPLE_NAME_BYTES`](crate::MAX_SAMPLE_NAME_BYTES)); VerifyShard logs a warning past it.
pub const MAX_CHECKPOINT_BYTES: usize = 4096;

/// Most bytes between the offset a checkpoint's SHA-256 state is at and its parse offset that a checkpoint may ask
/// to re-read: far above the 256 KiB chunks the check reads.
const MAX_REHASH_BYTES: u64 = 64 * 1024 * 1024;

/// Pauses once a moment has passed. The clock is read every [`Deadline::POLL_BYTES`] bytes, not at every key.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    /// Bytes checked between two readings of the clock (1 MiB: about a millisecond of checking).
    pub const POLL_BYTES: u64 = 1 << 20;

    /// Pauses at the first opcode boundary after `budget` from now.
    #[must_use]
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }
}

impl Pause for Deadline {
    fn poll(&mut self, offset: u64) -> Option<u64> {
        (Instant::now() < self.0).then_some(offset + Self::POLL_BYTES)
    }
}

/// Pauses at the first opcode boundary at or after a file offset (tests and benchmarks: deterministic cuts).
#[derive(Debug, Clone, Copy)]
pub struct PauseAt(pub u64);

impl Pause for PauseAt {
    fn poll(&mut self, offset: u64) -> Option<u64> {
        (offset < self.0).then_some(self.0)
    }
}

/// Never pauses.
#[derive(Debug, Clone, Copy)]
pub struct NoPause;

impl Pause for NoPause {
    fn poll(&mut self, _offset: u64) -> Option<u64> {
        Some(u64::MAX)
    }
}

/// Where a paused check stopped and what it had found, to go on from with [`check_and_hash_from`].
///
/// JSON shape (camelCase): `{"format": 1, "shaAt": <offset>, "sha": <base64>, "parse": {"offset", "crc", "header",
/// "db", "dbKeys", "expiry", "aux", "databases", "keys", "types", "functions", "moduleAux", "sample", "sampleRoom",
/// "slots", "slotInfo"}}`. The SHA-256 state is `sha2`'s serialized state (the eight words, the block count and the
/// partial block) in unpadded URL-safe base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Checkpoint {
    /// [`CHECKPOINT_FORMAT`] when written.
    pub format: u32,
    /// The file offset the SHA-256 state `sha` is at (≤ the parse offset), bytes.
    pub sha_at: u64,
    /// The SHA-256 state of the bytes before `sha_at`.
    sha: String,
    /// The parser's state at the parse offset.
    parse: ParserState,
}

impl Checkpoint {
    /// Where the check goes on: the offset of the next opcode, bytes.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.parse.offset
    }

    /// Where the next invocation must start reading the file (the SHA-256 state's offset), bytes.
    #[must_use]
    pub fn read_from(&self) -> u64 {
        self.sha_at
    }

    /// Keys checked so far.
    #[must_use]
    pub fn keys(&self) -> u64 {
        self.parse.keys[0] + self.parse.db_keys[0]
    }

    /// The size of the checkpoint as JSON, bytes.
    #[must_use]
    pub fn json_len(&self) -> usize {
        serde_json::to_vec(self).map_or(usize::MAX, |v| v.len())
    }

    /// Checks that this version can go on from the checkpoint: its format, its offsets, its SHA-256 state.
    ///
    /// # Errors
    /// [`RdbError::Checkpoint`] naming what is wrong (another format first).
    pub fn validate(&self) -> Result<Sha256, RdbError> {
        let refuse = |reason: String| Err(RdbError::Checkpoint { reason });
        if self.format != CHECKPOINT_FORMAT {
            return refuse(format!(
                "format {} is not {CHECKPOINT_FORMAT}, the one this version reads (written by another version)",
                self.format
            ));
        }
        if self.sha_at > self.parse.offset || self.parse.offset - self.sha_at > MAX_REHASH_BYTES {
            return refuse(format!(
                "shaAt {} is not within {MAX_REHASH_BYTES} bytes before offset {}",
                self.sha_at, self.parse.offset
            ));
        }
        self.parse.crc_state()?;
        let state = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.sha)
            .ok()
            .and_then(|bytes| bytes.as_slice().try_into().ok())
            .and_then(|bytes| Sha256::deserialize(&bytes).ok());
        match state {
            Some(sha) => Ok(sha),
            None => refuse("sha is not a SHA-256 state".into()),
        }
    }
}

/// How far a resumable check got.
#[derive(Debug)]
pub enum Progress {
    /// The whole file is checked: the report and the file's SHA-256 (64 lower-case hex digits), as
    /// [`check_and_hash`](crate::check_and_hash) returns them.
    Finished(Box<Report>, String),
    /// Paused at an opcode boundary: go on with [`check_and_hash_from`] and this checkpoint.
    Paused(Box<Checkpoint>),
}

/// Checks (and hashes) an RDB file as [`check_and_hash`](crate::check_and_hash) does, from its first byte (`from`
/// `None`) or from a checkpoint, asking `pause` at opcode boundaries whether to stop; at least one opcode is read
/// before the first stop, so every call makes progress.
///
/// `reader` gives the file's bytes from [`Checkpoint::read_from`] (from the first byte without a checkpoint). The
/// SHA-256 runs on a second thread where there are two CPUs, inline otherwise, as in
/// [`check_and_hash`](crate::check_and_hash).
///
/// # Errors
/// [`RdbError::Checkpoint`] for a checkpoint this version cannot go on from (nothing is read then); otherwise what
/// [`check_and_hash`](crate::check_and_hash) returns, with offsets from the start of the file.
pub fn check_and_hash_from<R: Read + Send>(
    reader: R,
    from: Option<&Checkpoint>,
    pause: &mut dyn Pause,
) -> Result<Progress, RdbError> {
    let threaded = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) >= 2;
    resume_with(reader, from, pause, threaded)
}

/// [`check_and_hash_from`], the SHA-256 on a second thread or inline.
fn resume_with<R: Read + Send>(
    mut reader: R,
    from: Option<&Checkpoint>,
    pause: &mut dyn Pause,
    threaded: bool,
) -> Result<Progress, RdbError> {
    let (start, state) = match from {
        None => ((0, Sha256::new()), None),
        Some(checkpoint) => {
            let mut sha = checkpoint.validate()?;
            // The bytes between the SHA-256 state and the parse offset are hashed, not parsed again.
            let mut rest = checkpoint.parse.offset - checkpoint.sha_at;
            let mut buf = vec![0u8; 64 * 1024];
            while rest > 0 {
                let want = buf.len().min(usize::try_from(rest).unwrap_or(usize::MAX));
                match reader.read(&mut buf[..want]) {
                    Ok(0) => {
                        return Err(RdbError::Truncated {
                            offset: checkpoint.parse.offset - rest,
                            needed: rest,
                            context: "the bytes before the checkpoint",
                        });
                    }
                    Ok(n) => {
                        sha.update(&buf[..n]);
                        rest -= n as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(source) => {
                        return Err(RdbError::Io {
                            offset: checkpoint.parse.offset - rest,
                            source,
                        });
                    }
                }
            }
            (
                (checkpoint.parse.offset, sha),
                Some(checkpoint.parse.clone()),
            )
        }
    };
    let (outcome, sha, chunk) = if threaded {
        hashing::hashed_on_a_thread(reader, start, |source| {
            parser::check_resumable(source, state, pause)
        })?
    } else {
        hashing::hashed_inline(reader, start, |source| {
            parser::check_resumable(source, state, pause)
        })
    };
    Ok(match outcome? {
        Resumable::Finished(report) => Progress::Finished(report, hashing::hex(&sha.finalize())),
        Resumable::Paused(parse) => Progress::Paused(Box::new(checkpoint(*parse, chunk))),
    })
}

/// The checkpoint of a check paused with `parse`, the chunk it was parsing starting at `chunk`.
fn checkpoint(parse: ParserState, chunk: ChunkStart) -> Checkpoint {
    let (sha_at, sha) = chunk;
    Checkpoint {
        format: CHECKPOINT_FORMAT,
        sha_at,
        sha: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha.serialize()),
        parse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::tests::Trickle;

    /// Every fixture file, with its name.
    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rdb"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        out.sort();
        assert!(out.len() >= 10, "fixtures: {}", out.len());
        out
    }

    /// The outcome of a check as text (the error's message), to compare.
    fn outcome(r: Result<(Report, String), RdbError>) -> Result<(Report, String), String> {
        r.map_err(|e| e.to_string())
    }

    /// Checks `bytes` in invocations that pause at the first opcode boundary at or after each of `cuts`, every
    /// checkpoint sent through JSON, each invocation reading only from the checkpoint's `read_from`. Returns the
    /// outcome and the checkpoints.
    fn in_pieces(
        bytes: &[u8],
        cuts: &[u64],
        threaded: bool,
        step: usize,
    ) -> (Result<(Report, String), String>, Vec<Checkpoint>) {
        let mut from: Option<Checkpoint> = None;
        let mut seen = Vec::new();
        let mut cuts = cuts.iter().copied();
        loop {
            let at = from.as_ref().map_or(0, Checkpoint::read_from) as usize;
            let mut pause = PauseAt(cuts.next().unwrap_or(u64::MAX));
            let reader = Trickle {
                data: &bytes[at..],
                step,
            };
            match resume_with(reader, from.as_ref(), &mut pause, threaded) {
                Err(e) => return (Err(e.to_string()), seen),
                Ok(Progress::Finished(report, sha)) => return (Ok((*report, sha)), seen),
                Ok(Progress::Paused(cp)) => {
                    let before = from.as_ref().map_or(0, Checkpoint::offset);
                    assert!(
                        cp.offset() > before,
                        "no progress: {} after {before}",
                        cp.offset()
                    );
                    assert!(cp.read_from() <= cp.offset());
                    let json = serde_json::to_string(&*cp).unwrap();
                    assert!(
                        json.len() < MAX_CHECKPOINT_BYTES,
                        "{} bytes: {json}",
                        json.len()
                    );
                    let back: Checkpoint = serde_json::from_str(&json).unwrap();
                    assert_eq!(back, *cp);
                    seen.push(back.clone());
                    from = Some(back);
                }
            }
        }
    }

    #[test]
    fn a_check_cut_at_any_opcode_boundary_ends_as_one_pass_does_on_every_fixture() {
        for (name, bytes) in fixtures() {
            let whole = outcome(crate::hashing::check_and_hash_inline(&bytes[..]));
            let mut paused = 0;
            // One cut at every offset (about 400 offsets spread over the larger files), both ways of hashing, reads
            // of a few bytes and of whole chunks.
            let len = bytes.len() as u64;
            let step = (len / 400).max(1);
            let cuts = (0..=len + 1).filter(|c| c % step == 0 || *c + 2 >= len);
            for cut in cuts {
                for (threaded, step) in [(true, usize::MAX), (false, 7)] {
                    let (got, seen) = in_pieces(&bytes, &[cut], threaded, step);
                    assert_eq!(got, whole, "{name}, cut at {cut}, threaded {threaded}");
                    paused += seen.len();
                }
            }
            assert!(
                paused > 0 || whole.is_err(),
                "{name}: no cut paused the check"
            );
            // A pause at every opcode boundary in turn: one invocation per opcode.
            let every: Vec<u64> = (1..=bytes.len() as u64).collect();
            for threaded in [true, false] {
                let (got, _) = in_pieces(&bytes, &every, threaded, 3);
                assert_eq!(
                    got, whole,
                    "{name}, paused at every opcode, threaded {threaded}"
                );
            }
        }
    }

    #[test]
    fn a_corrupt_byte_after_a_checkpoint_fails_as_in_one_pass_naming_its_offset() {
        let (_, bytes) = fixtures()
            .into_iter()
            .find(|(n, _)| n == "cluster-redis-7.0.rdb")
            .unwrap();
        let (_, seen) = in_pieces(&bytes, &[bytes.len() as u64 / 2], true, usize::MAX);
        let cp = &seen[0];
        // A byte of the CRC-64 at the end, and a length byte just after the checkpoint.
        for at in [bytes.len() - 3, cp.offset() as usize + 1] {
            let mut bad = bytes.clone();
            bad[at] ^= 0xff;
            let whole = outcome(crate::hashing::check_and_hash_inline(&bad[..]));
            let reader = &bad[cp.read_from() as usize..];
            let resumed = resume_with(reader, Some(cp), &mut NoPause, true).map(|p| match p {
                Progress::Finished(r, sha) => (*r, sha),
                Progress::Paused(_) => panic!("NoPause paused"),
            });
            let resumed = outcome(resumed);
            assert!(resumed.is_err(), "a damaged byte at {at} was not found");
            assert_eq!(resumed, whole, "byte {at}");
        }
        // The bytes hashed again before the checkpoint differ: the SHA-256 differs, the check (past them) does not.
        let mut bad = bytes.clone();
        let hashed_only = cp.read_from() as usize;
        if hashed_only < cp.offset() as usize {
            bad[hashed_only] ^= 0xff;
            let reader = &bad[hashed_only..];
            let Ok(Progress::Finished(_, sha)) = resume_with(reader, Some(cp), &mut NoPause, true)
            else {
                panic!("the check past the checkpoint failed");
            };
            let (_, good) = crate::hashing::check_and_hash_inline(&bytes[..]).unwrap();
            assert_ne!(sha, good);
        }
    }

    #[test]
    fn a_checkpoint_of_another_format_or_with_a_bad_state_is_refused_before_reading() {
        let (_, bytes) = fixtures()
            .into_iter()
            .find(|(n, _)| n == "standalone-redis-6.2.rdb")
            .unwrap();
        let (_, seen) = in_pieces(&bytes, &[bytes.len() as u64 / 2], true, usize::MAX);
        let good = serde_json::to_value(&seen[0]).unwrap();
        let cases = [
            ("/format", serde_json::json!(0), "format 0 is not 1"),
            (
                "/sha",
                serde_json::json!("AAAA"),
                "sha is not a SHA-256 state",
            ),
            ("/parse/crc", serde_json::json!("xyz"), "crc \"xyz\""),
            ("/shaAt", serde_json::json!(u64::MAX), "shaAt"),
            ("/parse/header", serde_json::json!("REDIS00x1"), "header"),
            ("/parse/slots", serde_json::json!("!x"), "slots"),
        ];
        for (path, value, says) in cases {
            let mut doc = good.clone();
            *doc.pointer_mut(path).unwrap() = value;
            let cp: Checkpoint = serde_json::from_value(doc).unwrap();
            struct Unread;
            impl Read for Unread {
                fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                    panic!("read before the checkpoint was checked")
                }
            }
            let reader: Box<dyn Read + Send> =
                if path.starts_with("/parse/h") || path.ends_with("slots") {
                    Box::new(&bytes[cp.read_from() as usize..])
                } else {
                    Box::new(Unread)
                };
            let err = resume_with(reader, Some(&cp), &mut NoPause, true).unwrap_err();
            assert!(matches!(err, RdbError::Checkpoint { .. }), "{path}: {err}");
            assert!(err.to_string().contains(says), "{path}: {err}");
            assert!(
                err.to_string().contains("start again from the first byte"),
                "{err}"
            );
        }
        // An unknown field (a later format's) does not even parse.
        let mut doc = good;
        doc["parse"]["later"] = serde_json::json!(1);
        assert!(serde_json::from_value::<Checkpoint>(doc).is_err());
    }

    #[test]
    fn slot_sets_take_their_shortest_form_and_read_back() {
        use crate::slots::{compact, parse_compact};
        let all: crate::SlotSet = (0..16384).collect();
        let most: crate::SlotSet = (0..16384).filter(|s| s % 1000 != 7).collect();
        let scattered: crate::SlotSet = (0..16384u16)
            .filter(|s| s.wrapping_mul(40503) % 3 == 0)
            .collect();
        // 1,000 slots missing at random, as 47,000 keys leave them: the gaps of the missing ones (`G`), not the bitmap.
        let missing: crate::SlotSet = (0..16384u16)
            .filter(|s| s.wrapping_mul(40503) % 16 != 3)
            .collect();
        let few: crate::SlotSet = (0..16384u16)
            .filter(|s| s.wrapping_mul(40503) % 16 == 3)
            .collect();
        for set in [
            crate::SlotSet::new(),
            all,
            most,
            scattered,
            missing.clone(),
            few.clone(),
        ] {
            let text = compact(&set);
            assert!(text.len() <= 2732, "{} characters", text.len());
            assert_eq!(parse_compact(&text), Some(set.clone()), "{text}");
        }
        let text = compact(&missing);
        assert!(text.starts_with('G') && text.len() < 1500, "{text}");
        assert!(compact(&few).starts_with('g'), "{}", compact(&few));
        // A gap past the last slot, or a LEB128 number cut short, is not a set.
        assert_eq!(parse_compact("g_38B"), None);
        assert_eq!(parse_compact("gAIA"), None);
        assert_eq!(parse_compact("g_38"), Some((16383..16384).collect()));
        assert_eq!(compact(&(0..16384).collect()), "!");
        assert_eq!(parse_compact("!"), Some((0..16384).collect()));
        assert!(compact(&(0..16384).filter(|s| *s != 5).collect()).starts_with('!'));
        assert_eq!(parse_compact("b"), None);
        assert_eq!(parse_compact("20000-20001"), None);
    }
}
