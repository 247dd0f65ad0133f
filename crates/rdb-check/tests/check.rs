//! rdb-check against real files: the Valkey fixtures in tests/fixtures (copied unchanged from the project's shared
//! fixtures, BSD 3-Clause), a file the Debian redis-server
//! writes at test time with every type and encoding, and corruptions of both.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdb_check::{Limits, RdbError, check, check_with};

/// The valid fixtures of the older formats (Valkey's test files).
const OLD_FORMATS: [&str; 5] = [
    "encodings.rdb",
    "hash-zipmap.rdb",
    "list-quicklist.rdb",
    "hash-ziplist.rdb",
    "zset-ziplist.rdb",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn check_file(path: &Path) -> Result<rdb_check::Report, RdbError> {
    check(std::fs::File::open(path).unwrap())
}

#[test]
fn every_valid_fixture_passes_with_its_key_count() {
    for (file, version, keys) in [
        ("encodings.rdb", 4, 13),
        ("hash-zipmap.rdb", 3, 1),
        ("list-quicklist.rdb", 8, 2),
        ("hash-ziplist.rdb", 9, 1),
        ("zset-ziplist.rdb", 10, 1),
    ] {
        let r = check_file(&fixtures().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((r.version, r.keys), (version, keys), "{file}");
        assert_eq!(
            r.bytes,
            std::fs::metadata(fixtures().join(file)).unwrap().len(),
            "{file}"
        );
    }
}

#[test]
fn the_corrupt_ziplist_fixture_fails_naming_the_offset() {
    match check_file(&fixtures().join("corrupt_ziplist.rdb")) {
        Err(RdbError::Corrupt { offset, what }) => {
            assert!((480..=494).contains(&offset), "offset {offset}");
            assert!(what.contains("ziplist"), "{what}");
        }
        other => panic!("expected a corrupt ziplist, got {other:?}"),
    }
}

/// A redis-server on a free loopback port with its data dir, stopped on drop.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start() -> Option<Self> {
        Self::start_with(&[])
    }

    /// A server with `extra` configuration arguments.
    fn start_with(extra: &[&str]) -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let s = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if s.cmd(&["PING"]).is_some_and(|r| r.contains("PONG")) {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends one command (RESP) and returns a bulk reply's bytes (`None` for anything else).
    fn cmd_bytes(&self, args: &[&[u8]]) -> Option<Vec<u8>> {
        let mut c = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend(b"\r\n");
        }
        c.write_all(&req).ok()?;
        c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut r = BufReader::new(c);
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let n: usize = line.strip_prefix('$')?.trim_end().parse().ok()?;
        let mut buf = vec![0u8; n + 2];
        std::io::Read::read_exact(&mut r, &mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    /// Sends one command (RESP) and returns the raw reply.
    fn cmd(&self, args: &[&str]) -> Option<String> {
        let mut c = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        c.write_all(req.as_bytes()).ok()?;
        c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut r = BufReader::new(c);
        read_reply(&mut r)
    }
}

fn read_reply(r: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let (kind, rest) = line.split_at(1);
    let rest = rest.trim_end();
    Some(match kind {
        "+" | "-" | ":" => line.clone(),
        "$" => {
            let n: i64 = rest.parse().ok()?;
            if n < 0 {
                return Some("(nil)".into());
            }
            let mut buf = vec![0u8; n as usize + 2];
            std::io::Read::read_exact(r, &mut buf).ok()?;
            String::from_utf8_lossy(&buf[..n as usize]).into_owned()
        }
        "*" => {
            let n: i64 = rest.parse().ok()?;
            (0..n.max(0))
                .map(|_| read_reply(r).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => return None,
    })
}

/// Fills a server with every type and encoding Redis 7.0 writes, returns (keys, expiring keys, types).
fn fill(s: &Server) -> (u64, u64, BTreeMap<String, u64>) {
    // Each command is its own connection (database 0); other databases are filled with MOVE below.
    let run = |args: &[&str]| s.cmd(args).unwrap_or_else(|| panic!("{args:?}"));
    let big = "x".repeat(5000);
    let compressible = "abc".repeat(400);
    let mut cmds: Vec<Vec<String>> = vec![
        vec!["SET".into(), "s:int".into(), "12345".into()],
        vec!["SET".into(), "s:neg".into(), "-7".into()],
        vec!["SET".into(), "s:raw".into(), "hello world".into()],
        vec!["SET".into(), "s:lzf".into(), compressible.clone()],
        vec!["SET".into(), "s:big".into(), big.clone()],
        vec![
            "SET".into(),
            "s:ttl".into(),
            "v".into(),
            "EX".into(),
            "86400".into(),
        ],
        vec![
            "SET".into(),
            "s:pttl".into(),
            "v".into(),
            "PX".into(),
            "86400000".into(),
        ],
        vec![
            "RPUSH".into(),
            "l:small".into(),
            "a".into(),
            "1".into(),
            "-2".into(),
            "300000".into(),
            "99999999999".into(),
        ],
        vec![
            "SADD".into(),
            "set:int".into(),
            "1".into(),
            "2".into(),
            "3".into(),
        ],
        vec!["SADD".into(), "set:str".into(), "a".into(), "b".into()],
        vec![
            "ZADD".into(),
            "z:small".into(),
            "1".into(),
            "a".into(),
            "2.5".into(),
            "b".into(),
        ],
        vec![
            "HSET".into(),
            "h:small".into(),
            "f".into(),
            "v".into(),
            "n".into(),
            "7".into(),
        ],
        vec![
            "XADD".into(),
            "st".into(),
            "*".into(),
            "a".into(),
            "1".into(),
        ],
        vec![
            "XADD".into(),
            "st".into(),
            "*".into(),
            "b".into(),
            "2".into(),
        ],
        vec![
            "XGROUP".into(),
            "CREATE".into(),
            "st".into(),
            "g1".into(),
            "0".into(),
        ],
        vec![
            "XREADGROUP".into(),
            "GROUP".into(),
            "g1".into(),
            "alice".into(),
            "COUNT".into(),
            "1".into(),
            "STREAMS".into(),
            "st".into(),
            ">".into(),
        ],
        vec!["EXPIRE".into(), "h:small".into(), "3600".into()],
    ];
    // Large collections: hashtable / skiplist / many quicklist nodes.
    let mut rp = vec!["RPUSH".to_string(), "l:big".into()];
    rp.extend((0..3000).map(|i| format!("item-{i}-{}", "y".repeat(i % 50))));
    cmds.push(rp);
    let mut sa = vec!["SADD".to_string(), "set:big".into()];
    sa.extend((0..600).map(|i| format!("m{i}")));
    cmds.push(sa);
    let mut za = vec!["ZADD".to_string(), "z:big".into()];
    for i in 0..300 {
        za.push(format!("{}.25", i));
        za.push(format!("member-{i}"));
    }
    cmds.push(za);
    let mut hs = vec!["HSET".to_string(), "h:big".into()];
    for i in 0..300 {
        hs.push(format!("field-{i}"));
        hs.push(big[..(i % 100) + 1].to_string());
    }
    cmds.push(hs);
    for c in &cmds {
        let args: Vec<&str> = c.iter().map(String::as_str).collect();
        let reply = run(&args);
        assert!(!reply.starts_with('-'), "{:?}: {reply}", &args[..2]);
    }
    // Other databases, through MOVE (each command is its own connection).
    run(&["SET", "db1:a", "1"]);
    run(&["MOVE", "db1:a", "1"]);
    run(&["SET", "db3:a", "1", "EX", "1000"]);
    run(&["MOVE", "db3:a", "3"]);
    run(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=mylib\nredis.register_function('hello', function() return 'hi' end)",
    ]);

    let info = run(&["INFO", "keyspace"]);
    let (mut keys, mut expires) = (0, 0);
    for line in info.lines().filter(|l| l.starts_with("db")) {
        for part in line.split(':').nth(1).unwrap_or_default().split(',') {
            let (k, v) = part.split_once('=').unwrap();
            match k {
                "keys" => keys += v.trim().parse::<u64>().unwrap(),
                "expires" => expires += v.trim().parse::<u64>().unwrap(),
                _ => {}
            }
        }
    }
    let mut types = BTreeMap::new();
    for k in run(&["KEYS", "*"]).lines() {
        *types
            .entry(run(&["TYPE", k]).trim().trim_start_matches('+').to_string())
            .or_insert(0u64) += 1;
    }
    *types.entry("string".into()).or_insert(0) += 2; // db1:a, db3:a (KEYS only sees db 0)
    (keys, expires, types)
}

/// An RDB written by redis-server, with the keys, expiring keys and type tallies the server reported.
type ServerRdb = (Vec<u8>, u64, u64, BTreeMap<String, u64>);

fn server_rdb() -> Option<ServerRdb> {
    let s = Server::start()?;
    let (keys, expires, types) = fill(&s);
    assert!(s.cmd(&["SAVE"])?.contains("OK"));
    let bytes = std::fs::read(s.dir.path().join("dump.rdb")).ok()?;
    Some((bytes, keys, expires, types))
}

#[test]
fn a_file_written_by_redis_server_matches_what_the_server_reported() {
    let Some((bytes, keys, expires, types)) = server_rdb() else {
        panic!("redis-server is needed for this test (apt-get install redis-server)");
    };
    let r = check(&bytes[..]).unwrap();
    assert_eq!(r.keys, keys);
    assert_eq!(r.keys_with_expiry, expires);
    assert_eq!(r.types, types);
    assert_eq!(r.functions, 1);
    assert_eq!(
        r.databases.keys().copied().collect::<Vec<_>>(),
        vec![0, 1, 3]
    );
    assert!(r.checksum.is_some());
    assert!(r.aux.contains_key("redis-ver"));
    for enc in [
        "list-quicklist-2",
        "set-intset",
        "set-hashtable",
        "zset-listpack",
        "zset-skiplist",
        "hash-listpack",
        "hash-hashtable",
    ] {
        assert!(
            r.encodings.contains_key(enc),
            "{enc} missing from {:?}",
            r.encodings
        );
    }
    assert!(
        r.encodings
            .keys()
            .any(|e| e.starts_with("stream-listpacks")),
        "{:?}",
        r.encodings
    );
}

#[test]
fn truncation_anywhere_is_a_typed_error_never_a_panic() {
    let (bytes, ..) = server_rdb().expect("redis-server");
    let step = (bytes.len() / 1500).max(1);
    for n in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        match check(&bytes[..n]) {
            Err(RdbError::Truncated { offset, .. }) => assert!(offset <= n as u64),
            Err(RdbError::Corrupt { .. } | RdbError::BadMagic { .. }) => {}
            other => panic!("cut at {n} of {}: {other:?}", bytes.len()),
        }
    }
}

#[test]
fn any_flipped_byte_is_caught() {
    let (bytes, ..) = server_rdb().expect("redis-server");
    let step = (bytes.len() / 1500).max(1);
    for i in (0..bytes.len()).step_by(step) {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        assert!(
            check(&b[..]).is_err(),
            "flip at {i} of {} went unnoticed",
            b.len()
        );
    }
}

/// A reader that hands out at most `.1` bytes per read: values straddle the read buffer, so the compact-key path
/// declines them and the general path reads them.
struct Steps<'a>(&'a [u8], usize);

impl std::io::Read for Steps<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(out.len()).min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// Keys read for the sample always take the general path; the others may take the compact-key one (small intsets
/// and listpacks whole in the buffer). Both must give the same report and the same error, on a whole file with every
/// encoding and on that file with bytes flipped anywhere.
#[test]
fn the_compact_key_path_and_the_general_path_agree_on_every_file_and_every_flip() {
    let (bytes, ..) = server_rdb().expect("redis-server");
    let fast = Limits {
        sample_keys: 0,
        ..Limits::default()
    };
    let general = Limits {
        sample_keys: usize::MAX,
        ..Limits::default()
    };
    let outcome = |r: Result<rdb_check::Report, RdbError>| {
        r.map(|mut r| {
            r.sample.clear();
            format!("{r:?}")
        })
        .map_err(|e| e.to_string())
    };
    let whole = outcome(check_with(&bytes[..], fast));
    assert!(whole.is_ok(), "{whole:?}");
    assert_eq!(whole, outcome(check_with(&bytes[..], general)));
    assert_eq!(whole, outcome(check_with(Steps(&bytes, 7), fast)));
    let step = (bytes.len() / 1200).max(1);
    for i in (0..bytes.len()).step_by(step) {
        for flip in [0x01, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            assert_eq!(
                outcome(check_with(&b[..], fast)),
                outcome(check_with(&b[..], general)),
                "byte {i} ^ {flip:#04x}"
            );
        }
    }
}

#[test]
fn checksum_mismatch_is_named_with_both_values() {
    let (mut bytes, ..) = server_rdb().expect("redis-server");
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    assert!(
        matches!(check(&bytes[..]), Err(RdbError::ChecksumMismatch { expected, actual }) if expected != actual)
    );
}

#[test]
fn absurd_lengths_are_errors_without_allocating_them() {
    // A string key whose length claims 2^64-1 bytes: truncated, nothing allocated.
    let mut f = b"REDIS0010".to_vec();
    f.extend([0x00, 0x81]);
    f.extend(u64::MAX.to_be_bytes());
    assert!(matches!(check(&f[..]), Err(RdbError::Truncated { .. })));
    // A hash listpack claiming 1 TiB: refused before reading it.
    let mut f = b"REDIS0010".to_vec();
    f.extend([16, 1, b'k', 0x81]);
    f.extend((1u64 << 40).to_be_bytes());
    assert!(matches!(check(&f[..]), Err(RdbError::TooLarge { len, .. }) if len == 1 << 40));
    // An LZF string claiming a huge decompressed size inside a listpack: refused by the limit.
    let mut f = b"REDIS0010".to_vec();
    f.extend([16, 1, b'k', 0xC3, 0x01, 0x80]);
    f.extend(u32::MAX.to_be_bytes());
    assert!(matches!(
        check_with(
            &f[..],
            Limits {
                max_encoded_value_bytes: 1024,
                ..Limits::default()
            }
        ),
        Err(RdbError::TooLarge { .. })
    ));
}

#[test]
fn not_an_rdb_and_future_versions_are_refused() {
    assert!(matches!(
        check(&b"HELLOWORLD"[..]),
        Err(RdbError::BadMagic { .. })
    ));
    let err = check(&b"REDIS0099\xff"[..]).unwrap_err();
    assert!(
        matches!(&err, RdbError::UnsupportedVersion { header, version: 99 } if header == "REDIS0099"),
        "{err:?}"
    );
    assert!(err.is_unsupported_format());
    let err = check(&b"REDIS0010\x42"[..]).unwrap_err();
    assert!(
        matches!(&err, RdbError::UnknownType { byte: 0x42, offset: 9, header } if header == "REDIS0010"),
        "{err:?}"
    );
    assert!(err.is_unsupported_format());
}

/// xorshift64*: a tiny seeded generator, so the property test is reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mutations_of_every_fixture_never_panic_and_checksummed_files_always_notice() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for file in OLD_FORMATS {
        let original = std::fs::read(fixtures().join(file)).unwrap();
        let checksummed = check(&original[..]).unwrap().checksum.is_some();
        for _ in 0..3000 {
            let mut b = original.clone();
            match rng.below(4) {
                // Flip 1-3 bytes.
                0 | 1 => {
                    for _ in 0..=rng.below(3) {
                        let i = rng.below(b.len());
                        b[i] ^= (rng.next() as u8) | 1;
                    }
                }
                // Cut.
                2 => b.truncate(rng.below(b.len())),
                // Insert garbage.
                _ => {
                    let i = rng.below(b.len());
                    let junk: Vec<u8> = (0..=rng.below(16)).map(|_| rng.next() as u8).collect();
                    b.splice(i..i, junk);
                }
            }
            let result = check_with(
                &b[..],
                Limits {
                    max_encoded_value_bytes: 1 << 20,
                    ..Limits::default()
                },
            );
            if checksummed && b != original {
                assert!(result.is_err(), "{file}: a mutation went unnoticed");
            }
        }
    }
}

#[test]
fn the_first_keys_are_sampled_with_their_database_and_type() {
    let report = check(&std::fs::read(fixtures().join("encodings.rdb")).unwrap()[..]).unwrap();
    assert!(!report.sample.is_empty());
    assert!(report.sample.len() as u64 <= report.keys.min(64));
    for s in &report.sample {
        assert!(report.types.contains_key(&s.key_type), "{s:?}");
        assert!(report.databases.contains_key(&s.db), "{s:?}");
    }
    let none = check_with(
        &std::fs::read(fixtures().join("encodings.rdb")).unwrap()[..],
        Limits {
            sample_keys: 0,
            ..Limits::default()
        },
    )
    .unwrap();
    assert!(none.sample.is_empty());
    assert_eq!((none.keys, none.checksum), (report.keys, report.checksum));
}

/// One walked key: (db, key, encoding, digest, payload, expiry ms).
type Walked = (u64, Vec<u8>, &'static str, [u8; 32], Vec<u8>, Option<i64>);

/// A key's (db, name) and its (encoding, digest).
type Digests = BTreeMap<(u64, Vec<u8>), (&'static str, [u8; 32])>;

/// The key walk's visitor of these tests: every key, with its digest and payload.
#[derive(Default)]
struct Everything {
    keys: Vec<Walked>,
}

impl rdb_check::keys::KeyVisitor for Everything {
    fn want(&mut self, _: u64, _: &[u8], _: u8) -> Option<rdb_check::keys::Want> {
        Some(rdb_check::keys::Want {
            digest: true,
            payload: true,
        })
    }
    fn key(&mut self, e: &rdb_check::keys::KeyEntry<'_>) -> bool {
        self.keys.push((
            e.db,
            e.key.to_vec(),
            e.encoding,
            e.digest.expect("digest asked"),
            e.payload.expect("payload asked").to_vec(),
            e.expires_at_ms,
        ));
        true
    }
}

fn walk_all(bytes: &[u8]) -> (Everything, rdb_check::Report) {
    let mut v = Everything::default();
    match rdb_check::keys::walk(bytes, &rdb_check::keys::WalkOptions::default(), &mut v) {
        Ok(rdb_check::keys::WalkEnd::Finished(r)) => (v, *r),
        other => panic!("walk: {other:?}"),
    }
}

#[test]
fn every_dump_payload_built_from_the_file_is_the_servers_own_dump() {
    let s = Server::start().expect("redis-server");
    fill(&s);
    assert!(s.cmd(&["SAVE"]).unwrap().contains("OK"));
    let bytes = std::fs::read(s.dir.path().join("dump.rdb")).unwrap();
    let (walked, report) = walk_all(&bytes);
    // The walk reads as the check does.
    let checked = check(&bytes[..]).unwrap();
    assert_eq!(
        (
            report.keys,
            &report.types,
            &report.encodings,
            report.slots == checked.slots
        ),
        (checked.keys, &checked.types, &checked.encodings, true)
    );
    assert_eq!(walked.keys.len() as u64, checked.keys);
    let mut compared = 0;
    for (db, key, encoding, digest, payload, expiry) in &walked.keys {
        if *db != 0 {
            continue;
        }
        let dump = s.cmd_bytes(&[b"DUMP", key]).expect("DUMP");
        assert!(
            dump == *payload,
            "{} ({encoding}): payload differs from DUMP",
            String::from_utf8_lossy(key)
        );
        let back = rdb_check::keys::read_dump_payload(&dump).unwrap();
        assert_eq!(back.digest, *digest, "{}", String::from_utf8_lossy(key));
        assert_eq!(back.encoding, *encoding);
        assert_eq!(rdb_check::keys::payload_rdb_version(&dump), Some(10));
        // The expiry is the server's (PEXPIRETIME, Redis 7).
        let pexpire = s
            .cmd(&["PEXPIRETIME", &String::from_utf8_lossy(key)])
            .unwrap();
        let want: i64 = pexpire.trim().trim_start_matches(':').parse().unwrap();
        assert_eq!(
            *expiry,
            (want >= 0).then_some(want),
            "{}",
            String::from_utf8_lossy(key)
        );
        compared += 1;
    }
    assert!(compared >= 15, "{compared} keys compared");
    // A flipped payload byte is caught by its CRC-64; a short one is refused.
    let (_, _, _, _, payload, _) = &walked.keys[0];
    let mut bad = payload.clone();
    bad[1] ^= 1;
    assert!(matches!(
        rdb_check::keys::read_dump_payload(&bad),
        Err(RdbError::ChecksumMismatch { .. })
    ));
    assert!(rdb_check::keys::read_dump_payload(&payload[..5]).is_err());
}

#[test]
fn a_pure_re_encoding_keeps_every_digest_and_a_change_does_not() {
    let s = Server::start_with(&["--enable-debug-command", "yes"]).expect("redis-server");
    fill(&s);
    assert!(s.cmd(&["SAVE"]).unwrap().contains("OK"));
    let before = std::fs::read(s.dir.path().join("dump.rdb")).unwrap();
    // Small collections become hashtables / skiplists when the file is loaded again under these limits.
    for (k, v) in [
        ("hash-max-listpack-entries", "0"),
        ("set-max-intset-entries", "0"),
        ("zset-max-listpack-entries", "0"),
    ] {
        assert!(s.cmd(&["CONFIG", "SET", k, v]).unwrap().contains("OK"));
    }
    assert!(s.cmd(&["DEBUG", "RELOAD"]).unwrap().contains("OK"));
    assert!(s.cmd(&["SET", "s:raw", "changed"]).unwrap().contains("OK"));
    assert!(s.cmd(&["SAVE"]).unwrap().contains("OK"));
    let after = std::fs::read(s.dir.path().join("dump.rdb")).unwrap();
    let (a, _) = walk_all(&before);
    let (b, _) = walk_all(&after);
    let index = |w: &Everything| -> Digests {
        w.keys
            .iter()
            .map(|(db, k, enc, d, ..)| ((*db, k.clone()), (*enc, *d)))
            .collect()
    };
    let (a, b) = (index(&a), index(&b));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    let mut re_encoded = Vec::new();
    for (k, (enc_a, d_a)) in &a {
        let (enc_b, d_b) = b[k];
        let name = String::from_utf8_lossy(&k.1).into_owned();
        if name == "s:raw" {
            assert_ne!(*d_a, d_b, "a changed value has a new digest");
            continue;
        }
        assert_eq!(*d_a, d_b, "{name}: {enc_a} → {enc_b}");
        if *enc_a != enc_b {
            re_encoded.push(name);
        }
    }
    re_encoded.sort();
    // (Redis 7.0 keeps string sets in hashtables already: `set:str` is one in both files.)
    assert_eq!(re_encoded, ["h:small", "set:int", "z:small"]);
}

#[test]
fn every_fixture_walks_as_it_checks_and_its_payloads_read_back_with_the_same_digests() {
    let newer = [
        "standalone-redis-6.2.rdb",
        "cluster-redis-7.0.rdb",
        "cluster-redis-8.2.rdb",
        "cluster-valkey-9.0.rdb",
    ];
    for file in OLD_FORMATS.into_iter().chain(newer) {
        let bytes = std::fs::read(fixtures().join(file)).unwrap();
        let checked = check(&bytes[..]).unwrap();
        let (walked, report) = walk_all(&bytes);
        assert_eq!(walked.keys.len() as u64, checked.keys, "{file}");
        assert_eq!(report.encodings, checked.encodings, "{file}");
        for (_, key, encoding, digest, payload, _) in &walked.keys {
            let back = rdb_check::keys::read_dump_payload(payload)
                .unwrap_or_else(|e| panic!("{file} {}: {e}", String::from_utf8_lossy(key)));
            assert_eq!(
                (back.digest, back.encoding),
                (*digest, *encoding),
                "{file} {}",
                String::from_utf8_lossy(key)
            );
            assert_eq!(
                u32::from(rdb_check::keys::payload_rdb_version(payload).unwrap()),
                checked.version,
                "{file}"
            );
        }
    }
}
