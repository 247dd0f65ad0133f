//! LZF decompression (liblzf `lzf_d.c`, as used by rdb.c `rdbLoadLzfStringObject`), incremental so that a string of
//! any size is checked with an 8 KiB window.
//!
//! Control byte `c`: `c < 32` → a literal run of `c + 1` bytes; otherwise a back reference of length `c >> 5` (7 =
//! longer: add the next byte) + 2, at distance `((c & 0x1f) << 8) + next byte + 1` behind the output position.

/// Back references reach at most 8192 bytes back.
pub const WINDOW: usize = 8192;

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

const MASK: usize = WINDOW - 1;

/// A sink that keeps only the last 8 KiB (enough to resolve any back reference).
pub struct Ring {
    buf: Box<[u8; WINDOW]>,
    pos: usize,
}

impl Default for Ring {
    fn default() -> Self {
        Self {
            buf: Box::new([0; WINDOW]),
            pos: 0,
        }
    }
}

impl Ring {
    /// Starts a new string, keeping the allocation (the decoder never reads bytes it has not written).
    pub fn reset(&mut self) {
        self.pos = 0;
    }
}

impl Sink for Ring {
    fn push_slice(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.buf[self.pos & MASK] = b;
            self.pos += 1;
        }
    }
    fn copy_back(&mut self, distance: usize, len: usize) {
        for _ in 0..len {
            self.buf[self.pos & MASK] = self.buf[(self.pos - distance) & MASK];
            self.pos += 1;
        }
    }
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
                    if distance as u64 > self.produced {
                        return Err(format!(
                            "LZF back reference {distance} bytes before the start of the output"
                        ));
                    }
                    self.room(len + 2)?;
                    out.copy_back(distance, len + 2);
                    self.produced += (len + 2) as u64;
                    State::Ctrl
                }
            };
        }
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
            let mut ring = Ring::default();
            let mut d = Decoder::new(10);
            for chunk in data.chunks(size) {
                d.feed(chunk, &mut ring).unwrap();
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
}
