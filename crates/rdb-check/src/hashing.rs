//! The SHA-256 of a check ([`check_and_hash`](crate::check_and_hash)): inline with one CPU, else on a second thread
//! that reads and hashes the input in chunks and hands them to the parser, in order, in bounded memory.

use std::io::Read;

use crate::error::RdbError;
use crate::input;
use crate::parser::check_source;
use crate::report::{Limits, Report};

/// Chunks hashed but not yet checked, at most: bounds the memory of [`check_and_hash`](crate::check_and_hash) with
/// two CPUs.
pub const HASH_CHUNKS_IN_FLIGHT: usize = 8;

/// Bytes per read of [`check_and_hash`](crate::check_and_hash) with two CPUs.
pub const READ_CHUNK: usize = 256 * 1024;

/// `digest` as lower-case hex digits.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// [`check_and_hash`](crate::check_and_hash) with one CPU: the SHA-256 of each read, as the check reads.
pub(crate) fn check_and_hash_inline<R: Read>(reader: R) -> Result<(Report, String), RdbError> {
    use sha2::{Digest, Sha256};
    struct Hashing<R> {
        inner: R,
        sha: Sha256,
    }
    impl<R: Read> Read for Hashing<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.sha.update(&buf[..n]);
            Ok(n)
        }
    }
    let mut h = Hashing {
        inner: reader,
        sha: Sha256::new(),
    };
    let report = check_source(&mut h, Limits::default())?;
    Ok((report, hex(&h.sha.finalize())))
}

/// [`check_and_hash`](crate::check_and_hash) with two CPUs: the SHA-256 on a second thread.
pub(crate) fn check_and_hash_on_a_thread<R: Read + Send>(
    reader: R,
) -> Result<(Report, String), RdbError> {
    use sha2::{Digest, Sha256};
    use std::collections::BTreeMap;
    use std::io::ErrorKind;
    use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel, sync_channel};
    use std::sync::{Mutex, MutexGuard, PoisonError};

    /// A chunk read (the buffer, the bytes of it read: 0 at the end of the input), or the read's error.
    type Chunk = std::io::Result<(Vec<u8>, usize)>;

    /// The input and the buffers, shared by the two threads: each chunk is read by whichever of them has time for it
    /// first (the hashing thread, unless the check has nothing hashed to parse), numbered in the order read, and
    /// hashed in that order.
    struct Shared<R> {
        reader: R,
        /// Number of the next chunk to read.
        next: u64,
        /// The end of the input or a read error was met: nothing more is read.
        ended: bool,
        /// Buffers to read into.
        free: Vec<Vec<u8>>,
        /// Buffers allocated (the check's first one aside): never more than [`HASH_CHUNKS_IN_FLIGHT`] + 2.
        allocated: usize,
    }
    impl<R: Read> Shared<R> {
        /// A buffer to read into: a free one, or a new one while the limit allows.
        fn buffer(&mut self) -> Option<Vec<u8>> {
            self.free.pop().or_else(|| {
                (self.allocated < HASH_CHUNKS_IN_FLIGHT + 2).then(|| {
                    self.allocated += 1;
                    vec![0; READ_CHUNK]
                })
            })
        }

        /// Reads the next chunk into `buf`: (its number, the read's result).
        fn read_next(&mut self, mut buf: Vec<u8>) -> (u64, Chunk) {
            let seq = self.next;
            self.next += 1;
            let n = loop {
                match self.reader.read(&mut buf) {
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    other => break other,
                }
            };
            self.ended = !matches!(n, Ok(n) if n > 0);
            (seq, n.map(|n| (buf, n)))
        }
    }

    fn lock<R>(shared: &Mutex<Shared<R>>) -> MutexGuard<'_, Shared<R>> {
        shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The check's byte source: the hashed chunks, in order, each parsed where it lies (swapped for the input's
    /// buffer, not copied; the buffer swapped out is free again). While no hashed chunk is waiting (the hashing
    /// thread is behind), the check reads the next chunks itself and hands them over to be hashed.
    struct Chunks<'a, R> {
        hashed: Receiver<Chunk>,
        to_hash: Sender<(u64, Chunk)>,
        shared: &'a Mutex<Shared<R>>,
    }
    impl<R: Read> input::Source for Chunks<'_, R> {
        fn fill(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
            let done = std::mem::take(buf);
            // Not after the end or an error, when there is none.
            if !done.is_empty() {
                lock(self.shared).free.push(done);
            }
            let next = loop {
                match self.hashed.try_recv() {
                    Err(TryRecvError::Empty) => {}
                    other => break other.ok(),
                }
                // Nothing hashed to parse: read for the hashing thread meanwhile, unless it is reading now, the
                // input ended or every buffer is in use.
                let read = match self.shared.try_lock() {
                    Ok(mut shared) if !shared.ended => shared.buffer().map(|b| shared.read_next(b)),
                    _ => None,
                };
                match read {
                    // The hashing thread may have stopped: the next try_recv then says so.
                    Some(chunk) => drop(self.to_hash.send(chunk)),
                    None => break self.hashed.recv().ok(),
                }
            };
            match next {
                Some(Ok((chunk, len))) => {
                    *buf = chunk;
                    Ok(len)
                }
                Some(Err(e)) => Err(e),
                // The hashing thread is done: the end of the input (or it panicked, which the join reports).
                None => Ok(0),
            }
        }
    }

    /// The hashing thread: hashes every chunk in order (reading it itself unless the check did) and hands it to
    /// the check. Returns the SHA-256 once the input ends or the check stops.
    fn hash<R: Read>(
        shared: &Mutex<Shared<R>>,
        read_by_check: &Receiver<(u64, Chunk)>,
        to_check: &SyncSender<Chunk>,
    ) -> Vec<u8> {
        let mut sha = Sha256::new();
        let mut next = 0u64;
        // Chunks the check read, waiting for their turn.
        let mut waiting = BTreeMap::new();
        loop {
            while let Ok((seq, chunk)) = read_by_check.try_recv() {
                waiting.insert(seq, chunk);
            }
            let chunk = if let Some(chunk) = waiting.remove(&next) {
                chunk
            } else {
                let mut guard = lock(shared);
                if guard.next == next && !guard.ended {
                    // Nothing the check read is waiting: the channel to it and the chunk it parses hold the other
                    // buffers, so one is free (or may still be allocated).
                    let Some(buf) = guard.buffer() else {
                        drop(guard);
                        std::thread::yield_now();
                        continue;
                    };
                    guard.read_next(buf).1
                } else {
                    // The check is reading this chunk: wait for it.
                    drop(guard);
                    match read_by_check.recv() {
                        Ok((seq, chunk)) => {
                            waiting.insert(seq, chunk);
                            continue;
                        }
                        Err(_) => break, // the check stopped
                    }
                }
            };
            next += 1;
            match chunk {
                Ok((_, 0)) => break,
                Ok((buf, n)) => {
                    sha.update(&buf[..n]);
                    if to_check.send(Ok((buf, n))).is_err() {
                        break; // the check stopped (an error, or the end of what it reads)
                    }
                }
                Err(e) => {
                    let _ = to_check.send(Err(e));
                    break;
                }
            }
        }
        sha.finalize().to_vec()
    }

    let shared = Mutex::new(Shared {
        reader,
        next: 0,
        ended: false,
        free: Vec::new(),
        allocated: 0,
    });
    let (to_check, hashed) = sync_channel::<Chunk>(HASH_CHUNKS_IN_FLIGHT);
    let (to_hash, read_by_check) = channel::<(u64, Chunk)>();
    std::thread::scope(|scope| {
        let shared = &shared;
        let hashing = scope.spawn(move || hash(shared, &read_by_check, &to_check));
        // The check drops the chunks when it ends: the hashing thread then ends too, at the end of the input or when
        // it finds the check gone.
        let chunks = Chunks {
            hashed,
            to_hash,
            shared,
        };
        let report = check_source(chunks, Limits::default());
        let digest = hashing.join().map_err(|_| RdbError::Io {
            offset: 0,
            source: std::io::Error::other("the SHA-256 thread panicked"),
        })?;
        Ok((report?, hex(&digest)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::tests::Trickle;
    use sha2::{Digest, Sha256};

    const FIXTURES: [(&str, &[u8]); 6] = [
        (
            "encodings.rdb",
            include_bytes!("../tests/fixtures/encodings.rdb"),
        ),
        (
            "hash-zipmap.rdb",
            include_bytes!("../tests/fixtures/hash-zipmap.rdb"),
        ),
        (
            "list-quicklist.rdb",
            include_bytes!("../tests/fixtures/list-quicklist.rdb"),
        ),
        (
            "hash-ziplist.rdb",
            include_bytes!("../tests/fixtures/hash-ziplist.rdb"),
        ),
        (
            "zset-ziplist.rdb",
            include_bytes!("../tests/fixtures/zset-ziplist.rdb"),
        ),
        (
            "corrupt_ziplist.rdb",
            include_bytes!("../tests/fixtures/corrupt_ziplist.rdb"),
        ),
    ];

    fn outcome(r: Result<(Report, String), RdbError>) -> Result<(u64, u64, String), String> {
        r.map(|(report, sha)| (report.keys, report.bytes, sha))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_hashing_thread_gives_the_inline_result_for_every_fixture_and_read_size() {
        for (name, bytes) in FIXTURES {
            let inline = outcome(check_and_hash_inline(bytes));
            if let Ok((_, read, sha)) = &inline {
                assert_eq!(*sha, hex(&Sha256::digest(bytes)), "{name}");
                assert_eq!(*read, bytes.len() as u64, "{name}");
            }
            for step in [1, 7, 4096, usize::MAX] {
                let threaded = outcome(check_and_hash_on_a_thread(Trickle { data: bytes, step }));
                assert_eq!(threaded, inline, "{name}, reads of {step} bytes");
                let trickled = outcome(check_and_hash_inline(Trickle { data: bytes, step }));
                assert_eq!(trickled, inline, "{name}, inline, reads of {step} bytes");
            }
        }
        assert!(
            outcome(check_and_hash_inline(FIXTURES[5].1)).is_err(),
            "the corrupt fixture must fail, so the error path is compared too"
        );
    }

    #[test]
    fn a_check_that_fails_early_stops_the_reading_thread_without_reading_on() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// A valid header, then an unknown type byte for 64 chunks (a reader that kept reading after the check
        /// stopped would read them all, and the bound below would fail rather than the test hang).
        struct Endless<'a>(&'a AtomicUsize);
        impl Read for Endless<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.load(Ordering::Relaxed) >= 64 * READ_CHUNK {
                    return Ok(0);
                }
                let at = self.0.fetch_add(buf.len(), Ordering::Relaxed);
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = *b"REDIS0011".get(at + i).unwrap_or(&0x7f);
                }
                Ok(buf.len())
            }
        }
        let read = AtomicUsize::new(0);
        let err = check_and_hash_on_a_thread(Endless(&read)).unwrap_err();
        assert!(err.to_string().contains("offset 9"), "{err}");
        assert!(
            read.load(Ordering::Relaxed) <= (HASH_CHUNKS_IN_FLIGHT + 3) * READ_CHUNK,
            "read {} bytes",
            read.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn a_read_error_ends_the_threaded_check_with_it() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("connection reset"))
            }
        }
        let err = check_and_hash_on_a_thread(Failing).unwrap_err();
        assert!(err.to_string().contains("connection reset"), "{err}");
    }
}
