//! The byte source: buffered, counting the offset, and feeding every byte to the running CRC-64 (Redis' Jones
//! polynomial, reflected, init 0 — CRC-64/REDIS; rdb.c `rdbLoadRio`: the checksum covers every byte up to and
//! including the EOF opcode).
//!
//! Speed: the per-key reads (type byte, lengths, short strings) are served straight from the buffer by inlined fast
//! paths; the checksum is computed over whole consumed stretches of the buffer (when it is refilled and at the end),
//! not per read, by `crc-fast` (carry-less multiplication: PCLMULQDQ on x86-64, PMULL on Graviton; a table
//! fallback elsewhere), several GB/s, so it is no longer a third of the check's time as slice-by-16 tables were.

use std::io::{ErrorKind, Read};

use crc_fast::{CrcAlgorithm, Digest};

use crate::error::RdbError;
/// CRC-64 as Redis computes it for files and `DUMP` payloads (`crc64.c`: Jones polynomial, reflected, initial 0).
pub fn crc64(bytes: &[u8]) -> u64 {
    let mut d = Digest::new(CrcAlgorithm::Crc64Redis);
    d.update(bytes);
    d.finalize()
}

/// Read size, bytes.
const CHUNK: usize = 256 * 1024;

/// A length as RDB encodes it (rdb.c `rdbLoadLenByRef`): a plain length, or a special string encoding number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// A length or count.
    Plain(u64),
    /// `RDB_ENCVAL`: 0 int8, 1 int16, 2 int32, 3 LZF.
    Encoded(u8),
}

/// Where an [`Input`]'s bytes come from: any [`Read`], or a source that hands over whole buffers it filled itself
/// (`check_and_hash`'s reading thread), which the input then parses where they lie instead of copying them.
pub trait Source {
    /// Puts the next bytes of the input in `buf[..n]` and returns `n`, 0 at the end of the input. `buf` is not empty;
    /// the source may swap it for a buffer of its own (of any length, its first `n` bytes the next ones).
    ///
    /// # Errors
    /// The read's error.
    fn fill(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize>;
}

impl<R: Read> Source for R {
    #[inline]
    fn fill(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        self.read(buf)
    }
}

pub struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    /// Next unread byte of `buf`.
    pos: usize,
    /// End of the valid bytes of `buf`.
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    /// `buf[..hashed]` is already in the checksum.
    hashed: usize,
    digest: Option<Digest>,
    /// The value being recorded for the key walk (`start_tap` … `end_tap`), and where in `buf` it resumes.
    tap: Option<Tap>,
    tap_from: usize,
}

/// What the input records of the bytes it consumes between [`Input::start_tap`] and [`Input::end_tap`]: a copy (up to
/// a cap, for a DUMP payload) and/or their SHA-256 (a stream's or module value's digest).
pub struct Tap {
    /// The bytes, while they fit under `cap`; emptied once they do not.
    pub bytes: Vec<u8>,
    /// Whether to copy at all, and the most to copy, bytes.
    pub copy: Option<u64>,
    /// Bytes consumed since the tap started.
    pub len: u64,
    /// SHA-256 of the consumed bytes, when asked for.
    pub sha: Option<sha2::Sha256>,
}

impl Tap {
    fn feed(&mut self, s: &[u8]) {
        self.len += s.len() as u64;
        if let Some(cap) = self.copy {
            if self.len <= cap {
                self.bytes.extend_from_slice(s);
            } else {
                self.bytes = Vec::new();
            }
        }
        if let Some(h) = self.sha.as_mut() {
            sha2::Digest::update(h, s);
        }
    }

    /// The copy, when it was asked for and fitted.
    pub fn copied(&self) -> Option<&[u8]> {
        self.copy
            .filter(|&cap| self.len <= cap)
            .map(|_| self.bytes.as_slice())
    }
}

impl<R: Source> Input<R> {
    pub fn new(inner: R) -> Self {
        Self::with_capacity(inner, CHUNK)
    }

    /// An input reading at most `capacity` bytes at a time (at least 1; a short in-memory source needs no
    /// [`CHUNK`]-sized buffer).
    pub fn with_capacity(inner: R, capacity: usize) -> Self {
        Self {
            inner,
            buf: vec![0; capacity.clamp(1, CHUNK)],
            pos: 0,
            end: 0,
            base: 0,
            hashed: 0,
            digest: Some(Digest::new(CrcAlgorithm::Crc64Redis)),
            tap: None,
            tap_from: 0,
        }
    }

    /// An input whose next byte is the file's byte `offset`, the CRC-64 of the bytes before it being `crc_state` (a
    /// [`Self::crc_state`] of an earlier input): a check resumed from a checkpoint.
    pub fn resumed(inner: R, offset: u64, crc_state: u64) -> Self {
        let mut input = Self::new(inner);
        input.base = offset;
        input.digest = Some(Digest::new_with_init_state(
            CrcAlgorithm::Crc64Redis,
            crc_state,
        ));
        input
    }

    /// The running CRC-64's state (not finalized) over everything consumed so far, for [`Self::resumed`].
    pub fn crc_state(&mut self) -> u64 {
        self.hash_consumed();
        self.digest.as_ref().map_or(0, Digest::get_state)
    }

    /// Starts recording the bytes consumed from here on ([`Tap`]: `copy` up to that many bytes, `sha` their SHA-256).
    pub fn start_tap(&mut self, copy: Option<u64>, sha: bool) {
        self.tap = Some(Tap {
            bytes: Vec::new(),
            copy,
            len: 0,
            sha: sha.then(<sha2::Sha256 as sha2::Digest>::new),
        });
        self.tap_from = self.pos;
    }

    /// Hands the recording of the bytes consumed since [`Self::start_tap`] (none without one) and stops it.
    pub fn end_tap(&mut self) -> Option<Tap> {
        self.flush_tap();
        self.tap.take()
    }

    /// Adds the bytes consumed since the last flush to the tap.
    fn flush_tap(&mut self) {
        if let Some(t) = self.tap.as_mut() {
            t.feed(&self.buf[self.tap_from..self.pos]);
        }
        self.tap_from = self.pos;
    }

    /// Bytes consumed so far.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Adds the bytes consumed since the last call to the checksum.
    fn hash_consumed(&mut self) {
        if let Some(d) = self.digest.as_mut() {
            d.update(&self.buf[self.hashed..self.pos]);
        }
        self.hashed = self.pos;
    }

    /// The CRC-64 of everything consumed so far (stops the running checksum).
    pub fn finish_crc(&mut self) -> u64 {
        self.hash_consumed();
        self.digest.take().map_or(0, |d| d.finalize())
    }

    /// Refills the buffer once everything in it is consumed; `Truncated` at the end of the input.
    #[cold]
    #[inline(never)]
    fn refill(&mut self, context: &'static str, needed: u64) -> Result<(), RdbError> {
        debug_assert_eq!(self.pos, self.end);
        self.hash_consumed();
        if self.tap.is_some() {
            self.flush_tap();
        }
        self.tap_from = 0;
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        self.hashed = 0;
        loop {
            match self.inner.fill(&mut self.buf) {
                Ok(0) => {
                    return Err(RdbError::Truncated {
                        offset: self.base,
                        needed,
                        context,
                    });
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(RdbError::Io {
                        offset: self.base,
                        source,
                    });
                }
            }
        }
    }

    /// The unread part of the buffer (what [`Self::consume`] may consume; it ends wherever the last read ended).
    #[inline]
    pub fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// The next `n` bytes without consuming them, when the buffer already holds them all (no copy, no read).
    #[inline]
    pub fn peek(&self, n: usize) -> Option<&[u8]> {
        self.available().get(..n)
    }

    /// Consumes `n` bytes that [`Self::peek`] returned.
    #[inline]
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.pos, "consume past the peeked bytes");
        self.pos += n;
    }

    /// Reads exactly `out.len()` bytes.
    #[inline]
    pub fn read_exact(&mut self, out: &mut [u8], context: &'static str) -> Result<(), RdbError> {
        if let Some(src) = self.available().get(..out.len()) {
            out.copy_from_slice(src);
            self.pos += out.len();
            return Ok(());
        }
        self.read_exact_slow(out, context)
    }

    #[inline(never)]
    fn read_exact_slow(&mut self, out: &mut [u8], context: &'static str) -> Result<(), RdbError> {
        let mut done = 0;
        while done < out.len() {
            if self.pos == self.end {
                self.refill(context, (out.len() - done) as u64)?;
            }
            let n = (self.end - self.pos).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

    /// Reads and discards `n` bytes, handing each chunk to `each` (which may inspect it).
    #[inline]
    pub fn stream(
        &mut self,
        mut n: u64,
        context: &'static str,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), RdbError> {
        while n > 0 {
            if self.pos == self.end {
                self.refill(context, n)?;
            }
            let take = ((self.end - self.pos) as u64).min(n) as usize;
            each(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n -= take as u64;
        }
        Ok(())
    }

    /// Reads and discards `n` bytes.
    #[inline]
    pub fn skip(&mut self, n: u64, context: &'static str) -> Result<(), RdbError> {
        if n <= (self.end - self.pos) as u64 {
            self.pos += n as usize;
            return Ok(());
        }
        self.stream(n, context, |_| {})
    }

    /// Skips a string held whole in the buffer that is either under 64 bytes (a length byte `0b00xxxxxx`, then the
    /// bytes: most keys) or an integer (`RDB_ENC_INT8/16/32`: `0xC0`–`0xC2`, then 1, 2 or 4 bytes: set members and
    /// list elements that are numbers) and returns its length, as [`crate`]'s general path counts it; `None`,
    /// consuming nothing, for any other string.
    #[inline]
    pub fn skip_short_string(&mut self) -> Option<u64> {
        let avail = self.available();
        let &b = avail.first()?;
        let len = if b < 0x40 {
            usize::from(b)
        } else if (0xC0..=0xC2).contains(&b) {
            1 << (b & 3)
        } else {
            return None;
        };
        if avail.len() > len {
            self.pos += 1 + len;
            Some(len as u64)
        } else {
            None
        }
    }

    #[inline]
    pub fn u8(&mut self, context: &'static str) -> Result<u8, RdbError> {
        if self.pos < self.end {
            let b = self.buf[self.pos];
            self.pos += 1;
            return Ok(b);
        }
        self.u8_slow(context)
    }

    #[inline(never)]
    fn u8_slow(&mut self, context: &'static str) -> Result<u8, RdbError> {
        let mut b = [0u8; 1];
        self.read_exact_slow(&mut b, context)?;
        Ok(b[0])
    }

    pub fn u32_le(&mut self, context: &'static str) -> Result<u32, RdbError> {
        let mut b = [0u8; 4];
        self.read_exact(&mut b, context)?;
        Ok(u32::from_le_bytes(b))
    }

    pub fn u64_le(&mut self, context: &'static str) -> Result<u64, RdbError> {
        let mut b = [0u8; 8];
        self.read_exact(&mut b, context)?;
        Ok(u64::from_le_bytes(b))
    }

    /// A length (rdb.c `rdbLoadLenByRef`): `00` 6 bits, `01` 14 bits, `10` + 0x80 32-bit / 0x81 64-bit big-endian,
    /// `11` special encoding.
    #[inline]
    pub fn len(&mut self, context: &'static str) -> Result<Len, RdbError> {
        // Fast path: the one- and two-byte forms (almost every length in a real file) straight from the buffer.
        let avail = self.available();
        if let Some(&b) = avail.first() {
            match b >> 6 {
                0 => {
                    self.pos += 1;
                    return Ok(Len::Plain(u64::from(b & 0x3f)));
                }
                1 if avail.len() >= 2 => {
                    let v = (u64::from(b & 0x3f) << 8) | u64::from(avail[1]);
                    self.pos += 2;
                    return Ok(Len::Plain(v));
                }
                3 => {
                    self.pos += 1;
                    return Ok(Len::Encoded(b & 0x3f));
                }
                _ => {}
            }
        }
        self.len_slow(context)
    }

    #[inline(never)]
    fn len_slow(&mut self, context: &'static str) -> Result<Len, RdbError> {
        let at = self.offset();
        let b = self.u8(context)?;
        Ok(match b >> 6 {
            0 => Len::Plain(u64::from(b & 0x3f)),
            1 => Len::Plain((u64::from(b & 0x3f) << 8) | u64::from(self.u8(context)?)),
            2 => match b {
                0x80 => {
                    let mut x = [0u8; 4];
                    self.read_exact(&mut x, context)?;
                    Len::Plain(u64::from(u32::from_be_bytes(x)))
                }
                0x81 => {
                    let mut x = [0u8; 8];
                    self.read_exact(&mut x, context)?;
                    Len::Plain(u64::from_be_bytes(x))
                }
                _ => {
                    return Err(RdbError::corrupt(
                        at,
                        format!("invalid length prefix {b:#04x} ({context})"),
                    ));
                }
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    /// A length that must not be a special encoding.
    #[inline]
    pub fn plain_len(&mut self, context: &'static str) -> Result<u64, RdbError> {
        match self.len(context)? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(e) => Err(RdbError::corrupt(
                self.offset() - 1,
                format!("encoded value {e} where a length was expected ({context})"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference implementation (the `crc` crate's CRC-64/REDIS, table-driven) the fast one must match.
    static CRC64: crc::Crc<u64, crc::Table<16>> =
        crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

    /// A reader that hands out one byte per read, to drive every slow path.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn lengths_decode_the_same_from_the_buffer_and_across_reads() {
        // 6-bit 5, 14-bit 0x1234, 32-bit 0x01020304, 64-bit 2^40, LZF marker.
        let data = [
            0x05, 0x52, 0x34, 0x80, 1, 2, 3, 4, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0xC3,
        ];
        let expect = [
            Len::Plain(5),
            Len::Plain(0x1234),
            Len::Plain(0x0102_0304),
            Len::Plain(1 << 40),
            Len::Encoded(3),
        ];
        let mut fast = Input::new(&data[..]);
        let mut slow = Input::new(Trickle(&data));
        for want in expect {
            assert_eq!(fast.len("t").unwrap(), want);
            assert_eq!(slow.len("t").unwrap(), want);
        }
        assert_eq!(fast.offset(), data.len() as u64);
        assert_eq!(slow.offset(), data.len() as u64);
        assert!(matches!(
            fast.len("t"),
            Err(RdbError::Truncated { offset: 18, .. })
        ));
    }

    #[test]
    fn the_checksum_covers_exactly_the_consumed_bytes_whatever_the_read_sizes() {
        let data: Vec<u8> = (0..600_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let consumed = 512_345;
        let want = CRC64.checksum(&data[..consumed]);
        let mut input = Input::new(&data[..]);
        input.skip(1000, "t").unwrap();
        let mut scratch = [0u8; 3];
        input.read_exact(&mut scratch, "t").unwrap();
        input.u8("t").unwrap();
        input.skip((consumed - 1004) as u64, "t").unwrap();
        assert_eq!(input.finish_crc(), want);
        let mut trickle = Input::new(Trickle(&data));
        trickle.skip(consumed as u64, "t").unwrap();
        assert_eq!(trickle.finish_crc(), want);
    }
}
