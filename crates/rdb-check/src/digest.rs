//! A value's logical digest, as the key walk computes it (`keys`): equal for equal values whatever their encoding, in
//! the spirit of Redis `debug.c` `xorObjectDigest` (`DEBUG DIGEST-VALUE`): strings and lists hashed in order; set
//! members, hash (field, value, field-expiry) triples and sorted-set (member, score) pairs each hashed on their own and
//! XOR-ed together, so their order (a hashtable's iteration order, a listpack's insertion order) does not count.
//! Integers count as their decimal text (a listpack stores `"42"` as an integer; a hashtable as a string), sorted-set
//! scores as the `f64` they parse to (text in RDB < 8, binary doubles, listpack strings or integers), hash-field
//! expiries as absolute milliseconds (-1 for none, whichever encoding says "none"). Streams and module values are
//! hashed as their serialized bytes (they have one encoding per format version).
//!
//! The numbers are SHA-256 based and are not the ones `DEBUG DIGEST-VALUE` prints (that command is disabled on
//! ElastiCache anyway): two digests are only compared with each other.

use sha2::{Digest as _, Sha256};

use crate::entries::Entry;

/// How a value type's elements combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Strings and lists: every element in order.
    Ordered,
    /// Sets, sorted sets and hashes: tuples of `k` elements, order-insensitive. `score` is the index of a sorted-set
    /// score; `ttl` the index of a hash field's expiry; `pad_ttl` adds "no expiry" to a hash encoding without them.
    Tuples {
        k: usize,
        score: Option<usize>,
        ttl: Option<usize>,
        pad_ttl: bool,
    },
    /// Streams and module values: their serialized bytes (fed by the input's tap).
    Raw,
}

/// The kind tag hashed into every digest, so a set and a list of the same members differ.
fn kind_tag(t: u8) -> u8 {
    match t {
        0 => b's',
        1 | 10 | 14 | 18 => b'l',
        2 | 11 | 20 => b'S',
        3 | 5 | 12 | 17 => b'z',
        15 | 19 | 21 => b'x',
        7 => b'm',
        _ => b'h',
    }
}

/// The digest being computed for one value.
pub struct Elements {
    shape: Shape,
    tag: u8,
    ordered: Sha256,
    acc: [u8; 32],
    /// The tuple being gathered: each part length-prefixed, hashed as it comes (an element of any size is never held).
    tuple: Sha256,
    in_tuple: usize,
    /// The element begun is a score or a field expiry, gathered in `pending` to be parsed.
    special: bool,
    pending: Vec<u8>,
}

impl Elements {
    /// For a value of type byte `t` (`valkey`: a file with the `VALKEY` magic, where 22 is `RDB_TYPE_HASH_2`).
    pub fn new(t: u8, _valkey: bool) -> Self {
        let shape = match t {
            0 | 1 | 10 | 14 | 18 => Shape::Ordered,
            2 | 11 | 20 => Shape::Tuples {
                k: 1,
                score: None,
                ttl: None,
                pad_ttl: false,
            },
            3 | 5 | 12 | 17 => Shape::Tuples {
                k: 2,
                score: Some(1),
                ttl: None,
                pad_ttl: false,
            },
            4 | 9 | 13 | 16 => Shape::Tuples {
                k: 2,
                score: None,
                ttl: None,
                pad_ttl: true,
            },
            // 22 (Valkey HASH_2: field, value, expiry; Redis pre-GA: TTL first), 23/25 (listpack field, value, TTL),
            // 24 (TTL, field, value): the parser feeds every one of them as field, value, TTL.
            22..=25 => Shape::Tuples {
                k: 3,
                score: None,
                ttl: Some(2),
                pad_ttl: false,
            },
            _ => Shape::Raw,
        };
        Self {
            shape,
            tag: kind_tag(t),
            ordered: Sha256::new(),
            acc: [0; 32],
            tuple: Sha256::new(),
            in_tuple: 0,
            special: false,
            pending: Vec::new(),
        }
    }

    /// Whether the value is hashed as its serialized bytes (the parser then taps them).
    pub fn is_raw(&self) -> bool {
        self.shape == Shape::Raw
    }

    /// Starts an element of `len` bytes, whose bytes follow in [`Self::chunk`]s until [`Self::end`] (an element of
    /// any size, never held whole unless it is a score or a field expiry, which are short).
    pub fn begin(&mut self, len: u64) {
        let (score, ttl) = self.position();
        self.special = score == Some(self.in_tuple) || ttl == Some(self.in_tuple);
        if self.special {
            self.pending.clear();
            return;
        }
        match self.shape {
            // A string value is one element: no length (its chunks are the value).
            Shape::Ordered if self.tag == b's' => {}
            Shape::Ordered => self.ordered.update(len.to_le_bytes()),
            Shape::Tuples { .. } => self.tuple.update(len.to_le_bytes()),
            Shape::Raw => {}
        }
    }

    /// Bytes of the element begun.
    pub fn chunk(&mut self, bytes: &[u8]) {
        if self.special {
            self.pending.extend_from_slice(bytes);
            return;
        }
        match self.shape {
            Shape::Ordered => self.ordered.update(bytes),
            Shape::Tuples { .. } => self.tuple.update(bytes),
            Shape::Raw => {}
        }
    }

    /// Ends the element begun.
    pub fn end(&mut self) {
        if self.special {
            self.special = false;
            let p = std::mem::take(&mut self.pending);
            self.bytes(&p);
            self.pending = p;
            return;
        }
        self.close_part();
    }

    /// One whole element.
    fn part(&mut self, bytes: &[u8]) {
        self.begin(bytes.len() as u64);
        self.chunk(bytes);
        self.close_part();
    }

    /// A score's or a field expiry's canonical bytes as the element at this position.
    fn literal(&mut self, bytes: &[u8]) {
        if let Shape::Tuples { .. } = self.shape {
            self.tuple.update((bytes.len() as u64).to_le_bytes());
            self.tuple.update(bytes);
        }
        self.close_part();
    }

    /// Counts the element just fed; a tuple once complete is hashed into the XOR.
    fn close_part(&mut self) {
        if let Shape::Tuples { k, pad_ttl, .. } = self.shape {
            self.in_tuple += 1;
            if self.in_tuple == k {
                if pad_ttl {
                    self.tuple.update(8u64.to_le_bytes());
                    self.tuple.update((-1i64).to_le_bytes());
                }
                let h = std::mem::take(&mut self.tuple).finalize();
                for (a, b) in self.acc.iter_mut().zip(h) {
                    *a ^= b;
                }
                self.in_tuple = 0;
            }
        }
    }

    fn position(&self) -> (Option<usize>, Option<usize>) {
        match self.shape {
            Shape::Tuples { score, ttl, .. } => (score, ttl),
            _ => (None, None),
        }
    }

    /// One element given as bytes (a string element, a member, a field, a value; a sorted-set score written as text).
    pub fn bytes(&mut self, bytes: &[u8]) {
        match self.position() {
            (Some(s), _) if s == self.in_tuple => {
                let score = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok());
                match score {
                    Some(v) => self.score(v),
                    None => self.literal(bytes),
                }
            }
            (_, Some(t)) if t == self.in_tuple => {
                let ttl = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok());
                self.ttl(ttl.unwrap_or(-1));
            }
            _ => self.part(bytes),
        }
    }

    /// One element stored as an integer: its decimal text (or a score, or a field expiry, where one is due).
    pub fn int(&mut self, v: i64) {
        match self.position() {
            #[allow(clippy::cast_precision_loss)]
            (Some(s), _) if s == self.in_tuple => self.score(v as f64),
            (_, Some(t)) if t == self.in_tuple => self.ttl(v),
            _ => self.part(v.to_string().as_bytes()),
        }
    }

    /// An element of a compact encoding.
    pub fn entry(&mut self, e: Entry<'_>) {
        match e {
            Entry::Bytes(b) => self.bytes(b),
            Entry::Int(v) => self.int(v),
        }
    }

    /// A sorted-set score (`-0.0` and `0.0` count as one, as Redis compares them equal).
    pub fn score(&mut self, v: f64) {
        let v = if v == 0.0 { 0.0 } else { v };
        self.literal(&v.to_bits().to_le_bytes());
    }

    /// A hash field's expiry, absolute milliseconds; 0 or negative (the encodings' "none") counts as none.
    pub fn ttl(&mut self, v: i64) {
        let v = if v <= 0 { -1 } else { v };
        self.literal(&v.to_le_bytes());
    }

    /// The digest; `raw` is the SHA-256 of the serialized value for [`Self::is_raw`] shapes.
    pub fn finish(self, raw: Option<[u8; 32]>) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([self.tag]);
        match self.shape {
            Shape::Ordered => h.update(self.ordered.finalize()),
            Shape::Tuples { .. } => h.update(self.acc),
            Shape::Raw => h.update(raw.unwrap_or_default()),
        }
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of(t: u8, parts: &[Entry<'_>]) -> [u8; 32] {
        let mut e = Elements::new(t, false);
        for p in parts {
            e.entry(*p);
        }
        e.finish(None)
    }

    #[test]
    fn a_hash_is_the_same_in_any_order_and_encoding_and_integers_are_their_text() {
        use Entry::{Bytes, Int};
        let listpack = hash_of(16, &[Bytes(b"a"), Int(1), Bytes(b"b"), Bytes(b"x")]);
        let hashtable = hash_of(4, &[Bytes(b"b"), Bytes(b"x"), Bytes(b"a"), Bytes(b"1")]);
        assert_eq!(listpack, hashtable);
        // A listpack with field TTLs, none set (0), is the same hash.
        let ex = hash_of(
            25,
            &[
                Bytes(b"a"),
                Int(1),
                Int(0),
                Bytes(b"b"),
                Bytes(b"x"),
                Int(0),
            ],
        );
        assert_eq!(ex, hashtable);
        // A changed value, or a field TTL, is a different hash.
        assert_ne!(
            hash_of(4, &[Bytes(b"b"), Bytes(b"y"), Bytes(b"a"), Bytes(b"1")]),
            hashtable
        );
        assert_ne!(
            hash_of(
                25,
                &[
                    Bytes(b"a"),
                    Int(1),
                    Int(5),
                    Bytes(b"b"),
                    Bytes(b"x"),
                    Int(0)
                ]
            ),
            hashtable
        );
    }

    #[test]
    fn scores_compare_as_numbers_lists_in_order_and_kinds_apart() {
        use Entry::{Bytes, Int};
        let mut skiplist = Elements::new(5, false);
        skiplist.bytes(b"m");
        skiplist.score(2.0);
        skiplist.bytes(b"n");
        skiplist.score(0.5);
        let listpack = hash_of(17, &[Bytes(b"n"), Bytes(b"0.5"), Bytes(b"m"), Int(2)]);
        assert_eq!(skiplist.finish(None), listpack);
        assert_ne!(
            hash_of(18, &[Bytes(b"a"), Bytes(b"b")]),
            hash_of(18, &[Bytes(b"b"), Bytes(b"a")])
        );
        assert_eq!(
            hash_of(18, &[Bytes(b"a"), Int(7)]),
            hash_of(1, &[Bytes(b"a"), Bytes(b"7")])
        );
        assert_ne!(hash_of(20, &[Bytes(b"a")]), hash_of(18, &[Bytes(b"a")]));
        assert_eq!(
            hash_of(11, &[Int(3), Int(1)]),
            hash_of(2, &[Bytes(b"1"), Bytes(b"3")])
        );
    }
}
