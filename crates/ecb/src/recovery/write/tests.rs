//! The writer: its pure parts (classification before sending, the commands, the replies), then against real
//! redis-server processes on free loopback ports (standalone, AUTH, a 3-primary cluster), with payloads from the
//! servers' own `DUMP` (the walk that builds them from a backup is tested in rdb-check and end to end in
//! local/tests/test_ecb_restore_keys.py).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use redis::AsyncCommands;

use super::*;

fn item(key: &str, payload: Vec<u8>) -> Item {
    Item {
        seq: 0,
        db: 0,
        key: key.as_bytes().to_vec(),
        kind: "string",
        expires_at_ms: None,
        payload_bytes: payload.len() as u64,
        payload: Some(payload),
        module: None,
    }
}

fn limits() -> Limits {
    Limits {
        now_ms: 1_000_000,
        max_bulk: 100,
        max_bulk_assumed: false,
        modules: Some(BTreeSet::new()),
        dry_run: false,
    }
}

fn args(c: &redis::Cmd) -> Vec<String> {
    c.args_iter()
        .map(|a| match a {
            redis::Arg::Simple(b) => String::from_utf8_lossy(b).into_owned(),
            _ => "<cursor>".into(),
        })
        .collect()
}

fn reply(resp: &str) -> Value {
    redis::parse_redis_value(resp.as_bytes()).unwrap()
}

#[test]
fn expired_too_large_and_module_missing_keys_are_not_sent() {
    let l = limits();
    let mut k = item("k", vec![0; 10]);
    assert_eq!(presend(&k, &l), None);

    k.expires_at_ms = Some(1_000_000);
    assert_eq!(presend(&k, &l), Some(Outcome::plain(Verdict::Expired)));
    k.expires_at_ms = Some(1_000_001);
    assert_eq!(presend(&k, &l), None, "not yet expired");

    let big = item("big", vec![0; 101]);
    let o = presend(&big, &l).unwrap();
    assert_eq!(o.verdict, Verdict::Failed);
    let reason = o.reason.unwrap();
    assert!(reason.starts_with("payload-too-large"), "{reason}");
    assert!(
        reason.contains("101 bytes") && reason.contains("100 bytes"),
        "{reason}"
    );
    let mut unbuilt = item("unbuilt", Vec::new());
    unbuilt.payload = None;
    unbuilt.payload_bytes = 600 << 20;
    let dry = Limits {
        dry_run: true,
        max_bulk_assumed: true,
        ..limits()
    };
    let o = presend(&unbuilt, &dry).unwrap();
    assert_eq!(o.verdict, Verdict::WouldFail);
    assert!(o.reason.unwrap().contains("assumed"));

    let mut bloom = item("bf", vec![0; 10]);
    bloom.module = Some("MBbloom--".into());
    assert_eq!(
        presend(&bloom, &l),
        Some(Outcome::new(Verdict::Skipped, "module-missing:MBbloom--")),
        "a server without any module"
    );
    let with = |m: &[&str]| Limits {
        modules: Some(m.iter().map(|s| (*s).to_string()).collect()),
        ..limits()
    };
    assert_eq!(presend(&bloom, &with(&["bf"])), None);
    assert!(
        presend(&bloom, &with(&["ReJSON"])).is_some(),
        "only JSON loaded"
    );
    bloom.module = Some("unknownT1".into());
    assert_eq!(
        presend(&bloom, &with(&["ReJSON"])),
        None,
        "unknown type: tried"
    );
    let refused = Limits {
        modules: None,
        ..limits()
    };
    assert_eq!(
        presend(&bloom, &refused),
        None,
        "MODULE LIST refused: tried"
    );
}

#[test]
fn restore_commands_carry_the_expiry_as_asked() {
    let mut k = item("user:1", b"PAYLOAD".to_vec());
    assert_eq!(
        args(&command(&k, Expiry::Absolute, false, false, 0)),
        ["RESTORE", "user:1", "0", "PAYLOAD"]
    );
    k.expires_at_ms = Some(1_700_000_000_000);
    assert_eq!(
        args(&command(&k, Expiry::Absolute, true, false, 0)),
        [
            "RESTORE",
            "user:1",
            "1700000000000",
            "PAYLOAD",
            "REPLACE",
            "ABSTTL"
        ]
    );
    assert_eq!(
        args(&command(&k, Expiry::Strip, false, false, 0)),
        ["RESTORE", "user:1", "0", "PAYLOAD"]
    );
    assert_eq!(
        args(&command(
            &k,
            Expiry::Relative,
            false,
            false,
            1_699_999_990_000
        )),
        ["RESTORE", "user:1", "10000", "PAYLOAD"]
    );
    assert_eq!(
        args(&command(
            &k,
            Expiry::Relative,
            false,
            false,
            1_800_000_000_000
        )),
        ["RESTORE", "user:1", "1", "PAYLOAD"],
        "at least 1 ms"
    );
    assert_eq!(
        args(&command(&k, Expiry::Absolute, true, true, 0)),
        ["EXISTS", "user:1"]
    );
}

#[test]
fn replies_are_classified() {
    assert_eq!(classify(&reply("+OK\r\n")), Reply::Done);
    assert_eq!(classify(&reply(":1\r\n")), Reply::Exists);
    assert_eq!(classify(&reply(":0\r\n")), Reply::Absent);
    assert_eq!(
        classify(&reply("-BUSYKEY Target key name already exists.\r\n")),
        Reply::Exists
    );
    assert_eq!(
        classify(&reply("-MOVED 3999 127.0.0.1:6381\r\n")),
        Reply::Moved {
            slot: 3999,
            host: "127.0.0.1".into(),
            port: 6381
        }
    );
    assert_eq!(
        classify(&reply("-MOVED 12 :7000\r\n")),
        Reply::Moved {
            slot: 12,
            host: String::new(),
            port: 7000
        },
        "an unknown endpoint: the node asked"
    );
    assert_eq!(
        classify(&reply("-ASK 3999 ::1:6381\r\n")),
        Reply::Ask {
            host: "::1".into(),
            port: 6381
        }
    );
    assert!(matches!(
        classify(&reply("-TRYAGAIN Multiple keys\r\n")),
        Reply::Retry(_)
    ));
    assert!(matches!(
        classify(&reply("-CLUSTERDOWN The cluster is down\r\n")),
        Reply::Retry(_)
    ));
    assert!(matches!(
        classify(&reply("-MOVED nonsense\r\n")),
        Reply::Error(_)
    ));
    assert_eq!(
        classify(&reply("-ERR Bad data format\r\n")),
        Reply::Error("ERR Bad data format".into())
    );
}

#[test]
fn module_errors_skip_and_payload_errors_fail() {
    let mut bf = item("bf", vec![1]);
    bf.module = Some("MBbloom--".into());
    let o = error_outcome(&bf, "ERR Bad data format", false);
    assert_eq!(o.verdict, Verdict::Skipped);
    assert!(o.reason.unwrap().starts_with("module-missing:MBbloom--"));
    let o = error_outcome(&bf, "ERR unknown module type", true);
    assert_eq!(o.verdict, Verdict::WouldSkip);
    let plain = item("s", vec![1]);
    let o = error_outcome(&plain, "ERR Bad data format", false);
    assert_eq!(o.verdict, Verdict::Failed, "not a module value: a failure");
    let o = error_outcome(
        &plain,
        "ERR DUMP payload version or checksum are wrong",
        false,
    );
    assert!(o.reason.unwrap().starts_with("payload-rejected"));
}

#[test]
fn batches_are_bounded_by_count_and_bytes() {
    let (tx, mut rx) = mpsc::channel(1000);
    let selector = Selector {
        pattern: Pattern::new(b"*").unwrap(),
        db: None,
    };
    let mut seq = 0;
    let mut c = Collect {
        selector: &selector,
        seq: &mut seq,
        batch: Vec::new(),
        bytes: 0,
        tx: &tx,
        closed: false,
    };
    let payload = vec![0u8; 3 * 1024 * 1024];
    let entry = |p: &'static [u8]| KeyEntry {
        db: 0,
        key: b"k",
        type_byte: 0,
        kind: "string",
        encoding: "string-raw",
        expires_at_ms: None,
        size_bytes: 1,
        offset: 0,
        digest: None,
        payload: Some(p),
        payload_bytes: p.len() as u64,
        module: None,
    };
    let small: &'static [u8] = b"tiny";
    for _ in 0..(BATCH_COMMANDS * 2 + 1) {
        assert!(c.key(&entry(small)));
    }
    let big: &'static [u8] = Box::leak(payload.into_boxed_slice());
    for _ in 0..3 {
        assert!(c.key(&entry(big)));
    }
    assert!(c.send());
    drop(c);
    drop(tx);
    let mut sizes = Vec::new();
    while let Ok(b) = rx.try_recv() {
        sizes.push(b.len());
    }
    // 256, 256, then 1 small + 3 × 3 MiB crosses 8 MiB at the third big one.
    assert_eq!(sizes, [BATCH_COMMANDS, BATCH_COMMANDS, 4]);
    assert_eq!(seq, (BATCH_COMMANDS * 2 + 4) as u64);
}

// ---- against redis-server -------------------------------------------------------------------------------------------

/// A redis-server on a free loopback port, stopped on drop.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start(extra: &[&str]) -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--enable-debug-command", "local"])
            .arg("--dir")
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is needed for these tests (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn conn(&self) -> MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

async fn cmd<T: redis::FromRedisValue>(c: &mut MultiplexedConnection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(c).await.unwrap()
}

/// Fills db `db` with one key of each type (and one with a TTL); their names.
async fn fill(c: &mut MultiplexedConnection, db: u64, prefix: &str) -> Vec<String> {
    let _: () = redis::cmd("SELECT").arg(db).query_async(c).await.unwrap();
    let names: Vec<String> = ["s", "h", "l", "set", "z", "x", "ttl"]
        .iter()
        .map(|n| format!("{prefix}{n}"))
        .collect();
    let _: () = c.set(&names[0], "plain value").await.unwrap();
    let _: () = c
        .hset_multiple(&names[1], &[("a", "1"), ("b", "2")])
        .await
        .unwrap();
    let _: () = c.rpush(&names[2], &[1, 2, 3]).await.unwrap();
    let _: () = c.sadd(&names[3], &["x", "y"]).await.unwrap();
    let _: () = c
        .zadd_multiple(&names[4], &[(1.5, "m"), (2.5, "n")])
        .await
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg(&names[5])
        .arg("*")
        .arg("f")
        .arg("v")
        .query_async(c)
        .await
        .unwrap();
    let _: () = c.set_ex(&names[6], "short", 3600).await.unwrap();
    names
}

/// `(digest, absolute expiry ms or -1)` of `key` in `db`.
async fn state(c: &mut MultiplexedConnection, db: u64, key: &str) -> (Option<String>, i64) {
    let _: () = redis::cmd("SELECT").arg(db).query_async(c).await.unwrap();
    let digest: Option<String> = redis::cmd("DEBUG")
        .arg("DIGEST-VALUE")
        .arg(key)
        .query_async(c)
        .await
        .ok()
        .and_then(|v: Vec<Option<String>>| v.into_iter().next().flatten());
    let exists: i64 = c.exists(key).await.unwrap();
    let pttl: i64 = c.pttl(key).await.unwrap();
    let at = if pttl >= 0 { now_ms() + pttl } else { -1 };
    (digest.filter(|_| exists == 1), at)
}

/// Items for `keys` of `db`, with the server's own DUMP payloads and absolute expiries.
async fn dump(c: &mut MultiplexedConnection, db: u64, keys: &[String]) -> Vec<Item> {
    let _: () = redis::cmd("SELECT").arg(db).query_async(c).await.unwrap();
    let mut out = Vec::new();
    for k in keys {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(k).query_async(c).await.unwrap();
        let pttl: i64 = c.pttl(k).await.unwrap();
        let mut i = item(k, payload);
        i.db = db;
        i.seq = out.len() as u64;
        i.expires_at_ms = (pttl >= 0).then(|| now_ms() + pttl);
        out.push(i);
    }
    out
}

async fn write(
    target: &mut Target,
    items: Vec<Item>,
    replace: bool,
    dry_run: bool,
    expiry: Expiry,
) -> Tally {
    write_counting(target, items, replace, dry_run, expiry, PENDING_BYTES)
        .await
        .0
}

/// [`write`] with a bound on the bytes waiting for all nodes; also the round trips made.
async fn write_counting(
    target: &mut Target,
    items: Vec<Item>,
    replace: bool,
    dry_run: bool,
    expiry: Expiry,
    pending_cap: usize,
) -> (Tally, u64) {
    let (max_bulk, max_bulk_assumed) = target.proto_max_bulk_len();
    let modules = target.modules();
    let mut w = Writer {
        target,
        limits: Limits {
            now_ms: now_ms(),
            max_bulk,
            max_bulk_assumed,
            modules,
            dry_run,
        },
        expiry,
        replace,
        pending: BTreeMap::new(),
        pending_cap,
        conns: BTreeMap::new(),
        rounds: 0,
        tally: Tally::default(),
    };
    for i in items {
        w.add(i).await.unwrap();
    }
    w.flush_all().await.unwrap();
    (w.tally, w.rounds)
}

fn reasons(t: &Tally) -> Vec<(String, &'static str, Option<String>)> {
    t.listed()
        .0
        .into_iter()
        .filter(|l| l.outcome.verdict != Verdict::Restored)
        .map(|l| {
            (
                String::from_utf8_lossy(&l.key).into_owned(),
                l.outcome.verdict.label(),
                l.outcome.reason.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn deleted_keys_come_back_exactly_existing_ones_are_skipped_and_replace_overwrites() {
    let s = Server::start(&[]);
    let mut c = s.conn().await;
    let keys0 = fill(&mut c, 0, "user:").await;
    let keys3 = fill(&mut c, 3, "user:").await;
    let mut before = Vec::new();
    for k in &keys0 {
        before.push(state(&mut c, 0, k).await);
    }
    for k in &keys3 {
        before.push(state(&mut c, 3, k).await);
    }
    let mut items = dump(&mut c, 0, &keys0).await;
    items.extend(dump(&mut c, 3, &keys3).await);
    for (db, keys) in [(0, &keys0), (3, &keys3)] {
        let _: () = redis::cmd("SELECT")
            .arg(db)
            .query_async(&mut c)
            .await
            .unwrap();
        let _: () = c.del(keys).await.unwrap();
    }

    let mut target = Target::connect(&TargetUrl::parse(&s.url()).unwrap())
        .await
        .unwrap();
    assert!(!target.cluster);
    assert_eq!(
        target.nodes[0].engine.rdb_version, 10,
        "Debian's redis-server 7.0"
    );
    let t = write(&mut target, items.clone(), false, false, Expiry::Absolute).await;
    assert_eq!(
        (t.restored, t.skipped, t.failed),
        (14, 0, 0),
        "{:?}",
        reasons(&t)
    );
    let mut after = Vec::new();
    for k in &keys0 {
        after.push(state(&mut c, 0, k).await);
    }
    for k in &keys3 {
        after.push(state(&mut c, 3, k).await);
    }
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.0, b.0, "digest");
        assert!(b.0.is_some());
        assert!((a.1 - b.1).abs() < 1000, "expiry {a:?} vs {b:?}");
    }
    assert!(
        after[6].1 > 0 && after[0].1 == -1,
        "the TTL key has one, the others none"
    );

    // Again without --replace: every key exists, none is touched.
    let _: () = redis::cmd("SELECT")
        .arg(0)
        .query_async(&mut c)
        .await
        .unwrap();
    let _: () = c.set(&keys0[0], "changed").await.unwrap();
    let t = write(&mut target, items.clone(), false, false, Expiry::Absolute).await;
    assert_eq!((t.restored, t.skipped), (0, 14));
    assert!(
        reasons(&t)
            .iter()
            .all(|(_, v, r)| *v == "skipped" && r.as_deref() == Some("exists"))
    );
    let v: String = c.get(&keys0[0]).await.unwrap();
    assert_eq!(v, "changed");

    // A dry run with --replace would restore all, and writes nothing.
    let digest_before: String = cmd(&mut c, &["DEBUG", "DIGEST"]).await;
    let t = write(&mut target, items.clone(), true, true, Expiry::Absolute).await;
    assert_eq!((t.restored, t.skipped), (14, 0));
    let t = write(&mut target, items.clone(), false, true, Expiry::Absolute).await;
    assert_eq!((t.restored, t.skipped), (0, 14));
    assert!(reasons(&t).iter().all(|(_, v, _)| *v == "would-skip"));
    let digest_after: String = cmd(&mut c, &["DEBUG", "DIGEST"]).await;
    assert_eq!(digest_before, digest_after, "a dry run writes nothing");

    // --replace overwrites; --ttl strip leaves no expiry.
    let t = write(&mut target, items.clone(), true, false, Expiry::Strip).await;
    assert_eq!(t.restored, 14);
    assert_eq!(state(&mut c, 0, &keys0[0]).await.0, before[0].0);
    assert_eq!(state(&mut c, 0, &keys0[6]).await.1, -1, "stripped");
}

#[tokio::test]
async fn a_payload_over_proto_max_bulk_len_is_refused_by_name() {
    let s = Server::start(&["--proto-max-bulk-len", "1mb"]);
    let mut c = s.conn().await;
    // A string cannot grow past the limit; a list of three 400 kB elements (random: LZF cannot shrink them) can.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..3 {
        let element: String = (0..400_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + u8::try_from(state % 90).unwrap())
            })
            .collect();
        let _: i64 = c.rpush("big", element).await.unwrap();
    }
    let _: () = c.set("small", "y").await.unwrap();
    let items = dump(&mut c, 0, &["big".into(), "small".into()]).await;
    assert!(
        items[0].payload_bytes > 1024 * 1024,
        "{}",
        items[0].payload_bytes
    );
    let _: () = c.del(&["big", "small"]).await.unwrap();
    let mut target = Target::connect(&TargetUrl::parse(&s.url()).unwrap())
        .await
        .unwrap();
    assert_eq!(target.proto_max_bulk_len(), (1024 * 1024, false));
    let t = write(&mut target, items, false, false, Expiry::Absolute).await;
    assert_eq!((t.restored, t.failed), (1, 1));
    let r = reasons(&t);
    assert_eq!(r[0].0, "big");
    assert!(
        r[0].2.as_deref().unwrap().starts_with("payload-too-large"),
        "{r:?}"
    );
    let exists: i64 = c.exists("big").await.unwrap();
    assert_eq!(exists, 0);
}

#[tokio::test]
async fn auth_works_with_the_password_and_a_wrong_one_is_never_shown() {
    let s = Server::start(&["--requirepass", "s3cr3t/pass@word"]);
    let good = TargetUrl::parse(&format!(
        "redis://:s3cr3t%2Fpass%40word@127.0.0.1:{}",
        s.port
    ))
    .unwrap();
    let target = Target::connect(&good).await.unwrap();
    assert_eq!(target.nodes.len(), 1);
    // What `ecb diff` reads: the node itself, in a database it has; one it has not is bad input, not unreachable.
    assert_eq!(
        target::primaries(&good, 5).await.unwrap(),
        [("127.0.0.1".to_string(), s.port)]
    );
    let e = target::primaries(&good, 99).await.unwrap_err();
    assert!(matches!(e, CliError::Usage(_)), "{e}");
    assert!(e.to_string().contains("database 99"), "{e}");
    let bad = TargetUrl::parse(&format!(
        "redis://default:WRONG%2Fsecret@127.0.0.1:{}",
        s.port
    ))
    .unwrap();
    for e in [
        Target::connect(&bad).await.unwrap_err(),
        target::primaries(&bad, 0).await.unwrap_err(),
    ] {
        let text = format!("{e} {e:?}");
        assert!(matches!(e, CliError::Unreachable(_)), "{text}");
        assert!(text.contains(&format!("127.0.0.1:{}", s.port)), "{text}");
        assert!(
            !text.contains("WRONG") && !text.contains("secret"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_server_is_named_with_its_port() {
    let port = free_port();
    let url = TargetUrl::parse(&format!("redis://u:hidden@127.0.0.1:{port}")).unwrap();
    for e in [
        Target::connect(&url).await.unwrap_err(),
        target::primaries(&url, 0).await.unwrap_err(),
    ] {
        let text = e.to_string();
        assert!(matches!(e, CliError::Unreachable(_)), "{text}");
        assert!(
            text.contains(&format!("127.0.0.1:{port}")) && !text.contains("hidden"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_replica_is_refused_and_its_primary_named() {
    let primary = Server::start(&[]);
    let replica = Server::start(&["--replicaof", "127.0.0.1", &primary.port.to_string()]);
    let e = Target::connect(&TargetUrl::parse(&replica.url()).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, CliError::Usage(_)), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("127.0.0.1:{}", primary.port)),
        "{e}"
    );
}

#[tokio::test]
async fn the_servers_rdb_version_comes_from_a_dump_or_its_version() {
    let s = Server::start(&[]);
    let url = TargetUrl::parse(&s.url()).unwrap();
    let empty = Target::connect(&url).await.unwrap();
    assert_eq!(empty.nodes[0].engine.source, target::VersionSource::Info);
    let mut c = s.conn().await;
    let _: () = redis::cmd("SELECT")
        .arg(5)
        .query_async(&mut c)
        .await
        .unwrap();
    let _: () = c.set("k", "v").await.unwrap();
    let with_keys = Target::connect(&url).await.unwrap();
    assert_eq!(
        with_keys.nodes[0].engine.source,
        target::VersionSource::Dump
    );
    assert_eq!(
        with_keys.nodes[0].engine.rdb_version,
        empty.nodes[0].engine.rdb_version
    );
    assert_eq!(with_keys.nodes[0].engine.name, "redis");
    assert!(with_keys.describe().contains("standalone"));
}

/// Three cluster-mode primaries, slots split in three, `cluster_state:ok`.
async fn cluster() -> Vec<Server> {
    // The bus port is a free port of its own (the default, port + 10000, may be taken or past 65535).
    let buses: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let nodes: Vec<Server> = buses
        .iter()
        .map(|bus| {
            Server::start(&[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--cluster-port",
                &bus.to_string(),
            ])
        })
        .collect();
    let ranges = [(0, 5460), (5461, 10922), (10923, 16383)];
    for (n, (a, b)) in nodes.iter().zip(ranges) {
        let mut c = n.conn().await;
        let _: () = cmd(
            &mut c,
            &["CLUSTER", "ADDSLOTSRANGE", &a.to_string(), &b.to_string()],
        )
        .await;
    }
    let mut first = nodes[0].conn().await;
    for (n, bus) in nodes[1..].iter().zip(&buses[1..]) {
        let (port, bus) = (n.port.to_string(), bus.to_string());
        let _: () = cmd(&mut first, &["CLUSTER", "MEET", "127.0.0.1", &port, &bus]).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in &nodes {
        let mut c = n.conn().await;
        loop {
            let info: String = cmd(&mut c, &["CLUSTER", "INFO"]).await;
            let slots: Value = cmd(&mut c, &["CLUSTER", "SLOTS"]).await;
            let known = matches!(&slots, Value::Array(a) if a.len() == 3);
            if info.contains("cluster_state:ok") && known {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster did not form: {info}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    nodes
}

#[tokio::test]
async fn cluster_keys_go_to_the_primary_of_their_slot_and_moved_is_followed() {
    let nodes = cluster().await;
    let source = Server::start(&[]);
    let mut src = source.conn().await;
    let keys: Vec<String> = (0..300).map(|i| format!("user:{i}")).collect();
    for k in &keys {
        let _: () = src.set(k, format!("value of {k}")).await.unwrap();
    }
    let items = dump(&mut src, 0, &keys).await;

    let mut target = Target::connect(&TargetUrl::parse(&nodes[1].url()).unwrap())
        .await
        .unwrap();
    assert!(target.cluster);
    assert_eq!(target.serving().count(), 3);
    assert_eq!(target.unserved_slots(), 0);
    // A stale slot map: every slot sent to the wrong primary, so each key is MOVED once.
    for slot in 0..rdb_check::SLOT_COUNT {
        let owner = target.node_for_slot(slot).unwrap();
        target.set_slot(slot, (owner + 1) % 3);
    }
    let t = write(&mut target, items, false, false, Expiry::Absolute).await;
    assert_eq!((t.restored, t.failed), (300, 0), "{:?}", reasons(&t));

    let mut per_node = Vec::new();
    for n in &nodes {
        let mut c = n.conn().await;
        let mut here = 0;
        for k in &keys {
            let slot: u16 = cmd(&mut c, &["CLUSTER", "KEYSLOT", k]).await;
            assert_eq!(slot, rdb_check::key_slot(k.as_bytes()));
            let mine: i64 = cmd(&mut c, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]).await;
            let exists: Value = redis::cmd("EXISTS")
                .arg(k)
                .query_async(&mut c)
                .await
                .unwrap_or(Value::Nil);
            if exists == Value::Int(1) {
                assert!(mine >= 1);
                here += 1;
            }
        }
        per_node.push(here);
    }
    assert_eq!(per_node.iter().sum::<i32>(), 300, "{per_node:?}");
    assert!(
        per_node.iter().all(|&n| n > 50),
        "spread over the three: {per_node:?}"
    );

    // Pipelined: one round trip per primary for 300 small keys; with little room for waiting bytes, the fullest
    // primary's batch goes as soon as the room is full.
    let items = dump(&mut src, 0, &keys).await;
    let mut target = Target::connect(&TargetUrl::parse(&nodes[0].url()).unwrap())
        .await
        .unwrap();
    let (t, rounds) = write_counting(
        &mut target,
        items.clone(),
        true,
        false,
        Expiry::Absolute,
        PENDING_BYTES,
    )
    .await;
    assert_eq!((t.restored, rounds), (300, 3));
    let one_payload = items[0].payload_bytes as usize + items[0].key.len();
    let (t, rounds) = write_counting(
        &mut target,
        items,
        true,
        false,
        Expiry::Absolute,
        2 * one_payload,
    )
    .await;
    assert_eq!(t.restored, 300);
    assert!(rounds > 100, "{rounds} round trips");

    // A key of another database: SELECT is refused in cluster mode, before anything is written.
    let e = target.check_db(3).await.unwrap_err();
    assert!(matches!(e, CliError::Usage(_)), "{e}");
    // What `ecb diff` reads of it, asked from any node: the three primaries; database 3 refused there too.
    let url = TargetUrl::parse(&nodes[2].url()).unwrap();
    let mut primaries = target::primaries(&url, 0).await.unwrap();
    primaries.sort();
    let mut all: Vec<(String, u16)> = nodes.iter().map(|n| ("127.0.0.1".into(), n.port)).collect();
    all.sort();
    assert_eq!(primaries, all);
    let e = target::primaries(&url, 3).await.unwrap_err();
    assert!(matches!(e, CliError::Usage(_)), "{e}");

    // A slot being migrated: its owner answers ASK for a key it does not have, the importing node takes the key
    // only after ASKING (else it answers MOVED back).
    let key = "user:asked";
    let slot = rdb_check::key_slot(key.as_bytes());
    let from = [5460, 10922, 16383]
        .iter()
        .position(|&end| slot <= end)
        .unwrap();
    let to = (from + 1) % 3;
    let mut c_from = nodes[from].conn().await;
    let mut c_to = nodes[to].conn().await;
    let id_from: String = cmd(&mut c_from, &["CLUSTER", "MYID"]).await;
    let id_to: String = cmd(&mut c_to, &["CLUSTER", "MYID"]).await;
    let slot_text = slot.to_string();
    let _: () = cmd(
        &mut c_to,
        &["CLUSTER", "SETSLOT", &slot_text, "IMPORTING", &id_from],
    )
    .await;
    let _: () = cmd(
        &mut c_from,
        &["CLUSTER", "SETSLOT", &slot_text, "MIGRATING", &id_to],
    )
    .await;
    let _: () = src.set(key, "asked for").await.unwrap();
    let items = dump(&mut src, 0, &[key.to_string()]).await;
    let mut target = Target::connect(&TargetUrl::parse(&nodes[0].url()).unwrap())
        .await
        .unwrap();
    let t = write(&mut target, items, false, false, Expiry::Absolute).await;
    assert_eq!((t.restored, t.failed), (1, 0), "{:?}", reasons(&t));
    let there: i64 = cmd(&mut c_to, &["CLUSTER", "COUNTKEYSINSLOT", &slot_text]).await;
    let here: i64 = cmd(&mut c_from, &["CLUSTER", "COUNTKEYSINSLOT", &slot_text]).await;
    assert_eq!((here, there), (0, 1), "the key went to the importing node");
}

#[tokio::test]
async fn a_server_lost_while_writing_is_unreachable_and_says_the_batch_is_uncertain() {
    let s = Server::start(&["--requirepass", "hidden-pw"]);
    let url = TargetUrl::parse(&format!("redis://:hidden-pw@127.0.0.1:{}", s.port)).unwrap();
    let mut target = Target::connect(&url).await.unwrap();
    let mut c = redis::Client::open(format!("redis://:hidden-pw@127.0.0.1:{}", s.port))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = c.set("k", "v").await.unwrap();
    let items = dump(&mut c, 0, &["k".to_string()]).await;
    let open = url.open_db("127.0.0.1", s.port, 0).await.unwrap();
    let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN")
        .arg("NOSAVE")
        .query_async(&mut c)
        .await;
    let mut w = Writer {
        target: &mut target,
        limits: limits(),
        expiry: Expiry::Absolute,
        replace: false,
        pending: BTreeMap::new(),
        pending_cap: PENDING_BYTES,
        conns: BTreeMap::new(),
        rounds: 0,
        tally: Tally::default(),
    };
    w.limits.max_bulk = 1 << 20;
    w.conns.insert((0, 0), open);
    for i in items {
        w.add(i).await.unwrap();
    }
    let e = w.flush_all().await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, CliError::Unreachable(_)), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{}", s.port)), "{text}");
    assert!(!text.contains("hidden-pw"), "{text}");
    assert!(text.contains("may or may not have been written"), "{text}");
}
