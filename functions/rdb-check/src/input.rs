//! The byte source: buffered, counting the offset, and feeding every byte to the running CRC-64 (Redis' Jones
//! polynomial, reflected, init 0 — `crc::CRC_64_REDIS`; rdb.c `rdbLoadRio`: the checksum covers every byte up to and
//! including the EOF opcode).

use std::io::{ErrorKind, Read};

use crc::{CRC_64_REDIS, Crc, Digest, Table};

use crate::error::RdbError;

/// Slice-by-16 tables: the checksum must not be the bottleneck of a multi-GB read.
static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);
const CHUNK: usize = 64 * 1024;

/// A length as RDB encodes it (rdb.c `rdbLoadLenByRef`): a plain length, or a special string encoding number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// A length or count.
    Plain(u64),
    /// `RDB_ENCVAL`: 0 int8, 1 int16, 2 int32, 3 LZF.
    Encoded(u8),
}

pub struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    offset: u64,
    digest: Option<Digest<'static, u64, Table<16>>>,
}

impl<R: Read> Input<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: vec![0; CHUNK],
            pos: 0,
            end: 0,
            offset: 0,
            digest: Some(CRC64.digest()),
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The CRC-64 of everything consumed so far (stops the running checksum).
    pub fn finish_crc(&mut self) -> u64 {
        self.digest.take().map_or(0, |d| d.finalize())
    }

    fn fill(&mut self, context: &'static str, needed: u64) -> Result<(), RdbError> {
        if self.pos < self.end {
            return Ok(());
        }
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    return Err(RdbError::Truncated {
                        offset: self.offset,
                        needed,
                        context,
                    });
                }
                Ok(n) => {
                    self.pos = 0;
                    self.end = n;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(RdbError::Io {
                        offset: self.offset,
                        source,
                    });
                }
            }
        }
    }

    fn consume(&mut self, n: usize) {
        if let Some(d) = self.digest.as_mut() {
            d.update(&self.buf[self.pos..self.pos + n]);
        }
        self.pos += n;
        self.offset += n as u64;
    }

    /// Reads exactly `out.len()` bytes.
    pub fn read_exact(&mut self, out: &mut [u8], context: &'static str) -> Result<(), RdbError> {
        let mut done = 0;
        while done < out.len() {
            self.fill(context, (out.len() - done) as u64)?;
            let n = (self.end - self.pos).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.consume(n);
            done += n;
        }
        Ok(())
    }

    /// Reads and discards `n` bytes, handing each chunk to `each` (which may inspect it).
    pub fn stream(
        &mut self,
        mut n: u64,
        context: &'static str,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), RdbError> {
        while n > 0 {
            self.fill(context, n)?;
            let take = ((self.end - self.pos) as u64).min(n) as usize;
            each(&self.buf[self.pos..self.pos + take]);
            self.consume(take);
            n -= take as u64;
        }
        Ok(())
    }

    /// Reads and discards `n` bytes.
    pub fn skip(&mut self, n: u64, context: &'static str) -> Result<(), RdbError> {
        self.stream(n, context, |_| {})
    }

    pub fn u8(&mut self, context: &'static str) -> Result<u8, RdbError> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b, context)?;
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
    pub fn len(&mut self, context: &'static str) -> Result<Len, RdbError> {
        let at = self.offset;
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
    pub fn plain_len(&mut self, context: &'static str) -> Result<u64, RdbError> {
        let at = self.offset;
        match self.len(context)? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(e) => Err(RdbError::corrupt(
                at,
                format!("encoded value {e} where a length was expected ({context})"),
            )),
        }
    }
}
