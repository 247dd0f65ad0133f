//! Real `redis-server` processes: one per node, on a free loopback port, each in its own data directory.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use tokio::process::{Child, Command};

/// A running node.
#[derive(Debug)]
pub struct NodeProcess {
    /// Loopback port.
    pub port: u16,
    child: Child,
}

/// Picks a free TCP port on 127.0.0.1 (bind to port 0, read it, release it).
///
/// # Errors
/// The bind error.
pub fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}

/// How to start one node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// Path or name of the `redis-server` binary.
    pub redis_server: String,
    /// Start with `cluster-enabled yes`.
    pub cluster_enabled: bool,
    /// `replicaof 127.0.0.1 <port>` (cluster mode disabled only).
    pub replica_of: Option<u16>,
}

impl NodeProcess {
    /// Starts `redis-server` on a free port with persistence off (`save ""`; snapshots are explicit BGSAVEs),
    /// `repl-diskless-sync-delay 0` (so replicas sync at once) and `enable-debug-command local` (so the demo can
    /// compare `DEBUG DIGEST-VALUE` per key), then waits until it answers PING.
    ///
    /// # Errors
    /// Spawn failure, or no PING answer within 10 s.
    pub async fn start(dir: &Path, opts: &NodeOptions) -> Result<Self, String> {
        // A free port found by binding port 0 may be taken by someone else before redis-server binds it (other
        // stacks, the other nodes starting at the same time): try new ports a few times.
        let mut last = String::new();
        for _ in 0..4 {
            match Self::start_once(dir, opts).await {
                Ok(node) => return Ok(node),
                Err(e)
                    if e.contains("Failed listening") || e.contains("Address already in use") =>
                {
                    last = e
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    async fn start_once(dir: &Path, opts: &NodeOptions) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let port = free_port().map_err(|e| format!("free port: {e}"))?;
        let mut cmd = Command::new(&opts.redis_server);
        cmd.arg("--port")
            .arg(port.to_string())
            .args([
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "no",
                "--daemonize",
                "no",
            ])
            .arg("--dir")
            .arg(dir)
            .args([
                "--dbfilename",
                "dump.rdb",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args([
                "--repl-diskless-sync-delay",
                "0",
                "--enable-debug-command",
                "local",
            ])
            .args(["--logfile", "redis.log"]);
        if opts.cluster_enabled {
            cmd.args([
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "3000",
            ]);
            // The cluster bus listens on its own free port (`cluster-port`, Redis 7.0): the default, port +
            // 10000, may be taken or beyond 65535.
            let bus = free_port().map_err(|e| format!("free port: {e}"))?;
            cmd.arg("--cluster-port").arg(bus.to_string());
        }
        if let Some(primary) = opts.replica_of {
            cmd.args(["--replicaof", "127.0.0.1"])
                .arg(primary.to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", opts.redis_server))?;
        let mut node = Self { port, child };
        for _ in 0..100 {
            // A node that refuses its RDB file (or its options) exits: say so at once.
            if let Ok(Some(status)) = node.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
                let last = log
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                return Err(format!(
                    "redis-server on port {port} exited ({status}): {last}"
                ));
            }
            if let Ok(mut c) = node.connect().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
            {
                return Ok(node);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "redis-server on port {port} did not answer PING within 10 s"
        ))
    }

    /// A connection to this node.
    ///
    /// # Errors
    /// Connection failure.
    pub async fn connect(&self) -> redis::RedisResult<MultiplexedConnection> {
        connect(self.port).await
    }

    /// Stops the process (SIGKILL; data is disposable).
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// A connection to the node on `port`.
///
/// # Errors
/// Connection failure.
pub async fn connect(port: u16) -> redis::RedisResult<MultiplexedConnection> {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))?
        .get_multiplexed_async_connection()
        .await
}

/// Reads one `field:value` line of `INFO <section>`.
///
/// # Errors
/// Redis errors, or the field missing.
pub async fn info_field(
    c: &mut MultiplexedConnection,
    section: &str,
    field: &str,
) -> Result<String, String> {
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(c)
        .await
        .map_err(|e| e.to_string())?;
    info.lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
        .map(|v| v.trim().to_string())
        .ok_or_else(|| format!("INFO {section} has no {field}"))
}

/// Runs a BGSAVE on the node on `port` and waits until it has written `dump.rdb` (`rdb_saves` advanced, no save in
/// progress). Uses `BGSAVE SCHEDULE`, so a save already running (e.g. for a replica sync) is not an error.
///
/// # Errors
/// Redis errors, `rdb_last_bgsave_status:err`, or no completion within `timeout`.
pub async fn bgsave(port: u16, timeout: Duration) -> Result<(), String> {
    let mut c = connect(port).await.map_err(|e| e.to_string())?;
    let before: u64 = info_field(&mut c, "persistence", "rdb_saves")
        .await?
        .parse()
        .map_err(|_| "rdb_saves")?;
    let _: String = redis::cmd("BGSAVE")
        .arg("SCHEDULE")
        .query_async(&mut c)
        .await
        .map_err(|e| e.to_string())?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let saves: u64 = info_field(&mut c, "persistence", "rdb_saves")
            .await?
            .parse()
            .map_err(|_| "rdb_saves")?;
        let busy = info_field(&mut c, "persistence", "rdb_bgsave_in_progress").await? != "0";
        if saves > before && !busy {
            let status = info_field(&mut c, "persistence", "rdb_last_bgsave_status").await?;
            return if status == "ok" {
                Ok(())
            } else {
                Err(format!("BGSAVE on port {port} ended with status {status}"))
            };
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!(
                "BGSAVE on port {port} did not finish within {timeout:?}"
            ));
        }
    }
}
