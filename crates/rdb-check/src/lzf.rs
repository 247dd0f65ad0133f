//! LZF decompression (liblzf `lzf_d.c`, as used by rdb.c `rdbLoadLzfStringObject`), incremental so that a string of
//! any size is checked in constant memory.
//!
//! Every check `lzf_decompress` makes depends only on lengths and distances, never on the bytes produced: a back
//! reference must not reach before the start of the output (`EINVAL`), the output must not outgrow the declared
//! length (`E2BIG`), and rdb.c requires exactly the declared length. So a plain string value is validated with
//! [`Discard`] (counts only, nothing written — its bytes are covered by the file's CRC-64), and the compact encodings
//! that must be parsed afterwards are decompressed into a `Vec`.
//!
//! Control byte `c`: `c < 32` → a literal run of `c + 1` bytes; otherwise a back reference of length `c >> 5` (7 =
//! longer: add the next byte) + 2, at distance `((c & 0x1f) << 8) + next byte + 1` behind the output position.

/// Where the decoder is inside an instruction when a chunk ends.
#[derive(Debug, Clone, Copy)]
enum State {
    Ctrl,
    Literal(usize),
    LongLen(u8),
    Offset { len: usize, hi: usize },
}

/// Where decompressed bytes go.
pub trait Sink {
    /// Appends a run of literal bytes.
    fn push_slice(&mut self, bytes: &[u8]);
    /// Appends `len` bytes copied from `distance` (1-based) behind the output position, byte by byte (the source and
    /// destination may overlap); only called with `distance <= produced`.
    fn copy_back(&mut self, distance: usize, len: usize);
}

/// A sink that keeps nothing: validation only (see the module comment).
pub struct Discard;

impl Sink for Discard {
    #[inline]
    fn push_slice(&mut self, _: &[u8]) {}
    #[inline]
    fn copy_back(&mut self, _: usize, _: usize) {}
}

impl Sink for Vec<u8> {
    fn push_slice(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn copy_back(&mut self, distance: usize, len: usize) {
        let start = self.len() - distance;
        if distance >= len {
            self.extend_from_within(start..start + len);
        } else {
            for i in 0..len {
                let v = self[start + i];
                self.push(v);
            }
        }
    }
}

/// Incremental LZF decoder.
pub struct Decoder {
    state: State,
    produced: u64,
    limit: u64,
}

impl Decoder {
    /// A decoder that must produce exactly `expected` bytes.
    pub fn new(expected: u64) -> Self {
        Self {
            state: State::Ctrl,
            produced: 0,
            limit: expected,
        }
    }

    #[inline]
    fn room(&self, n: usize) -> Result<(), String> {
        if self.produced + n as u64 > self.limit {
            Err(format!(
                "LZF data decompresses to more than the declared {} bytes",
                self.limit
            ))
        } else {
            Ok(())
        }
    }

    /// Feeds compressed bytes (any split of the stream).
    ///
    /// # Errors
    /// A message when a back reference points before the start, or the output would exceed the declared length.
    pub fn feed<S: Sink>(&mut self, input: &[u8], out: &mut S) -> Result<(), String> {
        let mut i = 0;
        while i < input.len() {
            if let State::Ctrl = self.state {
                // Fast path: a whole instruction is in `input`.
                let c = input[i];
                if c < 32 {
                    let n = usize::from(c) + 1;
                    if let Some(lit) = input.get(i + 1..i + 1 + n) {
                        self.room(n)?;
                        out.push_slice(lit);
                        self.produced += n as u64;
                        i += 1 + n;
                        continue;
                    }
                } else {
                    let long = c >> 5 == 7;
                    let need = if long { 3 } else { 2 };
                    if i + need <= input.len() {
                        let len = if long {
                            7 + usize::from(input[i + 1])
                        } else {
                            usize::from(c >> 5)
                        };
                        let distance =
                            (usize::from(c & 0x1f) << 8) + usize::from(input[i + need - 1]) + 1;
                        self.back_reference(distance, len + 2, out)?;
                        i += need;
                        continue;
                    }
                }
            }
            self.state = match self.state {
                State::Ctrl => {
                    let b = input[i];
                    i += 1;
                    if b < 32 {
                        State::Literal(usize::from(b) + 1)
                    } else if b >> 5 == 7 {
                        State::LongLen(b)
                    } else {
                        State::Offset {
                            len: usize::from(b >> 5),
                            hi: usize::from(b & 0x1f),
                        }
                    }
                }
                State::Literal(n) => {
                    let m = n.min(input.len() - i);
                    self.room(m)?;
                    out.push_slice(&input[i..i + m]);
                    self.produced += m as u64;
                    i += m;
                    if m == n {
                        State::Ctrl
                    } else {
                        State::Literal(n - m)
                    }
                }
                State::LongLen(c) => {
                    let b = input[i];
                    i += 1;
                    State::Offset {
                        len: 7 + usize::from(b),
                        hi: usize::from(c & 0x1f),
                    }
                }
                State::Offset { len, hi } => {
                    let distance = (hi << 8) + usize::from(input[i]) + 1;
                    i += 1;
                    self.back_reference(distance, len + 2, out)?;
                    State::Ctrl
                }
            };
        }
        Ok(())
    }

    #[inline]
    fn back_reference<S: Sink>(
        &mut self,
        distance: usize,
        len: usize,
        out: &mut S,
    ) -> Result<(), String> {
        if distance as u64 > self.produced {
            return Err(format!(
                "LZF back reference {distance} bytes before the start of the output"
            ));
        }
        self.room(len)?;
        out.copy_back(distance, len);
        self.produced += len as u64;
        Ok(())
    }

    /// Checks the stream ended cleanly at exactly the declared length.
    ///
    /// # Errors
    /// A message when it stopped mid-instruction or short of the declared length.
    pub fn finish(&self) -> Result<(), String> {
        if !matches!(self.state, State::Ctrl) {
            return Err("LZF data ends in the middle of an instruction".into());
        }
        if self.produced != self.limit {
            return Err(format!(
                "LZF data decompresses to {} bytes, {} declared",
                self.produced, self.limit
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_back_reference() {
        // "abcabcabc": literal "abc", then a reference of length 6 at distance 3.
        let data = [2, b'a', b'b', b'c', (4 << 5), 2];
        let mut out = Vec::new();
        let mut d = Decoder::new(9);
        d.feed(&data, &mut out).unwrap();
        d.finish().unwrap();
        assert_eq!(out, b"abcabcabc");
    }

    #[test]
    fn split_feeding_gives_the_same_result() {
        let data = [2, b'a', b'b', b'c', (4 << 5), 2, 0, b'!'];
        for size in 1..data.len() {
            let mut out = Vec::new();
            let mut d = Decoder::new(10);
            for chunk in data.chunks(size) {
                d.feed(chunk, &mut out).unwrap();
            }
            d.finish().unwrap();
            assert_eq!(out, b"abcabcabc!", "chunks of {size}");
            let mut d = Decoder::new(10);
            for chunk in data.chunks(size) {
                d.feed(chunk, &mut Discard).unwrap();
            }
            d.finish().unwrap();
        }
    }

    #[test]
    fn references_before_the_start_and_wrong_lengths_are_errors() {
        assert!(
            Decoder::new(9)
                .feed(&[(4 << 5), 2], &mut Vec::new())
                .is_err()
        );
        let mut d = Decoder::new(2);
        assert!(d.feed(&[2, b'a', b'b', b'c'], &mut Vec::new()).is_err());
        let mut d = Decoder::new(10);
        d.feed(&[2, b'a', b'b', b'c'], &mut Vec::new()).unwrap();
        assert!(d.finish().is_err());
    }

    /// Validation without output ([`Discard`]) must accept and refuse exactly what real decompression does, for any
    /// input and any split of it.
    type Feed<'a> = dyn FnMut(&mut Decoder, &[u8]) -> Result<(), String> + 'a;

    #[test]
    fn discard_agrees_with_decompression_on_random_streams() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            // A valid stream of random instructions, then maybe a mutation and a wrong declared length.
            let mut data = Vec::new();
            let mut produced = 0u64;
            for _ in 0..(next() % 8) {
                if produced == 0 || next() % 2 == 0 {
                    let n = 1 + (next() % 32) as usize;
                    data.push((n - 1) as u8);
                    data.extend((0..n).map(|_| next() as u8));
                    produced += n as u64;
                } else {
                    let distance = 1 + next() % produced.min(8192);
                    let len = 3 + next() % 40;
                    let (hi, lo) = (((distance - 1) >> 8) as u8, (distance - 1) as u8);
                    if len - 2 < 7 {
                        data.extend([(((len - 2) as u8) << 5) | hi, lo]);
                    } else {
                        data.extend([(7 << 5) | hi, (len - 2 - 7) as u8, lo]);
                    }
                    produced += len;
                }
            }
            if !data.is_empty() && next() % 2 == 0 {
                let i = (next() as usize) % data.len();
                data[i] ^= (next() as u8) | 1;
            }
            let expected = match next() % 5 {
                0 => produced + next() % 3,
                1 => produced.saturating_sub(next() % 3),
                _ => produced,
            };
            let len = data.len();
            let split = if len == 0 { 0 } else { (next() as usize) % len };
            let run = |sink: &mut Feed| {
                let mut d = Decoder::new(expected);
                sink(&mut d, &data[..split])
                    .and_then(|()| sink(&mut d, &data[split..]))
                    .and_then(|()| d.finish())
            };
            let mut out = Vec::new();
            let full = run(&mut |d, chunk| d.feed(chunk, &mut out));
            let counted = run(&mut |d, chunk| d.feed(chunk, &mut Discard));
            assert_eq!(
                full.is_ok(),
                counted.is_ok(),
                "{data:?} declared {expected}"
            );
            if full.is_ok() {
                assert_eq!(out.len() as u64, expected);
                accepted += 1;
            }
        }
        assert!(accepted > 5_000, "only {accepted} valid streams generated");
    }
}
