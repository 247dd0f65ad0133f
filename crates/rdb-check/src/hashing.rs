//! The SHA-256 of a check ([`check_and_hash`](crate::check_and_hash)): inline with one CPU, else on a second thread
//! that reads and hashes the input in chunks and hands them to the parser, in order, in bounded memory.
//!
//! Both ways also tell a resumable check ([`crate::resume`]) the SHA-256 state at the start of the chunk it is
//! parsing ([`ChunkStart`]): a checkpoint carries that state and the chunk's offset, and the next invocation hashes
//! from there (the chunk read again) while it parses from the checkpoint's offset.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{ErrorKind, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, TryRecvError, channel, sync_channel};
use std::sync::{Mutex, MutexGuard, PoisonError};

use sha2::{Digest, Sha256};

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
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file offset at which the chunk being parsed starts, and the SHA-256 state of every byte before it.
pub(crate) type ChunkStart = (u64, Sha256);

/// [`check_and_hash`](crate::check_and_hash) with one CPU: the SHA-256 of each read, as the check reads.
pub(crate) fn check_and_hash_inline<R: Read>(reader: R) -> Result<(Report, String), RdbError> {
    let (report, sha, _) = hashed_inline(reader, (0, Sha256::new()), |source| {
        check_source(source, Limits::default())
    });
    Ok((report?, hex(&sha.finalize())))
}

/// [`check_and_hash`](crate::check_and_hash) with two CPUs: the SHA-256 on a second thread.
pub(crate) fn check_and_hash_on_a_thread<R: Read + Send>(
    reader: R,
) -> Result<(Report, String), RdbError> {
    let (report, sha, _) = hashed_on_a_thread(reader, (0, Sha256::new()), |source| {
        check_source(source, Limits::default())
    })?;
    Ok((report?, hex(&sha.finalize())))
}

/// Runs `check` on `reader`'s bytes (the file's from offset `start.0`, whose preceding bytes hash to `start.1`),
/// hashing each read as the check reads it. Returns what `check` returned, the SHA-256 state after every byte read,
/// and the [`ChunkStart`] of the last read.
pub(crate) fn hashed_inline<R: Read, T>(
    reader: R,
    start: ChunkStart,
    check: impl FnOnce(&mut dyn Read) -> T,
) -> (T, Sha256, ChunkStart) {
    struct Hashing<R> {
        inner: R,
        offset: u64,
        sha: Sha256,
        chunk: ChunkStart,
    }
    impl<R: Read> Read for Hashing<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            if n > 0 {
                self.chunk = (self.offset, self.sha.clone());
                self.sha.update(&buf[..n]);
                self.offset += n as u64;
            }
            Ok(n)
        }
    }
    let mut h = Hashing {
        inner: reader,
        offset: start.0,
        sha: start.1.clone(),
        chunk: start,
    };
    let out = check(&mut h);
    (out, h.sha, h.chunk)
}

/// A chunk read (the buffer, the bytes of it read: 0 at the end of the input), or the read's error.
type Chunk = std::io::Result<(Vec<u8>, usize)>;

/// A chunk hashed: the buffer, the bytes of it read, and its [`ChunkStart`].
type Hashed = std::io::Result<(Vec<u8>, usize, ChunkStart)>;

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
/// thread is behind), the check reads the next chunks itself and hands them over to be hashed. Records the
/// [`ChunkStart`] of the chunk it hands out in `chunk`.
pub(crate) struct Chunks<'a, R> {
    hashed: Receiver<Hashed>,
    to_hash: Sender<(u64, Chunk)>,
    shared: &'a Mutex<Shared<R>>,
    chunk: &'a RefCell<ChunkStart>,
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
            Some(Ok((chunk, len, start))) => {
                *buf = chunk;
                *self.chunk.borrow_mut() = start;
                Ok(len)
            }
            Some(Err(e)) => Err(e),
            // The hashing thread is done: the end of the input (or it panicked, which the join reports).
            None => Ok(0),
        }
    }
}

/// The hashing thread: hashes every chunk in order (reading it itself unless the check did) and hands it to
/// the check with its [`ChunkStart`]. Returns the SHA-256 state once the input ends or the check stops.
fn hash<R: Read>(
    shared: &Mutex<Shared<R>>,
    read_by_check: &Receiver<(u64, Chunk)>,
    to_check: &SyncSender<Hashed>,
    start: ChunkStart,
) -> Sha256 {
    let (mut offset, mut sha) = start;
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
                let start = (offset, sha.clone());
                sha.update(&buf[..n]);
                offset += n as u64;
                if to_check.send(Ok((buf, n, start))).is_err() {
                    break; // the check stopped (an error, or the end of what it reads)
                }
            }
            Err(e) => {
                let _ = to_check.send(Err(e));
                break;
            }
        }
    }
    sha
}

/// Runs `check` on `reader`'s bytes (the file's from offset `start.0`, whose preceding bytes hash to `start.1`)
/// with the SHA-256 on a second thread (see [`check_and_hash`](crate::check_and_hash)). Returns what `check`
/// returned, the SHA-256 state after every byte the hashing thread read (the whole input when the check read to its
/// end), and the [`ChunkStart`] of the chunk the check parsed last.
///
/// # Errors
/// The hashing thread panicked.
pub(crate) fn hashed_on_a_thread<R: Read + Send, T>(
    reader: R,
    start: ChunkStart,
    check: impl FnOnce(Chunks<'_, R>) -> T,
) -> Result<(T, Sha256, ChunkStart), RdbError> {
    let shared = Mutex::new(Shared {
        reader,
        next: 0,
        ended: false,
        free: Vec::new(),
        allocated: 0,
    });
    let chunk = RefCell::new(start.clone());
    let (to_check, hashed) = sync_channel::<Hashed>(HASH_CHUNKS_IN_FLIGHT);
    let (to_hash, read_by_check) = channel::<(u64, Chunk)>();
    let (out, sha) = std::thread::scope(|scope| {
        let shared = &shared;
        let hashing = scope.spawn(move || hash(shared, &read_by_check, &to_check, start));
        // The check drops the chunks when it ends: the hashing thread then ends too, at the end of the input or when
        // it finds the check gone.
        let chunks = Chunks {
            hashed,
            to_hash,
            shared,
            chunk: &chunk,
        };
        let out = check(chunks);
        let sha = hashing.join().map_err(|_| RdbError::Io {
            offset: 0,
            source: std::io::Error::other("the SHA-256 thread panicked"),
        })?;
        Ok::<_, RdbError>((out, sha))
    })?;
    Ok((out, sha, chunk.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::tests::Trickle;

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
