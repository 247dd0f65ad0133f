//! The RDB parser: the header, every opcode, the key / value walk over every type and encoding, the per-slot
//! records and the trailing CRC-64, filling a [`Report`] (see the crate documentation for the format's sources).

use crate::digest::Elements;
use crate::encodings;
use crate::entries;
use crate::error::{MAX_REDIS_VERSION, RdbError};
use crate::input::{self, Input, Len, Tap};
use crate::lzf;
use crate::report::{
    Limits, MAX_SAMPLE_NAME_BYTES, MAX_SAMPLED_KEY_BYTES, Report, SampledKey, json_len,
};
use crate::slots::{self, SLOT_COUNT, SlotHasher, SlotSet, key_slot};
use crate::state::{ParserState, Pause};
use crate::visit::{DumpValue, KeyEntry, KeyVisitor, WalkOptions};

/// Longest key the key walk reads, bytes (Redis `proto-max-bulk-len`'s default, the longest string a client can
/// send).
const MAX_KEY_BYTES: u64 = 512 * 1024 * 1024;

/// Latest hash-field expiry time Redis accepts, milliseconds (`ebuckets.h` `EB_EXPIRE_TIME_MAX`).
const EB_EXPIRE_TIME_MAX: u64 = (1 << 48) - 1;

/// Checks the RDB stream `source` within `limits`: the check behind every entry point of the crate.
pub(crate) fn check_source<S: input::Source>(
    source: S,
    limits: Limits,
) -> Result<Report, RdbError> {
    let mut p = Parser::new(source, limits);
    p.run(None, None, None)?;
    Ok(p.into_report())
}

/// How [`check_resumable`] ended: the whole file checked, or a pause at an opcode boundary with the state to resume
/// from.
pub(crate) enum Resumable {
    /// The file is checked to its end.
    Finished(Box<Report>),
    /// Paused before the opcode at [`ParserState::offset`].
    Paused(Box<ParserState>),
}

/// Checks `source` as [`check_source`] does, from the start of the file (`from` `None`, `source` its first byte) or
/// from a [`ParserState`] (`source` then starts at its offset), asking `pause` at opcode boundaries whether to stop.
/// At least one opcode is read before the first pause, so every call makes progress.
pub(crate) fn check_resumable<S: input::Source>(
    source: S,
    from: Option<ParserState>,
    pause: &mut dyn Pause,
) -> Result<Resumable, RdbError> {
    let limits = Limits::default();
    let (mut p, cursor) = match from {
        None => (Parser::new(source, limits), None),
        Some(state) => {
            let input = Input::resumed(source, state.offset, state.crc_state()?);
            let mut p = Parser::from_input(input, limits);
            let cursor = p.restore(state)?;
            (p, Some(cursor))
        }
    };
    match p.run(None, Some(pause), cursor)? {
        RunEnd::Paused(cursor) => Ok(Resumable::Paused(Box::new(p.state(cursor)))),
        RunEnd::Done | RunEnd::VisitorStopped => Ok(Resumable::Finished(Box::new(p.into_report()))),
    }
}

/// Walks `source` as [`check_source`] checks it, telling `visitor` about every key (see [`crate::keys::walk`]):
/// (the report, or `None` when the visitor stopped the walk).
pub(crate) fn walk_source<S: input::Source>(
    source: S,
    limits: Limits,
    options: &WalkOptions,
    visitor: &mut dyn KeyVisitor,
) -> Result<Option<Report>, RdbError> {
    let mut p = Parser::new(source, limits);
    if let RunEnd::VisitorStopped = p.run(Some((visitor, options.max_payload_bytes)), None, None)? {
        return Ok(None);
    }
    Ok(Some(p.into_report()))
}

/// Reads a DUMP payload (rdb.c `verifyDumpPayload`: at least the type byte and the 10-byte footer, the RDB version
/// one this parser reads, the CRC-64 of everything before it) and its value, with the parser the files are read with.
pub(crate) fn dump_value(payload: &[u8]) -> Result<DumpValue, RdbError> {
    let n = payload.len();
    if n < 11 {
        return Err(RdbError::corrupt(
            0,
            format!("DUMP payload of {n} bytes: shorter than a type byte and the 10-byte footer"),
        ));
    }
    let version = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[n - 8..]);
    let expected = u64::from_le_bytes(stored);
    let actual = input::crc64(&payload[..n - 8]);
    if expected != actual {
        return Err(RdbError::ChecksumMismatch { expected, actual });
    }
    let valkey = version == 80;
    if !(valkey || (1..=MAX_REDIS_VERSION).contains(&u32::from(version))) {
        return Err(RdbError::UnsupportedVersion {
            header: format!("DUMP payload of RDB version {version}"),
            version: u32::from(version),
        });
    }
    let t = payload[0];
    let value = &payload[1..n - 10];
    let mut p = Parser::from_input(Input::with_capacity(value, value.len()), Limits::default());
    p.valkey = valkey;
    p.report.version = u32::from(version);
    p.header = format!("DUMP payload of RDB version {version}");
    let Some((kind, encoding)) = type_names(t, valkey) else {
        return Err(p.unknown_type(t, 0));
    };
    let elems = Elements::new(t, valkey);
    if elems.is_raw() {
        p.input.start_tap(None, true);
    }
    p.elems = Some(elems);
    p.value(t, 0)?;
    let tap = p.input.end_tap();
    if p.input.offset() != value.len() as u64 {
        return Err(RdbError::corrupt(
            p.input.offset(),
            format!(
                "DUMP payload: {} bytes after the value",
                value.len() as u64 - p.input.offset()
            ),
        ));
    }
    let digest = p
        .elems
        .take()
        .map(|e| e.finish(raw_sha(tap)))
        .unwrap_or_default();
    Ok(DumpValue {
        type_byte: t,
        kind,
        encoding,
        rdb_version: version,
        digest,
        size_bytes: 1 + value.len() as u64,
    })
}

/// The SHA-256 a tap computed.
fn raw_sha(tap: Option<Tap>) -> Option<[u8; 32]> {
    tap.and_then(|t| t.sha)
        .map(|h| sha2::Digest::finalize(h).into())
}

/// The name of a module type from its 64-bit id (module.c `moduleTypeNameByID`: nine 6-bit characters from the top
/// bits; the low 10 bits are the encoding version).
pub(crate) fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..9)
        .map(|j| char::from(CHARSET[((id >> (64 - 6 * (j + 1))) & 63) as usize]))
        .collect()
}

/// Bytes an LZF string produces, as the chunks of the element begun in a digest.
struct ElementFeed<'a>(&'a mut Elements);

impl slots::Feed for ElementFeed<'_> {
    fn update(&mut self, bytes: &[u8]) {
        self.0.chunk(bytes);
    }
}

/// A compact encoding whose elements feed a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Enc {
    Ziplist,
    Listpack,
    Intset,
    Zipmap,
    /// Checked, but its elements do not feed a digest (a stream's listpacks: streams are hashed whole).
    Opaque,
}

/// Hands the elements of a checked compact value to `e` (out of line: only the key walk's digests come here).
#[cold]
#[inline(never)]
fn feed(enc: Enc, value: &[u8], e: &mut Elements) {
    match enc {
        Enc::Ziplist => entries::ziplist(value, |x| e.entry(x)),
        Enc::Listpack => entries::listpack(value, |x| e.entry(x)),
        Enc::Intset => entries::intset(value, |x| e.entry(x)),
        Enc::Zipmap => entries::zipmap(value, |x| e.entry(x)),
        Enc::Opaque => {}
    }
}

impl<R> Parser<R> {
    /// The report, with the per-type counts named.
    fn into_report(mut self) -> Report {
        for (t, &n) in self.per_type.iter().enumerate() {
            if n == 0 {
                continue;
            }
            // Only type bytes `type_names` knows are ever counted.
            if let Some((ty, enc)) = type_names(t as u8, self.valkey) {
                *self.report.types.entry(ty.to_string()).or_default() += n;
                *self.report.encodings.entry(enc.to_string()).or_default() += n;
            }
        }
        self.report
    }
}

struct Parser<R> {
    input: Input<R>,
    limits: Limits,
    report: Report,
    /// `VALKEY` magic (type 22 means `RDB_TYPE_HASH_2`, opcode 243 `SLOT_IMPORT`).
    valkey: bool,
    /// Keys per value type byte (named at the end: a per-key map lookup would cost more than the key's check).
    per_type: [u64; 256],
    /// Reused buffer for encoded values.
    scratch: Vec<u8>,
    /// The header as the file spells it (`REDIS0011`, `VALKEY080`), for errors.
    header: String,
    /// Reused LZF window for compressed keys whose slot is computed without keeping them.
    lzf_window: Vec<u8>,
    /// The digest of the value being walked, when the key walk asked for one.
    elems: Option<Elements>,
    /// The module type id of the last module value read.
    module_id: u64,
    /// Reused buffers of the key walk: the key, and the DUMP payload.
    key_buf: Vec<u8>,
    payload_buf: Vec<u8>,
    /// Bytes of key names the sample may still take ([`MAX_SAMPLE_NAME_BYTES`] at first; 0 once a key did not fit,
    /// which ends the sampling).
    sample_room: usize,
}

impl<R: input::Source> Parser<R> {
    fn new(source: R, limits: Limits) -> Self {
        Self::from_input(Input::new(source), limits)
    }

    fn from_input(input: Input<R>, limits: Limits) -> Self {
        Self {
            input,
            limits,
            report: Report::default(),
            valkey: false,
            per_type: [0; 256],
            scratch: Vec::new(),
            header: String::new(),
            lzf_window: Vec::new(),
            elems: None,
            module_id: 0,
            key_buf: Vec::new(),
            payload_buf: Vec::new(),
            sample_room: MAX_SAMPLE_NAME_BYTES,
        }
    }
}

impl<R: input::Source> Parser<R> {
    /// What a paused check must carry to go on from the loop's `cursor` (the input at an opcode boundary).
    fn state(&mut self, cursor: Cursor) -> ParserState {
        let r = &self.report;
        ParserState {
            offset: self.input.offset(),
            crc: format!("{:016x}", self.input.crc_state()),
            header: self.header.clone(),
            db: cursor.db,
            db_keys: [cursor.keys, cursor.expiring],
            expiry: cursor.expiry,
            aux: r.aux.clone(),
            databases: r
                .databases
                .iter()
                .map(|(db, d)| (*db, [d.keys, d.keys_with_expiry]))
                .collect(),
            keys: [r.keys, r.keys_with_expiry],
            types: (0..=255u8)
                .filter(|t| self.per_type[usize::from(*t)] > 0)
                .map(|t| (t, self.per_type[usize::from(t)]))
                .collect(),
            functions: r.functions,
            module_aux: r.module_aux,
            sample: r.sample.iter().fold(Vec::new(), |mut runs, k| {
                match runs.last_mut() {
                    Some((db, ty, keys)) if *db == k.db && *ty == k.key_type => {
                        keys.push(k.key.clone());
                    }
                    _ => runs.push((k.db, k.key_type.clone(), vec![k.key.clone()])),
                }
                runs
            }),
            sample_room: self.sample_room,
            slots: slots::compact(&r.slots),
            slot_info: r
                .slot_info
                .as_ref()
                .map(|info| format!("^{}", slots::compact(&slots::difference(info, &r.slots)))),
        }
    }

    /// Puts back what [`Self::state`] saved (the input already at its offset); returns the loop's cursor.
    ///
    /// # Errors
    /// [`RdbError::Checkpoint`] naming what in the state is not valid.
    fn restore(&mut self, state: ParserState) -> Result<Cursor, RdbError> {
        let bad = |what: &str| RdbError::Checkpoint {
            reason: format!("{what} is not valid"),
        };
        let (magic, version) = parse_header(state.header.as_bytes())
            .ok_or_else(|| bad(&format!("header {:?}", state.header)))?;
        self.header = state.header;
        self.report.magic = magic.into();
        self.report.version = version;
        self.valkey = magic == "VALKEY";
        let r = &mut self.report;
        r.aux = state.aux;
        r.databases = state
            .databases
            .into_iter()
            .map(|(db, [keys, keys_with_expiry])| {
                (
                    db,
                    crate::report::DbReport {
                        keys,
                        keys_with_expiry,
                    },
                )
            })
            .collect();
        [r.keys, r.keys_with_expiry] = state.keys;
        for (t, n) in state.types {
            if type_names(t, self.valkey).is_none() {
                return Err(bad(&format!("type byte {t}")));
            }
            self.per_type[usize::from(t)] = n;
        }
        r.functions = state.functions;
        r.module_aux = state.module_aux;
        r.sample = state
            .sample
            .into_iter()
            .flat_map(|(db, key_type, keys)| {
                keys.into_iter().map(move |key| SampledKey {
                    db,
                    key,
                    key_type: key_type.clone(),
                })
            })
            .collect();
        if r.sample.len() > self.limits.sample_keys || state.sample_room > MAX_SAMPLE_NAME_BYTES {
            return Err(bad("the sample"));
        }
        self.sample_room = state.sample_room;
        r.slots = slots::parse_compact(&state.slots).ok_or_else(|| bad("slots"))?;
        r.slot_info = match state.slot_info.as_deref() {
            None => None,
            Some(text) => {
                let diff = text
                    .strip_prefix('^')
                    .and_then(slots::parse_compact)
                    .ok_or_else(|| bad("slotInfo"))?;
                Some(slots::difference(&diff, &r.slots))
            }
        };
        let [keys, expiring] = state.db_keys;
        Ok(Cursor {
            db: state.db,
            keys,
            expiring,
            expiry: state.expiry,
        })
    }
}

/// The magic and version of a 9-byte header (`REDIS0011`, `VALKEY080`), `None` when it is neither.
fn parse_header(h: &[u8]) -> Option<(&'static str, u32)> {
    let (magic, digits) = if h.starts_with(b"REDIS") && h.len() == 9 {
        ("REDIS", &h[5..9])
    } else if h.starts_with(b"VALKEY") && h.len() == 9 {
        ("VALKEY", &h[6..9])
    } else {
        return None;
    };
    let version = std::str::from_utf8(digits)
        .ok()
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse().ok())?;
    Some((magic, version))
}

/// (type name, encoding name) of a value type byte (rdb.h `RDB_TYPE_*`); `valkey` for files with the `VALKEY` magic.
fn type_names(t: u8, valkey: bool) -> Option<(&'static str, &'static str)> {
    Some(match t {
        0 => ("string", "string"),
        1 => ("list", "list-linkedlist"),
        2 => ("set", "set-hashtable"),
        3 => ("zset", "zset-skiplist-v1"),
        4 => ("hash", "hash-hashtable"),
        5 => ("zset", "zset-skiplist"),
        7 => ("module", "module-2"),
        9 => ("hash", "hash-zipmap"),
        10 => ("list", "list-ziplist"),
        11 => ("set", "set-intset"),
        12 => ("zset", "zset-ziplist"),
        13 => ("hash", "hash-ziplist"),
        14 => ("list", "list-quicklist"),
        15 => ("stream", "stream-listpacks"),
        16 => ("hash", "hash-listpack"),
        17 => ("zset", "zset-listpack"),
        18 => ("list", "list-quicklist-2"),
        19 => ("stream", "stream-listpacks-2"),
        20 => ("set", "set-listpack"),
        21 => ("stream", "stream-listpacks-3"),
        22 if valkey => ("hash", "hash-2"),
        22 => ("hash", "hash-metadata-pre-ga"),
        23 if !valkey => ("hash", "hash-listpack-ex-pre-ga"),
        24 if !valkey => ("hash", "hash-metadata"),
        25 if !valkey => ("hash", "hash-listpack-ex"),
        _ => return None,
    })
}

/// The value of an integer-encoded string's 1, 2 or 4 little-endian bytes (`RDB_ENC_INT8/16/32`).
#[inline]
fn int_value(raw: &[u8]) -> i64 {
    match *raw {
        [a] => i64::from(a as i8),
        [a, b] => i64::from(i16::from_le_bytes([a, b])),
        [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
        _ => 0,
    }
}

/// How [`Parser::run`] ended.
enum RunEnd {
    /// The file was read to its end.
    Done,
    /// The key walk's visitor stopped it.
    VisitorStopped,
    /// [`Pause`] stopped it before an opcode; the loop's state.
    Paused(Cursor),
}

/// The state of [`Parser::run`]'s loop between two opcodes (besides the report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The current database.
    pub(crate) db: u64,
    /// Keys of the current database not yet added to the report, and those with an expiry.
    pub(crate) keys: u64,
    pub(crate) expiring: u64,
    /// The next key's expiry (an EXPIRETIME opcode read before its key), Unix milliseconds.
    pub(crate) expiry: Option<i64>,
}

impl<R: input::Source> Parser<R> {
    /// Reads the file (from its header, or with `resume` from the input's offset, the header already read); with a
    /// visitor (and the largest DUMP payload to build, bytes), walks its keys too; with `pause`, asks it before
    /// opcodes (not before the first one read) whether to stop there.
    fn run(
        &mut self,
        mut visitor: Option<(&mut dyn KeyVisitor, u64)>,
        mut pause: Option<&mut dyn Pause>,
        resume: Option<Cursor>,
    ) -> Result<RunEnd, RdbError> {
        if resume.is_none() {
            self.header()?;
        }
        let Cursor {
            // Keys of the current database, added to the report when the database changes and at the end.
            mut db,
            mut keys,
            mut expiring,
            // The next key's expiry, Unix milliseconds.
            mut expiry,
        } = resume.unwrap_or_default();
        // Offset from which `pause` is asked next: after the first opcode, so that every run makes progress.
        let mut poll_at = if pause.is_some() {
            self.input.offset() + 1
        } else {
            u64::MAX
        };
        loop {
            let at = self.input.offset();
            if at >= poll_at {
                match pause.as_deref_mut().map(|p| p.poll(at)) {
                    Some(None) => {
                        return Ok(RunEnd::Paused(Cursor {
                            db,
                            keys,
                            expiring,
                            expiry,
                        }));
                    }
                    Some(Some(next)) => poll_at = next.max(at + 1),
                    None => poll_at = u64::MAX,
                }
            }
            let op = self.input.u8("opcode")?;
            match op {
                0xFF => break,
                0xFE => {
                    self.add_db_keys(db, keys, expiring);
                    (keys, expiring) = (0, 0);
                    db = self.input.plain_len("SELECTDB")?;
                    self.report.databases.entry(db).or_default();
                }
                0xFD => {
                    let seconds = self.input.u32_le("EXPIRETIME")?;
                    expiry = Some(i64::from(seconds) * 1000);
                }
                0xFC => {
                    let ms = self.input.u64_le("EXPIRETIME_MS")?;
                    expiry = Some(ms as i64);
                }
                0xFB => {
                    self.input.plain_len("RESIZEDB")?;
                    self.input.plain_len("RESIZEDB")?;
                }
                0xFA => {
                    let k = self.small_string("AUX key")?;
                    let v_at = self.input.offset();
                    let v = self.small_string("AUX value")?;
                    // Valkey rdb.c compares AUX names case-insensitively.
                    if k.eq_ignore_ascii_case("slot-info") {
                        self.slot_info_aux(v_at, &v)?;
                    } else {
                        self.report.aux.insert(k, v);
                    }
                }
                0xF9 => {
                    self.input.u8("FREQ")?;
                }
                0xF8 => {
                    self.input.plain_len("IDLE")?;
                }
                0xF7 => {
                    self.input.plain_len("MODULE_AUX module id")?;
                    self.input.plain_len("MODULE_AUX when opcode")?;
                    self.input.plain_len("MODULE_AUX when")?;
                    self.module_values()?;
                    self.report.module_aux += 1;
                }
                0xF6 => {
                    return Err(RdbError::corrupt(
                        at,
                        "FUNCTION_PRE_GA (Redis 7.0 release candidates) is not supported (Redis 7.0 GA refuses it too)",
                    ));
                }
                0xF5 => {
                    self.skip_string("FUNCTION2 library")?;
                    self.report.functions += 1;
                }
                0xF4 => {
                    // Redis rdb.c `RDB_OPCODE_SLOT_INFO`: slot, keys in it, keys with expiry in it.
                    let s_at = self.input.offset();
                    let slot = self.input.plain_len("SLOT_INFO slot")?;
                    self.input.plain_len("SLOT_INFO slot size")?;
                    self.input.plain_len("SLOT_INFO expires slot size")?;
                    self.record_slot_info(s_at, slot, "SLOT_INFO")?;
                }
                0xF3 if self.valkey => {
                    self.skip_string("SLOT_IMPORT job name")?;
                    let ranges = self.input.plain_len("SLOT_IMPORT ranges")?;
                    for _ in 0..ranges {
                        self.input.plain_len("SLOT_IMPORT range start")?;
                        self.input.plain_len("SLOT_IMPORT range end")?;
                    }
                }
                t => {
                    if type_names(t, self.valkey).is_none() {
                        return Err(self.unknown_type(t, at));
                    }
                    if let Some((v, max_payload)) = visitor.as_mut() {
                        if !self.walk_key(&mut **v, *max_payload, t, at, db, expiry)? {
                            return Ok(RunEnd::VisitorStopped);
                        }
                    } else if self.sampling() {
                        let (slot, key) = self.read_key(true)?;
                        self.report.slots.insert(slot);
                        if let Some(key) = key
                            && let Ok(key) = String::from_utf8(key)
                            && let Some((ty, _)) = type_names(t, self.valkey)
                        {
                            self.sample(db, key, ty);
                        }
                        self.value(t, at)?;
                    } else if !self.compact_key(t) {
                        let slot = self.key_slot()?;
                        self.report.slots.insert(slot);
                        self.value(t, at)?;
                    }
                    keys += 1;
                    expiring += u64::from(expiry.is_some());
                    self.per_type[usize::from(t)] += 1;
                    expiry = None;
                }
            }
        }
        self.add_db_keys(db, keys, expiring);
        if self.report.version >= 5 || self.report.magic == "VALKEY" {
            let actual = self.input.finish_crc();
            let expected = self.input.u64_le("checksum")?;
            if expected != 0 {
                if expected != actual {
                    return Err(RdbError::ChecksumMismatch { expected, actual });
                }
                self.report.checksum = Some(format!("{expected:016x}"));
            }
        }
        let at = self.input.offset();
        let mut extra = 0u64;
        match self.input.u8("trailer") {
            Ok(_) => extra += 1,
            Err(RdbError::Truncated { .. }) => {}
            Err(e) => return Err(e),
        }
        if extra > 0 {
            return Err(RdbError::corrupt(at, "data after the end of the RDB"));
        }
        self.report.bytes = self.input.offset();
        Ok(RunEnd::Done)
    }

    /// One key of the walk, its type byte `t` (at `at`) read: reads the key, asks the visitor what it wants, reads the
    /// value (checked as always; digested and copied as asked) and hands the key over. Returns whether to go on.
    fn walk_key(
        &mut self,
        visitor: &mut dyn KeyVisitor,
        max_payload: u64,
        t: u8,
        at: u64,
        db: u64,
        expires_at_ms: Option<i64>,
    ) -> Result<bool, RdbError> {
        let mut key = std::mem::take(&mut self.key_buf);
        // A key may be as long as a string may (512 MiB), longer than the limit for encoded values.
        let limit = self.limits.max_encoded_value_bytes;
        self.limits.max_encoded_value_bytes = limit.max(MAX_KEY_BYTES);
        let read = self.blob_into("key", &mut key);
        self.limits.max_encoded_value_bytes = limit;
        read?;
        self.report.slots.insert(key_slot(&key));
        if self.sampling()
            && key.len() as u64 <= MAX_SAMPLED_KEY_BYTES
            && let Ok(text) = std::str::from_utf8(&key)
            && let Some((ty, _)) = type_names(t, self.valkey)
        {
            self.sample(db, text.to_string(), ty);
        }
        let want = visitor.want(db, &key, t);
        if let Some(w) = want {
            let elems = w.digest.then(|| Elements::new(t, self.valkey));
            let raw = elems.as_ref().is_some_and(Elements::is_raw);
            self.elems = elems;
            if w.payload || raw {
                // The payload is the type byte, the value and the 10-byte footer.
                let copy = w.payload.then(|| max_payload.saturating_sub(11));
                self.input.start_tap(copy, raw);
            }
        }
        let value_at = self.input.offset();
        let read = self.value(t, at);
        let tap = self.input.end_tap();
        let elems = self.elems.take();
        read?;
        let mut go_on = true;
        if want.is_some()
            && let Some((kind, encoding)) = type_names(t, self.valkey)
        {
            let end = self.input.offset();
            let mut payload = std::mem::take(&mut self.payload_buf);
            payload.clear();
            let copied = tap.as_ref().and_then(Tap::copied);
            let has_payload = copied.is_some();
            if let Some(value) = copied {
                payload.push(t);
                payload.extend_from_slice(value);
                // rdb.c `createDumpPayload`: RDB version (2 bytes LE), then the CRC-64 of all before it (8 bytes LE).
                payload.extend((self.report.version as u16).to_le_bytes());
                let crc = input::crc64(&payload);
                payload.extend(crc.to_le_bytes());
            }
            let digest = elems.map(|e| e.finish(raw_sha(tap)));
            let entry = KeyEntry {
                db,
                key: &key,
                type_byte: t,
                kind,
                encoding,
                expires_at_ms,
                size_bytes: end - at,
                offset: at,
                digest,
                payload: has_payload.then_some(payload.as_slice()),
                payload_bytes: 1 + (end - value_at) + 10,
                module: (t == 7).then(|| module_name(self.module_id)),
            };
            go_on = visitor.key(&entry);
            self.payload_buf = payload;
        }
        self.key_buf = key;
        Ok(go_on)
    }

    /// Whether the next key may be sampled ([`Limits::sample_keys`], [`MAX_SAMPLE_NAME_BYTES`]).
    #[inline]
    fn sampling(&self) -> bool {
        self.report.sample.len() < self.limits.sample_keys && self.sample_room > 0
    }

    /// Adds a key to the sample if its name fits in what the sample may still take; else sampling ends.
    fn sample(&mut self, db: u64, key: String, key_type: &str) {
        let cost = json_len(&key);
        if cost > self.sample_room {
            self.sample_room = 0;
            return;
        }
        self.sample_room -= cost;
        self.report.sample.push(SampledKey {
            db,
            key,
            key_type: key_type.to_string(),
        });
    }

    fn add_db_keys(&mut self, db: u64, keys: u64, expiring: u64) {
        if keys == 0 {
            return;
        }
        let d = self.report.databases.entry(db).or_default();
        d.keys += keys;
        d.keys_with_expiry += expiring;
        self.report.keys += keys;
        self.report.keys_with_expiry += expiring;
    }

    fn header(&mut self) -> Result<(), RdbError> {
        let mut h = [0u8; 9];
        self.input.read_exact(&mut h, "header")?;
        let text = String::from_utf8_lossy(&h).to_string();
        let (magic, version) = parse_header(&h).ok_or_else(|| RdbError::BadMagic {
            found: text.clone(),
        })?;
        let supported = match magic {
            "REDIS" => (1..=MAX_REDIS_VERSION).contains(&version),
            _ => version == 80,
        };
        if !supported {
            return Err(RdbError::UnsupportedVersion {
                header: text,
                version,
            });
        }
        self.header = text;
        self.report.magic = magic.into();
        self.report.version = version;
        self.valkey = magic == "VALKEY";
        Ok(())
    }

    /// Decompresses `clen` bytes of LZF (to exactly `ulen` bytes) into `sink`, validating every instruction.
    fn lzf_into<S: lzf::Sink>(
        &mut self,
        context: &'static str,
        at: u64,
        clen: u64,
        ulen: u64,
        sink: &mut S,
    ) -> Result<(), RdbError> {
        let mut dec = lzf::Decoder::new(ulen);
        let mut err = None;
        self.input.stream(clen, context, |chunk| {
            if err.is_none() {
                err = dec.feed(chunk, sink).err();
            }
        })?;
        match err.or_else(|| dec.finish().err()) {
            Some(e) => Err(RdbError::corrupt(at, format!("{context}: {e}"))),
            None => Ok(()),
        }
    }

    /// The most common key of a file of small collections, whole in the read buffer, checked in one go: a key under
    /// 64 bytes, then an intset (type 11) or a listpack (16 hash, 17 sorted set, 20 set; 18 a list of one listpack
    /// node) of under 16 KiB. Consumes the key and returns `true` only when all of it is valid; anything else, every
    /// error included, is left to the general path, which reads it again from the same byte, so errors read the same.
    #[inline]
    fn compact_key(&mut self, t: u8) -> bool {
        if !matches!(t, 11 | 16 | 17 | 18 | 20) {
            return false;
        }
        let avail = self.input.available();
        let Some(&key) = avail.first() else {
            return false;
        };
        if key >= 0x40 {
            return false;
        }
        let mut at = 1 + usize::from(key);
        // A quicklist of one node (count 1) held in a listpack (container 2: `QUICKLIST_NODE_CONTAINER_PACKED`).
        if t == 18 {
            if avail.get(at..at + 2) != Some(&[1, 2][..]) {
                return false;
            }
            at += 2;
        }
        // The value's length, in its one- or two-byte form.
        let (len, header) = match avail.get(at..at + 2) {
            Some(&[b, _]) if b < 0x40 => (usize::from(b), 1),
            Some(&[b, c]) if b < 0x80 => ((usize::from(b & 0x3f) << 8) | usize::from(c), 2),
            _ => return false,
        };
        if len as u64 > self.limits.max_encoded_value_bytes {
            return false;
        }
        let Some(value) = avail.get(at + header..at + header + len) else {
            return false;
        };
        let valid = match t {
            11 => encodings::intset(value).is_ok(),
            16 | 17 => encodings::listpack(value).is_ok_and(|n| n % 2 == 0),
            _ => encodings::listpack(value).is_ok(),
        };
        if valid {
            // The key lies in `avail` (the value, checked above, lies after it).
            if let Some(key) = avail.get(1..1 + usize::from(key)) {
                self.report.slots.insert(key_slot(key));
            }
            self.input.consume(at + header + len);
        }
        valid
    }

    /// The slot of the next key, which is read (and validated) but not kept: straight from the buffer for a key
    /// under 64 bytes or an integer-encoded one whole in it (most keys), else as [`Self::read_key`] does.
    #[inline]
    fn key_slot(&mut self) -> Result<u16, RdbError> {
        let avail = self.input.available();
        if let Some(&b) = avail.first() {
            if b < 0x40 {
                let n = usize::from(b);
                if let Some(key) = avail.get(1..=n) {
                    let slot = key_slot(key);
                    self.input.consume(1 + n);
                    return Ok(slot);
                }
            } else if (0xC0..=0xC2).contains(&b) {
                let n = 1usize << (b & 3);
                if let Some(raw) = avail.get(1..=n) {
                    let mut text = [0u8; 20];
                    let slot = key_slot(slots::decimal(int_value(raw), &mut text));
                    self.input.consume(1 + n);
                    return Ok(slot);
                }
            }
        }
        self.read_key(false).map(|(slot, _)| slot)
    }

    /// Reads a key, validating its encoding, and computes its slot ([`key_slot`]; an integer-encoded key as its
    /// decimal text, an LZF-compressed one as decompressed): (slot, the key's bytes when `keep` and it is at most
    /// [`MAX_SAMPLED_KEY_BYTES`] long). A key that is not kept is never held whole: a plain one is hashed as it
    /// streams through the read buffer, a compressed one through LZF's 8 KiB window ([`slots::SlotSink`]).
    #[inline(never)]
    fn read_key(&mut self, keep: bool) -> Result<(u16, Option<Vec<u8>>), RdbError> {
        const CONTEXT: &str = "key";
        let at = self.input.offset();
        let max = MAX_SAMPLED_KEY_BYTES;
        match self.input.len(CONTEXT)? {
            Len::Plain(n) if keep && n <= max => {
                let mut v = vec![0; n as usize];
                self.input.read_exact(&mut v, CONTEXT)?;
                Ok((key_slot(&v), Some(v)))
            }
            Len::Plain(n) => {
                let mut hasher = SlotHasher::new();
                self.input
                    .stream(n, CONTEXT, |chunk| hasher.update(chunk))?;
                Ok((hasher.slot(), None))
            }
            Len::Encoded(e @ 0..=2) => {
                let mut b = [0u8; 4];
                let n = 1usize << e;
                self.input.read_exact(&mut b[..n], CONTEXT)?;
                let mut buf = [0u8; 20];
                let text = slots::decimal(int_value(&b[..n]), &mut buf);
                Ok((key_slot(text), keep.then(|| text.to_vec())))
            }
            Len::Encoded(3) => {
                let clen = self.input.plain_len("LZF compressed length")?;
                let ulen = self.input.plain_len("LZF length")?;
                if keep && ulen <= max {
                    let mut v = Vec::with_capacity(ulen as usize);
                    self.lzf_into(CONTEXT, at, clen, ulen, &mut v)?;
                    Ok((key_slot(&v), Some(v)))
                } else {
                    let mut window = std::mem::take(&mut self.lzf_window);
                    let mut sink = slots::SlotSink::new(&mut window);
                    let done = self.lzf_into(CONTEXT, at, clen, ulen, &mut sink);
                    let slot = sink.slot();
                    self.lzf_window = window;
                    done.map(|()| (slot, None))
                }
            }
            Len::Encoded(e) => Err(RdbError::corrupt(
                at,
                format!("unknown string encoding {e} ({CONTEXT})"),
            )),
        }
    }

    /// [`RdbError::UnknownType`] for byte `t` at `at`, naming the file's format.
    #[cold]
    fn unknown_type(&self, t: u8, at: u64) -> RdbError {
        RdbError::UnknownType {
            byte: t,
            offset: at,
            header: self.header.clone(),
        }
    }

    /// Records a slot named by a per-slot record (`what`, at `at`) in [`Report::slot_info`].
    fn record_slot_info(&mut self, at: u64, slot: u64, what: &str) -> Result<(), RdbError> {
        match u16::try_from(slot) {
            Ok(slot) if slot < SLOT_COUNT => {
                self.report
                    .slot_info
                    .get_or_insert_with(SlotSet::new)
                    .insert(slot);
                Ok(())
            }
            _ => Err(RdbError::corrupt(
                at,
                format!("{what} names slot {slot}, past 16383"),
            )),
        }
    }

    /// Valkey's AUX `slot-info` (value at `at`): `"slot,keys,expires"` in decimal, as Valkey rdb.c `rdbSaveDb`
    /// writes it (`"%i,%lu,%lu"`). Further comma-separated fields are allowed (a later version may add counts).
    /// Anything else is corrupt: Valkey's loader refuses a value it cannot read three numbers from.
    fn slot_info_aux(&mut self, at: u64, value: &str) -> Result<(), RdbError> {
        let mut fields = value.split(',');
        let mut number = || {
            fields
                .next()
                .filter(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
                .map(|f| f.parse::<u64>().unwrap_or(u64::MAX))
        };
        match (number(), number(), number()) {
            (Some(slot), Some(_), Some(_)) => self.record_slot_info(at, slot, "AUX slot-info"),
            _ => Err(RdbError::corrupt(
                at,
                format!(
                    "AUX slot-info {} is not slot,keys,expires (Valkey refuses to load it)",
                    slots::quoted(value)
                ),
            )),
        }
    }

    /// Skips one string, validating its encoding (LZF decompressed through a window); returns its length.
    #[inline]
    fn skip_string(&mut self, context: &'static str) -> Result<u64, RdbError> {
        match self.input.skip_short_string() {
            Some(n) => Ok(n),
            None => self.skip_any_string(context),
        }
    }

    /// [`Self::skip_string`] for every string but a short one whole in the buffer.
    #[inline(never)]
    fn skip_any_string(&mut self, context: &'static str) -> Result<u64, RdbError> {
        let at = self.input.offset();
        match self.input.len(context)? {
            Len::Plain(n) => {
                self.input.skip(n, context)?;
                Ok(n)
            }
            Len::Encoded(0) => self.input.skip(1, context).map(|()| 1),
            Len::Encoded(1) => self.input.skip(2, context).map(|()| 2),
            Len::Encoded(2) => self.input.skip(4, context).map(|()| 4),
            Len::Encoded(3) => {
                let clen = self.input.plain_len("LZF compressed length")?;
                let ulen = self.input.plain_len("LZF length")?;
                self.lzf_into(context, at, clen, ulen, &mut lzf::Discard)?;
                Ok(ulen)
            }
            Len::Encoded(e) => Err(RdbError::corrupt(
                at,
                format!("unknown string encoding {e} ({context})"),
            )),
        }
    }

    /// Reads one string into `out` (replacing its contents; bounded by the limit); integer encodings come back as
    /// decimal text. Returns the string's offset.
    fn blob_into(&mut self, context: &'static str, out: &mut Vec<u8>) -> Result<u64, RdbError> {
        let at = self.input.offset();
        let len = self.input.len(context)?;
        self.blob_with_len(context, at, len, out)
    }

    /// [`Self::blob_into`] once the string's length (at offset `at`) has been read.
    fn blob_with_len(
        &mut self,
        context: &'static str,
        at: u64,
        len: Len,
        out: &mut Vec<u8>,
    ) -> Result<u64, RdbError> {
        let limit = self.limits.max_encoded_value_bytes;
        let too_large = |len| RdbError::TooLarge {
            offset: at,
            what: context,
            len,
            limit,
        };
        out.clear();
        match len {
            Len::Plain(n) => {
                if n > limit {
                    return Err(too_large(n));
                }
                out.resize(n as usize, 0);
                self.input.read_exact(out, context)?;
            }
            Len::Encoded(e @ 0..=2) => {
                let mut b = [0u8; 4];
                let n = 1usize << e;
                self.input.read_exact(&mut b[..n], context)?;
                let v = match e {
                    0 => i64::from(b[0] as i8),
                    1 => i64::from(i16::from_le_bytes([b[0], b[1]])),
                    _ => i64::from(i32::from_le_bytes(b)),
                };
                out.extend_from_slice(v.to_string().as_bytes());
            }
            Len::Encoded(3) => {
                let clen = self.input.plain_len("LZF compressed length")?;
                let ulen = self.input.plain_len("LZF length")?;
                if ulen > limit {
                    return Err(too_large(ulen));
                }
                out.reserve(ulen as usize);
                self.lzf_into(context, at, clen, ulen, out)?;
            }
            Len::Encoded(e) => {
                return Err(RdbError::corrupt(
                    at,
                    format!("unknown string encoding {e} ({context})"),
                ));
            }
        }
        Ok(at)
    }

    /// Reads one string into a new buffer: (offset, bytes).
    fn blob(&mut self, context: &'static str) -> Result<(u64, Vec<u8>), RdbError> {
        let mut v = Vec::new();
        let at = self.blob_into(context, &mut v)?;
        Ok((at, v))
    }

    fn small_string(&mut self, context: &'static str) -> Result<String, RdbError> {
        let (_, b) = self.blob(context)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    /// Reads an encoded value and checks it with `f`, which returns its element count (generic, not a function
    /// pointer, so that each checker is inlined into its call: small values are checked by the million).
    #[inline]
    fn encoded<F: Fn(&[u8]) -> encodings::Check<u64>>(
        &mut self,
        context: &'static str,
        f: F,
        enc: Enc,
    ) -> Result<u64, RdbError> {
        let at = self.input.offset();
        let len = self.input.len(context)?;
        // Fast path: a plain value the read buffer already holds is checked where it lies, not copied (small
        // listpacks and intsets, most of a file of small hashes, sets, sorted sets and lists).
        if let Len::Plain(n) = len
            && n <= self.limits.max_encoded_value_bytes
            && let Some(value) = usize::try_from(n).ok().and_then(|n| self.input.peek(n))
        {
            let checked = f(value).map_err(|(inner, what)| {
                RdbError::corrupt(at, format!("{context}: {what} (+{inner} into the value)"))
            });
            if checked.is_ok()
                && let Some(e) = self.elems.as_mut()
            {
                feed(enc, value, e);
            }
            self.input.consume(n as usize);
            return checked;
        }
        let mut buf = std::mem::take(&mut self.scratch);
        let result = self
            .blob_with_len(context, at, len, &mut buf)
            .and_then(|at| {
                f(&buf).map_err(|(inner, what)| {
                    RdbError::corrupt(at, format!("{context}: {what} (+{inner} into the value)"))
                })
            });
        if result.is_ok()
            && let Some(e) = self.elems.as_mut()
        {
            feed(enc, &buf, e);
        }
        // Keep the allocation for the next value unless one huge value grew it.
        if buf.capacity() <= 1 << 20 {
            self.scratch = buf;
        }
        result
    }

    /// An encoded value whose elements come in tuples of `k` (hash field + value, zset member + score, hash field +
    /// value + TTL).
    fn tuples(
        &mut self,
        context: &'static str,
        f: impl Fn(&[u8]) -> encodings::Check<u64>,
        enc: Enc,
        k: u64,
    ) -> Result<(), RdbError> {
        let at = self.input.offset();
        let n = self.encoded(context, f, enc)?;
        if n % k != 0 {
            return Err(RdbError::corrupt(
                at,
                format!("{context}: {n} elements, not a multiple of {k}"),
            ));
        }
        Ok(())
    }

    /// A hash-field expiry time, milliseconds (Redis `ebuckets.h`: `EB_EXPIRE_TIME_MAX` = 2^48 − 1).
    fn field_expiry(&self, at: u64, expire_at: u64) -> Result<(), RdbError> {
        if expire_at > EB_EXPIRE_TIME_MAX {
            return Err(RdbError::corrupt(
                at,
                format!("hash field expiry {expire_at} beyond the maximum {EB_EXPIRE_TIME_MAX}"),
            ));
        }
        Ok(())
    }

    /// A string element of a value: skipped, or, when a digest is being computed, fed to it (of any size: a plain
    /// string as it streams through the read buffer, an LZF one through LZF's window, an integer as its text).
    #[inline]
    fn element(&mut self, context: &'static str) -> Result<(), RdbError> {
        if self.elems.is_none() {
            return self.skip_string(context).map(|_| ());
        }
        self.element_fed(context)
    }

    #[inline(never)]
    fn element_fed(&mut self, context: &'static str) -> Result<(), RdbError> {
        let Some(mut e) = self.elems.take() else {
            return Ok(());
        };
        let at = self.input.offset();
        let done = match self.input.len(context) {
            Ok(Len::Plain(n)) => {
                e.begin(n);
                let r = self.input.stream(n, context, |c| e.chunk(c));
                e.end();
                r
            }
            Ok(Len::Encoded(enc @ 0..=2)) => {
                let mut b = [0u8; 4];
                let n = 1usize << enc;
                let r = self.input.read_exact(&mut b[..n], context);
                e.int(int_value(&b[..n]));
                r
            }
            Ok(Len::Encoded(3)) => self
                .input
                .plain_len("LZF compressed length")
                .and_then(|clen| Ok((clen, self.input.plain_len("LZF length")?)))
                .and_then(|(clen, ulen)| {
                    e.begin(ulen);
                    let mut window = std::mem::take(&mut self.lzf_window);
                    let mut sink = slots::WindowSink::with(&mut window, ElementFeed(&mut e));
                    let r = self.lzf_into(context, at, clen, ulen, &mut sink);
                    self.lzf_window = window;
                    e.end();
                    r
                }),
            Ok(Len::Encoded(x)) => Err(RdbError::corrupt(
                at,
                format!("unknown string encoding {x} ({context})"),
            )),
            Err(err) => Err(err),
        };
        self.elems = Some(e);
        done
    }

    /// A sorted-set score written as text (RDB_TYPE_ZSET: a length byte, 253 NaN, 254 +inf, 255 -inf).
    fn text_score(&mut self) -> Result<(), RdbError> {
        if self.elems.is_none() {
            return match self.input.u8("zset score")? {
                253..=255 => Ok(()),
                len => self.input.skip(u64::from(len), "zset score"),
            };
        }
        let score = match self.input.u8("zset score")? {
            253 => f64::NAN,
            254 => f64::INFINITY,
            255 => f64::NEG_INFINITY,
            len => {
                let mut b = [0u8; 255];
                let b = &mut b[..usize::from(len)];
                self.input.read_exact(b, "zset score")?;
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                    .unwrap_or(f64::NAN)
            }
        };
        if let Some(e) = self.elems.as_mut() {
            e.score(score);
        }
        Ok(())
    }

    fn value(&mut self, t: u8, at: u64) -> Result<(), RdbError> {
        match t {
            0 => {
                self.element("string value")?;
            }
            1 | 2 => {
                let n = self.input.plain_len("element count")?;
                for _ in 0..n {
                    self.element("element")?;
                }
            }
            3 => {
                let n = self.input.plain_len("zset length")?;
                for _ in 0..n {
                    self.element("zset member")?;
                    self.text_score()?;
                }
            }
            4 => {
                let n = self.input.plain_len("hash length")?;
                for _ in 0..n {
                    self.element("hash field")?;
                    self.element("hash value")?;
                }
            }
            5 => {
                let n = self.input.plain_len("zset length")?;
                for _ in 0..n {
                    self.element("zset member")?;
                    let bits = self.input.u64_le("zset score")?;
                    if let Some(e) = self.elems.as_mut() {
                        e.score(f64::from_bits(bits));
                    }
                }
            }
            7 => {
                self.module_id = self.input.plain_len("module type id")?;
                self.module_values()?;
            }
            9 => {
                self.encoded("zipmap", encodings::zipmap, Enc::Zipmap)?;
            }
            10 => {
                self.encoded("list ziplist", encodings::ziplist, Enc::Ziplist)?;
            }
            11 => {
                self.encoded("intset", encodings::intset, Enc::Intset)?;
            }
            12 => self.tuples("zset ziplist", encodings::ziplist, Enc::Ziplist, 2)?,
            13 => self.tuples("hash ziplist", encodings::ziplist, Enc::Ziplist, 2)?,
            14 => {
                let n = self.input.plain_len("quicklist nodes")?;
                for _ in 0..n {
                    self.encoded("quicklist ziplist node", encodings::ziplist, Enc::Ziplist)?;
                }
            }
            15 | 19 | 21 => self.stream(t)?,
            16 => self.tuples("hash listpack", encodings::listpack, Enc::Listpack, 2)?,
            17 => self.tuples("zset listpack", encodings::listpack, Enc::Listpack, 2)?,
            18 => {
                let n = self.input.plain_len("quicklist nodes")?;
                for _ in 0..n {
                    let c_at = self.input.offset();
                    match self.input.plain_len("quicklist container")? {
                        1 => {
                            self.element("quicklist plain node")?;
                        }
                        2 => {
                            self.encoded(
                                "quicklist listpack node",
                                encodings::listpack,
                                Enc::Listpack,
                            )?;
                        }
                        c => {
                            return Err(RdbError::corrupt(
                                c_at,
                                format!("unknown quicklist container {c}"),
                            ));
                        }
                    }
                }
            }
            20 => {
                self.encoded("set listpack", encodings::listpack, Enc::Listpack)?;
            }
            22 if self.valkey => {
                // Valkey rdb.c `RDB_TYPE_HASH_2`: count, then field, value, expiry (ms, 8 bytes LE; -1 = none).
                let n = self.input.plain_len("hash length")?;
                for _ in 0..n {
                    self.element("hash field")?;
                    self.element("hash value")?;
                    let e_at = self.input.offset();
                    let expiry = self.input.u64_le("hash field expiry")? as i64;
                    if expiry < -1 {
                        return Err(RdbError::corrupt(
                            e_at,
                            format!("hash field expiry {expiry} (only -1 or a time allowed)"),
                        ));
                    }
                    if let Some(e) = self.elems.as_mut() {
                        e.ttl(expiry);
                    }
                }
            }
            22 | 24 => {
                // Redis rdb.c `RDB_TYPE_HASH_METADATA` (24: a minimum expiry first, field TTLs relative to it, 0 =
                // none) and its 7.4 release-candidate form (22: absolute TTLs); each field is TTL, field, value.
                let mut min_expire = 0;
                if t == 24 {
                    let m_at = self.input.offset();
                    min_expire = self.input.u64_le("hash minimum expiry")?;
                    if min_expire > EB_EXPIRE_TIME_MAX + 1 {
                        return Err(RdbError::corrupt(
                            m_at,
                            format!("hash minimum expiry {min_expire} out of range"),
                        ));
                    }
                }
                let n = self.input.plain_len("hash length")?;
                for _ in 0..n {
                    let ttl_at = self.input.offset();
                    let ttl = self.input.plain_len("hash field TTL")?;
                    let expire_at = match (t, ttl) {
                        (24, 0) => 0,
                        (24, ttl) => (ttl - 1).saturating_add(min_expire),
                        (_, ttl) => ttl,
                    };
                    self.field_expiry(ttl_at, expire_at)?;
                    self.element("hash field")?;
                    self.element("hash value")?;
                    if let Some(e) = self.elems.as_mut() {
                        e.ttl(expire_at as i64);
                    }
                }
            }
            23 | 25 => {
                // Redis rdb.c `RDB_TYPE_HASH_LISTPACK_EX` (25: a minimum expiry first) and its release-candidate
                // form (23): a listpack of field, value, TTL triples.
                if t == 25 {
                    self.input.u64_le("hash minimum expiry")?;
                }
                self.tuples(
                    "hash listpack with TTLs",
                    encodings::listpack,
                    Enc::Listpack,
                    3,
                )?;
            }
            _ => return Err(self.unknown_type(t, at)),
        }
        Ok(())
    }

    /// rdb.c `rdbSaveObject` for streams (`RDB_TYPE_STREAM_LISTPACKS`, `_2` adds first/max-deleted ids, entries
    /// added and entries read; `_3` adds the consumers' active time).
    fn stream(&mut self, t: u8) -> Result<(), RdbError> {
        let nodes = self.input.plain_len("stream listpacks")?;
        for _ in 0..nodes {
            let (at, id) = self.blob("stream node id")?;
            if id.len() != 16 {
                return Err(RdbError::corrupt(
                    at,
                    format!("stream node id of {} bytes, 16 expected", id.len()),
                ));
            }
            let n = self.encoded("stream listpack", encodings::listpack, Enc::Opaque)?;
            if n == 0 {
                return Err(RdbError::corrupt(at, "empty stream listpack"));
            }
        }
        self.input.plain_len("stream length")?;
        self.input.plain_len("stream last id")?;
        self.input.plain_len("stream last id")?;
        if t >= 19 {
            for _ in 0..5 {
                self.input.plain_len("stream id metadata")?;
            }
        }
        let groups = self.input.plain_len("consumer groups")?;
        for _ in 0..groups {
            self.skip_string("consumer group name")?;
            self.input.plain_len("group last id")?;
            self.input.plain_len("group last id")?;
            if t >= 19 {
                self.input.plain_len("group entries read")?;
            }
            let pel = self.input.plain_len("group PEL")?;
            for _ in 0..pel {
                self.input.skip(16 + 8, "PEL entry")?;
                self.input.plain_len("PEL delivery count")?;
            }
            let consumers = self.input.plain_len("consumers")?;
            for _ in 0..consumers {
                self.skip_string("consumer name")?;
                self.input.skip(8, "consumer seen time")?;
                if t >= 21 {
                    self.input.skip(8, "consumer active time")?;
                }
                let pel = self.input.plain_len("consumer PEL")?;
                for _ in 0..pel {
                    self.input.skip(16, "consumer PEL entry")?;
                }
            }
        }
        Ok(())
    }

    /// Typed module values until `RDB_MODULE_OPCODE_EOF` (rdb.h: 0 EOF, 1 SINT, 2 UINT, 3 FLOAT, 4 DOUBLE, 5 STRING).
    fn module_values(&mut self) -> Result<(), RdbError> {
        loop {
            let at = self.input.offset();
            match self.input.plain_len("module opcode")? {
                0 => return Ok(()),
                1 | 2 => {
                    self.input.plain_len("module integer")?;
                }
                3 => self.input.skip(4, "module float")?,
                4 => self.input.skip(8, "module double")?,
                5 => {
                    self.skip_string("module string")?;
                }
                op => {
                    return Err(RdbError::corrupt(
                        at,
                        format!("unknown module value opcode {op}"),
                    ));
                }
            }
        }
    }
}
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Read;

    /// Hands out at most `step` bytes per read: many more reads than chunks in flight, and values that straddle
    /// the read buffer (the copying path of `encoded` instead of the in-buffer one).
    pub(crate) struct Trickle<'a> {
        pub(crate) data: &'a [u8],
        pub(crate) step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn parser<R: Read>(reader: R) -> Parser<R> {
        Parser::new(reader, Limits::default())
    }

    #[test]
    fn the_fast_string_skip_ends_where_the_general_one_does_and_counts_the_same_length() {
        // "hello"; RDB_ENC_INT8 7; INT16; INT32; an empty string; "abc" LZF-compressed (RDB_ENC_LZF, compressed and
        // plain lengths, one literal run: general path only); a 70-byte one (14-bit length: general path only); a
        // 63-byte one; then an 0xFF opcode, so that each skip must end on the right byte.
        let mut data = vec![
            5, b'h', b'e', b'l', b'l', b'o', 0xC0, 7, 0xC1, 1, 2, 0xC2, 1, 2, 3, 4, 0,
        ];
        data.extend([0xC3, 4, 3, 2, b'a', b'b', b'c']);
        data.extend([0x40, 70]);
        data.extend([b'x'; 70]);
        data.push(63);
        data.extend([b'y'; 63]);
        data.push(0xFF);
        let want = [5, 1, 2, 4, 0, 3, 70, 63];
        let general = |mut p: Parser<Trickle>| -> (Vec<u64>, u64) {
            let lens = want
                .iter()
                .map(|_| p.skip_any_string("t").unwrap())
                .collect();
            (lens, p.input.offset())
        };
        let end = (data.len() - 1) as u64;
        // Whole in the buffer (the fast path), one byte per read (the general path at every string), and split.
        for step in [data.len(), 1, 3, 7] {
            let mut fast = parser(Trickle { data: &data, step });
            let lens: Vec<u64> = want
                .iter()
                .map(|_| fast.skip_string("t").unwrap())
                .collect();
            assert_eq!(lens, want, "read step {step}");
            assert_eq!(fast.input.offset(), end, "read step {step}");
            assert_eq!(fast.input.u8("t").unwrap(), 0xFF);
            assert_eq!(
                general(parser(Trickle { data: &data, step })),
                (want.to_vec(), end)
            );
        }
        // An int32 cut short is Truncated, as in the general path.
        let mut cut = parser(&[0xC2u8, 1, 2][..]);
        assert!(matches!(
            cut.skip_string("t"),
            Err(RdbError::Truncated { .. })
        ));
    }
}
