//! Redis Cluster hash slots: the slot of a key ([`key_slot`], and the streaming [`SlotHasher`] for keys read in
//! pieces) and sets of slots ([`SlotSet`]).
//!
//! Source: the Redis Cluster specification, "Keys distribution model" and "Hash tags" (`cluster.c` `keyHashSlot`):
//! the slot is CRC16 (XMODEM/CCITT: polynomial 0x1021, init 0, no reflection, no final XOR) of the key modulo 16384,
//! or of its hash tag when it has one: the bytes between the first `{` and the first `}` after it, when there is at
//! least one byte between them. Test vector: CRC16("123456789") = 0x31C3.

use std::fmt;
use std::str::FromStr;

/// Number of hash slots in a Redis / Valkey cluster: slots are `0..=16383`.
pub const SLOT_COUNT: u16 = 16384;

/// CRC16/XMODEM (`crc::CRC_16_XMODEM`), slice-by-16 tables.
static CRC16: crc::Crc<u16, crc::Table<16>> =
    crc::Crc::<u16, crc::Table<16>>::new(&crc::CRC_16_XMODEM);

/// The hash tag of a key, when it has one (Redis Cluster specification, "Hash tags"): the bytes between the first
/// `{` and the first `}` after it, if at least one byte lies between them.
#[inline]
fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&b| b == b'}')?;
    (close > 0).then(|| &rest[..close])
}

/// Whether any byte of `word` is `{` (the classic exact zero-byte test, on `word` XOR `{{{{{{{{`).
#[inline]
fn has_open_brace(word: u64) -> bool {
    let x = word ^ u64::from_ne_bytes([b'{'; 8]);
    x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0
}

/// The Redis Cluster hash slot (`0..16384`) of a key given as its bytes (an integer-encoded key as its decimal text).
///
/// CRC16/XMODEM of the key's hash tag when it has one, else of the whole key, modulo 16384 (see the module
/// documentation for the source). `key_slot(b"{user1000}.following") == key_slot(b"{user1000}.followers")`;
/// `foo{}{bar}` hashes whole, `foo{{bar}}zap` hashes `{bar`.
#[must_use]
#[inline]
pub fn key_slot(key: &[u8]) -> u16 {
    // Short keys without `{` (most keys) are hashed behind zero bytes up to a multiple of 16: with XMODEM's initial
    // value 0 and no reflection, a leading zero byte leaves the CRC at 0, so the result is the same, and the
    // slice-by-16 table then takes the key in steps of 16 independent lookups instead of a chain of byte steps each
    // waiting for the one before (that chain was a quarter of the check's time on a file of small collections).
    let len = key.len();
    if let (Some(first), Some(last)) = (key.first_chunk::<8>(), key.last_chunk::<8>())
        && len <= 16
    {
        // 8 to 16 bytes: the first and last 8 cover the key; built in registers and searched for `{` a word at a
        // time.
        let (head, tail) = (u64::from_be_bytes(*first), u64::from_be_bytes(*last));
        if !has_open_brace(head) && !has_open_brace(tail) {
            let block = (u128::from(head) << (8 * (len - 8))) | u128::from(tail);
            return CRC16.checksum(&block.to_be_bytes()) % SLOT_COUNT;
        }
    } else if (17..=PADDED_MAX).contains(&len) && !key.contains(&b'{') {
        let padded = len.next_multiple_of(16);
        let mut buf = [0u8; PADDED_MAX];
        buf[padded - len..padded].copy_from_slice(key);
        return CRC16.checksum(&buf[..padded]) % SLOT_COUNT;
    }
    CRC16.checksum(hash_tag(key).unwrap_or(key)) % SLOT_COUNT
}

/// Longest key [`key_slot`] pads (longer ones are mostly taken 16 bytes at a time anyway).
const PADDED_MAX: usize = 64;

/// Where a [`SlotHasher`] is in the key: before its first `{`, inside the first `{…`, or past the tag.
#[derive(Clone)]
enum Tag {
    /// No `{` yet.
    Seeking,
    /// After the first `{`: the CRC of the tag so far, and whether it holds a byte yet.
    Open(crc::Digest<'static, u16, crc::Table<16>>, bool),
    /// A non-empty tag was closed: its CRC (the key's slot comes from it).
    Found(u16),
    /// The first `{` was followed at once by `}`: the whole key is hashed.
    Empty,
}

/// The slot of a key fed in pieces (a long key read chunk by chunk, or an LZF-compressed one as it is decompressed),
/// in constant memory: the CRC of the whole key and, from its first `{`, the CRC of the tag, whichever applies at
/// the end. Gives [`key_slot`] of the concatenated pieces, however the key is cut.
#[derive(Clone)]
pub struct SlotHasher {
    whole: crc::Digest<'static, u16, crc::Table<16>>,
    tag: Tag,
}

impl Default for SlotHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl SlotHasher {
    /// A hasher for an empty key.
    #[must_use]
    pub fn new() -> Self {
        Self {
            whole: CRC16.digest(),
            tag: Tag::Seeking,
        }
    }

    /// Feeds the next bytes of the key.
    pub fn update(&mut self, mut bytes: &[u8]) {
        loop {
            match &mut self.tag {
                Tag::Seeking => match bytes.iter().position(|&b| b == b'{') {
                    None => return self.whole.update(bytes),
                    Some(i) => {
                        self.whole.update(&bytes[..=i]);
                        bytes = &bytes[i + 1..];
                        self.tag = Tag::Open(CRC16.digest(), false);
                    }
                },
                Tag::Open(tag, nonempty) => match bytes.iter().position(|&b| b == b'}') {
                    None => {
                        tag.update(bytes);
                        *nonempty |= !bytes.is_empty();
                        return self.whole.update(bytes);
                    }
                    Some(0) if !*nonempty => {
                        self.tag = Tag::Empty;
                        return self.whole.update(bytes);
                    }
                    Some(i) => {
                        tag.update(&bytes[..i]);
                        // The slot is the tag's from here on: the rest of the key no longer matters.
                        self.tag = Tag::Found(tag.clone().finalize());
                        return;
                    }
                },
                Tag::Found(_) => return,
                Tag::Empty => return self.whole.update(bytes),
            }
        }
    }

    /// The key's slot.
    #[must_use]
    pub fn slot(&self) -> u16 {
        match &self.tag {
            Tag::Found(crc) => crc % SLOT_COUNT,
            _ => self.whole.clone().finalize() % SLOT_COUNT,
        }
    }
}

/// The decimal text of an integer-encoded string (`RDB_ENC_INT8/16/32`), as Redis reads it back (`ll2string`), into
/// `buf`; returns the bytes written.
#[inline]
pub(crate) fn decimal(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// LZF's farthest back reference, bytes (`lzf_d.c`: 13 bits of distance, plus one).
const LZF_WINDOW: usize = 8192;

/// An LZF sink that hashes a key as it is decompressed, keeping only LZF's window of the output (8 KiB) so that back
/// references can be resolved: a compressed key of any size in bounded memory.
pub(crate) struct WindowSink<'a, H> {
    /// The last [`LZF_WINDOW`] bytes produced, as a ring.
    window: &'a mut Vec<u8>,
    /// Bytes produced.
    produced: usize,
    hasher: H,
}

/// Where a [`WindowSink`] hands the bytes it produces: a key's slot ([`SlotHasher`]) or a value's digest.
pub(crate) trait Feed {
    /// The next bytes produced.
    fn update(&mut self, bytes: &[u8]);
}

impl Feed for SlotHasher {
    fn update(&mut self, bytes: &[u8]) {
        SlotHasher::update(self, bytes);
    }
}

/// A [`WindowSink`] computing a key's slot.
pub(crate) type SlotSink<'a> = WindowSink<'a, SlotHasher>;

impl<'a, H> WindowSink<'a, H> {
    /// A sink using `window` (reused between keys; resized to the window), handing its bytes to `hasher`.
    pub(crate) fn with(window: &'a mut Vec<u8>, hasher: H) -> Self {
        window.resize(LZF_WINDOW, 0);
        Self {
            window,
            produced: 0,
            hasher,
        }
    }
}

impl<'a> WindowSink<'a, SlotHasher> {
    /// A sink using `window` (reused between keys; resized to the window).
    pub(crate) fn new(window: &'a mut Vec<u8>) -> Self {
        Self::with(window, SlotHasher::new())
    }

    /// The slot of the key produced.
    pub(crate) fn slot(&self) -> u16 {
        self.hasher.slot()
    }
}

impl<H: Feed> crate::lzf::Sink for WindowSink<'_, H> {
    fn push_slice(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        // Only the last window's worth can be referred to.
        let keep = &bytes[bytes.len().saturating_sub(LZF_WINDOW)..];
        let skipped = bytes.len() - keep.len();
        for (i, &b) in keep.iter().enumerate() {
            self.window[(self.produced + skipped + i) % LZF_WINDOW] = b;
        }
        self.produced += bytes.len();
    }

    fn copy_back(&mut self, distance: usize, len: usize) {
        // Byte by byte (source and destination may overlap), hashed in pieces of what was just written.
        let mut piece = [0u8; 64];
        let mut filled = 0;
        for _ in 0..len {
            let b = self.window[(self.produced + LZF_WINDOW - distance % LZF_WINDOW) % LZF_WINDOW];
            self.window[self.produced % LZF_WINDOW] = b;
            self.produced += 1;
            piece[filled] = b;
            filled += 1;
            if filled == piece.len() {
                self.hasher.update(&piece);
                filled = 0;
            }
        }
        self.hasher.update(&piece[..filled]);
    }
}

/// Words of a [`SlotSet`]'s bitmap.
const WORDS: usize = SLOT_COUNT as usize / 64;

/// A set of hash slots (`0..16384`), as a 16,384-bit bitmap (2 KiB).
///
/// Text form (`Display` / `FromStr`, and serde, which uses it): inclusive ranges `start-end`, comma-separated, in
/// ascending order, adjacent slots merged, a single slot written `5-5`: `"0-5460,10923-16383"`; the empty set is the
/// empty string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SlotSet {
    bits: [u64; WORDS],
}

impl Default for SlotSet {
    fn default() -> Self {
        Self::new()
    }
}

impl SlotSet {
    /// The empty set.
    #[must_use]
    pub const fn new() -> Self {
        Self { bits: [0; WORDS] }
    }

    /// Adds `slot`; returns whether it was not in the set yet. A number from 16384 on is not a slot: it is not added
    /// (returns `false`).
    #[inline]
    pub fn insert(&mut self, slot: u16) -> bool {
        if slot >= SLOT_COUNT {
            return false;
        }
        let (word, bit) = (usize::from(slot / 64), 1u64 << (slot % 64));
        let new = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        new
    }

    /// Adds every slot of `start..=end` (nothing when `start > end`; numbers from 16384 on are not slots and are
    /// left out).
    pub fn insert_range(&mut self, start: u16, end: u16) {
        for slot in start..=end.min(SLOT_COUNT - 1) {
            self.insert(slot);
        }
    }

    /// Whether `slot` is in the set (`false` for numbers from 16384 on).
    #[must_use]
    pub fn contains(&self, slot: u16) -> bool {
        slot < SLOT_COUNT && self.bits[usize::from(slot / 64)] & (1 << (slot % 64)) != 0
    }

    /// Number of slots in the set (0 to 16384).
    #[must_use]
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set holds no slot.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }

    /// The set as inclusive ranges `(start, end)`, ascending, adjacent slots merged.
    #[must_use]
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for (w, &word) in self.bits.iter().enumerate() {
            let mut rest = word;
            while rest != 0 {
                // The next run of ones in this word.
                let start = rest.trailing_zeros();
                let run = (rest >> start).trailing_ones();
                let first = (w * 64) as u16 + start as u16;
                let last = first + run as u16 - 1;
                match out.last_mut() {
                    Some((_, end)) if *end + 1 == first => *end = last,
                    _ => out.push((first, last)),
                }
                rest = if start + run >= 64 {
                    0
                } else {
                    rest & !((1u64 << (start + run)) - 1)
                };
            }
        }
        out
    }

    /// Whether every slot of `self` is in `other`.
    #[must_use]
    pub fn is_subset(&self, other: &SlotSet) -> bool {
        self.bits.iter().zip(&other.bits).all(|(a, b)| a & !b == 0)
    }

    /// The slots in `self`, `other` or both.
    #[must_use]
    pub fn union(&self, other: &SlotSet) -> SlotSet {
        let mut out = self.clone();
        for (a, b) in out.bits.iter_mut().zip(&other.bits) {
            *a |= b;
        }
        out
    }
}

/// A [`SlotSet`] in the shortest of five text forms, for a checkpoint ([`crate::Checkpoint`]), whose size must stay
/// small whatever the keys: its slots and ranges (`"0-5460,6000,7001-7002"`: a single slot written alone); `!` and
/// the same of the slots not in it (a set that misses a few ranges); `g` and its slots as gaps (the first slot, then
/// the slots skipped before each next one, LEB128), or `G` and the same of the slots not in it (scattered slots, as a
/// shard's keys leave them part-way through), in unpadded URL-safe base64; or `b` and its 16,384-bit bitmap (slot `s`
/// is bit `s % 64` of little-endian word `s / 64`), base64 too (2,732 characters with the `b`, the most any form
/// takes). Read back by [`parse_compact`].
pub(crate) fn compact(set: &SlotSet) -> String {
    use base64::Engine as _;
    fn listed(set: &SlotSet) -> String {
        let parts: Vec<String> = set
            .ranges()
            .into_iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        parts.join(",")
    }
    let mut complement = SlotSet::new();
    for (c, s) in complement.bits.iter_mut().zip(&set.bits) {
        *c = !s;
    }
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let bitmap: Vec<u8> = set.bits.iter().flat_map(|w| w.to_le_bytes()).collect();
    let forms = [
        listed(set),
        format!("!{}", listed(&complement)),
        format!("g{}", b64(&gaps(set))),
        format!("G{}", b64(&gaps(&complement))),
        format!("b{}", b64(&bitmap)),
    ];
    forms
        .into_iter()
        .min_by_key(String::len)
        .unwrap_or_default()
}

/// The slots of `set` as gaps: the first slot, then for each next one the number of slots skipped since the previous,
/// each an unsigned LEB128 number (one byte below 128, else two).
fn gaps(set: &SlotSet) -> Vec<u8> {
    let mut out = Vec::new();
    let mut next = 0u16;
    for slot in (0..SLOT_COUNT).filter(|s| set.contains(*s)) {
        let mut gap = slot - next;
        loop {
            let byte = (gap & 0x7f) as u8;
            gap >>= 7;
            if gap == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        next = slot + 1;
    }
    out
}

/// The set [`gaps`] wrote; `None` for bytes it cannot have written.
fn from_gaps(bytes: &[u8]) -> Option<SlotSet> {
    let mut set = SlotSet::new();
    let mut next = 0u32;
    let mut gap = 0u32;
    let mut shift = 0;
    for &b in bytes {
        if shift > 7 {
            return None;
        }
        gap |= u32::from(b & 0x7f) << shift;
        if b & 0x80 != 0 {
            shift += 7;
            continue;
        }
        let slot = next + gap;
        if slot >= u32::from(SLOT_COUNT) {
            return None;
        }
        set.insert(slot as u16);
        next = slot + 1;
        (gap, shift) = (0, 0);
    }
    (shift == 0).then_some(set)
}

/// The set whose elements are in exactly one of `a` and `b`.
pub(crate) fn difference(a: &SlotSet, b: &SlotSet) -> SlotSet {
    let mut out = a.clone();
    for (x, y) in out.bits.iter_mut().zip(&b.bits) {
        *x ^= y;
    }
    out
}

/// The [`SlotSet`] of a [`compact`] text; `None` when it is not one.
pub(crate) fn parse_compact(text: &str) -> Option<SlotSet> {
    use base64::Engine as _;
    fn listed(text: &str) -> Option<SlotSet> {
        let mut set = SlotSet::new();
        if text.is_empty() {
            return Some(set);
        }
        for part in text.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let slot = |s: &str| {
                s.parse::<u16>()
                    .ok()
                    .filter(|n| *n < SLOT_COUNT && !s.starts_with('+'))
            };
            let (a, b) = (slot(a)?, slot(b)?);
            if a > b {
                return None;
            }
            set.insert_range(a, b);
        }
        Some(set)
    }
    if let Some(rest) = text.strip_prefix('!') {
        let mut set = listed(rest)?;
        for w in &mut set.bits {
            *w = !*w;
        }
        return Some(set);
    }
    let decode = |b64: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .ok()
    };
    if let Some(b64) = text.strip_prefix('g') {
        return from_gaps(&decode(b64)?);
    }
    if let Some(b64) = text.strip_prefix('G') {
        let mut set = from_gaps(&decode(b64)?)?;
        for w in &mut set.bits {
            *w = !*w;
        }
        return Some(set);
    }
    if let Some(b64) = text.strip_prefix('b') {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .ok()?;
        if bytes.len() != WORDS * 8 {
            return None;
        }
        let mut set = SlotSet::new();
        for (w, chunk) in set.bits.iter_mut().zip(bytes.chunks_exact(8)) {
            *w = u64::from_le_bytes(chunk.try_into().ok()?);
        }
        return Some(set);
    }
    listed(text)
}

impl FromIterator<u16> for SlotSet {
    /// The set of the given slots (numbers from 16384 on are left out, as [`SlotSet::insert`] does).
    fn from_iter<I: IntoIterator<Item = u16>>(iter: I) -> Self {
        let mut set = SlotSet::new();
        for slot in iter {
            set.insert(slot);
        }
        set
    }
}

impl fmt::Display for SlotSet {
    /// `"0-5460,10923-16383"` (see [`SlotSet`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (start, end)) in self.ranges().into_iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{start}-{end}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SlotSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotSet({self})")
    }
}

/// Why a text is not a [`SlotSet`]: the message names the offending range (quoted, cut to 40 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid slot ranges: {0}")]
pub struct ParseSlotSetError(String);

/// `text` quoted for a message, cut to its first 40 characters.
pub(crate) fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

impl FromStr for SlotSet {
    type Err = ParseSlotSetError;

    /// Parses `"start-end,start-end,…"` (decimal slots `0` to `16383`, `start <= end`; the empty string is the empty
    /// set). Ranges may come in any order and may touch, but not overlap.
    ///
    /// # Errors
    /// [`ParseSlotSetError`] for text that is not such a list, a number above 16383, a range that ends before it
    /// starts, or two ranges that share a slot.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut set = SlotSet::new();
        if text.is_empty() {
            return Ok(set);
        }
        let slot = |s: &str, range: &str| -> Result<u16, ParseSlotSetError> {
            if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseSlotSetError(format!(
                    "{} is not start-end with decimal slots",
                    quoted(range)
                )));
            }
            match s.parse::<u16>() {
                Ok(n) if n < SLOT_COUNT => Ok(n),
                _ => Err(ParseSlotSetError(format!(
                    "{} names slot {s}, past 16383",
                    quoted(range)
                ))),
            }
        };
        for range in text.split(',') {
            let Some((a, b)) = range.split_once('-') else {
                return Err(ParseSlotSetError(format!(
                    "{} is not start-end",
                    quoted(range)
                )));
            };
            let (start, end) = (slot(a, range)?, slot(b, range)?);
            if start > end {
                return Err(ParseSlotSetError(format!(
                    "{} ends before it starts",
                    quoted(range)
                )));
            }
            for s in start..=end {
                if !set.insert(s) {
                    return Err(ParseSlotSetError(format!(
                        "{} overlaps another range at slot {s}",
                        quoted(range)
                    )));
                }
            }
        }
        Ok(set)
    }
}

impl serde::Serialize for SlotSet {
    /// The text form, `"0-5460,10923-16383"`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SlotSet {
    /// The text form, as [`SlotSet::from_str`] parses it.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lzf::Sink;

    #[test]
    fn the_specification_test_vectors_hold() {
        assert_eq!(CRC16.checksum(b"123456789"), 0x31C3);
        assert_eq!(key_slot(b"123456789"), 0x31C3);
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(
            key_slot(b"foo{}{bar}"),
            CRC16.checksum(b"foo{}{bar}") % 16384
        );
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(key_slot(b""), 0);
    }

    #[test]
    fn decimal_text_matches_formatting() {
        let mut buf = [0u8; 20];
        for v in [
            0,
            7,
            -1,
            -128,
            127,
            32767,
            -32768,
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(decimal(v, &mut buf), v.to_string().as_bytes(), "{v}");
        }
    }

    #[test]
    fn slot_sets_format_as_ascending_inclusive_ranges() {
        let mut s = SlotSet::new();
        assert_eq!(s.to_string(), "");
        assert!(s.is_empty());
        assert!(s.insert(5));
        assert!(!s.insert(5));
        assert_eq!(s.to_string(), "5-5");
        s.insert_range(0, 3);
        s.insert_range(63, 65);
        s.insert(16383);
        assert!(!s.insert(16384), "not a slot");
        assert_eq!(s.to_string(), "0-3,5-5,63-65,16383-16383");
        assert_eq!(s.len(), 9);
        assert_eq!(s.ranges(), vec![(0, 3), (5, 5), (63, 65), (16383, 16383)]);
        assert!(s.contains(64) && !s.contains(4) && !s.contains(16384));
        let mut all = SlotSet::new();
        all.insert_range(0, u16::MAX);
        assert_eq!(all.to_string(), "0-16383");
        assert_eq!(all.len(), 16384);
        assert!(s.is_subset(&all) && !all.is_subset(&s));
        let halves: SlotSet = "0-5460,10923-16383".parse().unwrap();
        assert_eq!(halves.to_string(), "0-5460,10923-16383");
        assert_eq!(halves.len(), 5461 + 5461);
        let middle: SlotSet = "5461-10922".parse().unwrap();
        assert_eq!(halves.union(&middle), all);
        assert!(middle.is_subset(&all) && !middle.is_subset(&halves));
        // Touching ranges, in any order, merge.
        let touching: SlotSet = "10-20,0-9".parse().unwrap();
        assert_eq!(touching.to_string(), "0-20");
    }

    #[test]
    fn slot_set_text_is_refused_with_a_reason() {
        for (text, reason) in [
            ("0-5,5-9", "overlaps another range at slot 5"),
            ("0-16384", "past 16383"),
            ("99999-99999", "past 16383"),
            ("7", "is not start-end"),
            ("5-3", "ends before it starts"),
            ("0-5,", "is not start-end"),
            (",0-5", "is not start-end"),
            ("-1-5", "decimal slots"),
            ("+1-5", "decimal slots"),
            (" 1-5", "decimal slots"),
            ("1-5 ", "decimal slots"),
            ("a-b", "decimal slots"),
            ("1--5", "decimal slots"),
            ("0-1,0-1", "overlaps"),
        ] {
            let err = text.parse::<SlotSet>().unwrap_err().to_string();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
        let long = "é".repeat(100);
        let err = long.parse::<SlotSet>().unwrap_err().to_string();
        assert_eq!(err.matches('é').count(), 40, "cut to 40 characters: {err}");
    }

    #[test]
    fn slot_sets_serialize_as_their_text() {
        let s: SlotSet = "0-5460,10923-16383".parse().unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"0-5460,10923-16383\"");
        assert_eq!(serde_json::from_str::<SlotSet>(&json).unwrap(), s);
        let err = serde_json::from_str::<SlotSet>("\"0-5,3-4\"").unwrap_err();
        assert!(err.to_string().contains("overlaps"), "{err}");
        assert_eq!(format!("{s:?}"), "SlotSet(0-5460,10923-16383)");
    }

    #[test]
    fn the_lzf_sink_hashes_what_a_plain_decompression_produces() {
        // Literal runs and back references (overlapping, and reaching the far end of the window) fed to both.
        let mut plain = Vec::new();
        let mut window = Vec::new();
        let mut sink = SlotSink::new(&mut window);
        let big: Vec<u8> = (0..20_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let steps: [(&[u8], usize, usize); 5] = [
            (b"prefix{", 0, 0),
            (b"ab", 2, 9),
            (&big, LZF_WINDOW, 300),
            (b"}", 1, 5),
            (b"tail", 4000, 264),
        ];
        for (literal, distance, len) in steps {
            plain.push_slice(literal);
            sink.push_slice(literal);
            if len > 0 {
                plain.copy_back(distance, len);
                sink.copy_back(distance, len);
            }
        }
        assert_eq!(sink.slot(), key_slot(&plain));
    }
}
