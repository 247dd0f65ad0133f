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
    /// Takes one output byte.
    fn push(&mut self, b: u8);
    /// The byte `distance` (1-based) behind the output position; only called with `distance <= produced`.
    fn back(&self, distance: usize) -> u8;
}

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

impl Sink for Ring {
    fn push(&mut self, b: u8) {
        self.buf[self.pos % WINDOW] = b;
        self.pos += 1;
    }
    fn back(&self, distance: usize) -> u8 {
        self.buf[(self.pos - distance) % WINDOW]
    }
}

impl Sink for Vec<u8> {
    fn push(&mut self, b: u8) {
        Vec::push(self, b);
    }
    fn back(&self, distance: usize) -> u8 {
        self[self.len() - distance]
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

    /// Feeds compressed bytes.
    ///
    /// # Errors
    /// A message when a back reference points before the start, or the output would exceed the declared length.
    pub fn feed<S: Sink>(&mut self, input: &[u8], out: &mut S) -> Result<(), String> {
        for &b in input {
            self.state = match self.state {
                State::Ctrl if b < 32 => State::Literal(usize::from(b) + 1),
                State::Ctrl if b >> 5 == 7 => State::LongLen(b),
                State::Ctrl => State::Offset {
                    len: usize::from(b >> 5),
                    hi: usize::from(b & 0x1f),
                },
                State::Literal(n) => {
                    self.emit(out, b)?;
                    if n == 1 {
                        State::Ctrl
                    } else {
                        State::Literal(n - 1)
                    }
                }
                State::LongLen(c) => State::Offset {
                    len: 7 + usize::from(b),
                    hi: usize::from(c & 0x1f),
                },
                State::Offset { len, hi } => {
                    let distance = (hi << 8) + usize::from(b) + 1;
                    if distance as u64 > self.produced {
                        return Err(format!(
                            "LZF back reference {distance} bytes before the start of the output"
                        ));
                    }
                    for _ in 0..len + 2 {
                        let v = out.back(distance);
                        self.emit(out, v)?;
                    }
                    State::Ctrl
                }
            };
        }
        Ok(())
    }

    fn emit<S: Sink>(&mut self, out: &mut S, b: u8) -> Result<(), String> {
        if self.produced >= self.limit {
            return Err(format!(
                "LZF data decompresses to more than the declared {} bytes",
                self.limit
            ));
        }
        out.push(b);
        self.produced += 1;
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
    fn split_feeding_gives_the_same_result_through_a_ring() {
        let data = [2, b'a', b'b', b'c', (4 << 5), 2];
        let mut ring = Ring::default();
        let mut d = Decoder::new(9);
        for chunk in data.chunks(1) {
            d.feed(chunk, &mut ring).unwrap();
        }
        d.finish().unwrap();
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
