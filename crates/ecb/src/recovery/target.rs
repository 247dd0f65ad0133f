//! The live server `ecb restore-keys` and `ecb diff` talk to (the one implementation of both): a `redis[s]://` URL
//! parsed ([`TargetUrl`]), connected, and what the server is found to be: standalone or cluster mode (`INFO
//! cluster`: `cluster_enabled:1`) and the primaries (`CLUSTER SHARDS`, else `CLUSTER SLOTS`). For `ecb diff`, which
//! only reads, that is all ([`primaries`], then [`TargetUrl::open_db`] per primary; the database from
//! [`TargetUrl::db_to_read`]); for `ecb restore-keys` ([`Target::connect`]) also which hash slots each primary
//! serves, and per primary the engine and the RDB version of its DUMP payloads, the largest bulk string it takes
//! (`proto-max-bulk-len`) and the modules it has loaded.
//!
//! Connections: plain TCP, or TLS (`rediss://`, rustls, certificates checked against the public web PKI roots, which
//! ElastiCache's chain to), with `AUTH` (user name and password from the URL, percent-decoded), as
//! `aws-adapters`' probe (crates/aws-adapters/src/probe.rs) makes them. The password never reaches an error or the
//! output: every message naming the target goes through [`TargetUrl::redact`] or shows [`TargetUrl`]'s `Display`.
//!
//! Only read commands are sent while discovering (`INFO`, `CLUSTER SHARDS`/`SLOTS`, `CONFIG GET`, `MODULE LIST`,
//! `RANDOMKEY`, `MEMORY USAGE`, `DUMP`, `SELECT`): a dry run writes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo, Value};

use crate::error::{CliError, CliResult};

/// The port a URL without one means (Redis' default).
pub const DEFAULT_PORT: u16 = 6379;
/// How long connecting (TCP, TLS, AUTH) to one node may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one answer (a whole pipelined batch) may take.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);
/// `proto-max-bulk-len` assumed where `CONFIG GET` is refused (ElastiCache renames or refuses `CONFIG`): Redis' and
/// Valkey's default, 512 MiB, which ElastiCache does not let a parameter group change.
pub const ASSUMED_PROTO_MAX_BULK_LEN: u64 = 512 * 1024 * 1024;
/// Keys whose `MEMORY USAGE` is above this are not DUMPed to learn the server's RDB version (another is tried).
const VERSION_PROBE_MAX_BYTES: i64 = 1024 * 1024;
/// `RANDOMKEY`s tried per database to find a small key to DUMP.
const VERSION_PROBE_TRIES: usize = 3;
/// Marks a hash slot no primary serves in [`Target`]'s slot table.
const NO_NODE: u16 = u16::MAX;

/// A `redis[s]://[user:password@]host[:port][/db]` URL, parsed. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct TargetUrl {
    /// `rediss://`: TLS.
    pub tls: bool,
    /// Host name or IP address (an IPv6 address without its brackets).
    pub host: String,
    /// Port ([`DEFAULT_PORT`] when the URL has none).
    pub port: u16,
    /// The ACL user (percent-decoded), if the URL names one.
    pub username: Option<String>,
    /// The password (percent-decoded): the secret.
    password: Option<String>,
    /// The password as the URL spelled it (percent-encoded), kept only to redact it.
    password_raw: Option<String>,
    /// The database number in the URL's path (`/3`), if any.
    pub db: Option<u64>,
}

impl TargetUrl {
    /// Parses `text`, the `--to` of `ecb restore-keys`.
    ///
    /// # Errors
    /// As [`TargetUrl::parse_as`].
    pub fn parse(text: &str) -> CliResult<Self> {
        Self::parse_as("--to", text)
    }

    /// Parses `text`, given as the argument `arg` (named in the errors: `--to`, `BACKUP_B`).
    ///
    /// # Errors
    /// [`CliError::Usage`] naming the rule broken (scheme neither `redis` nor `rediss`, no host, a port that is not
    /// 1-65535, a path that is not a database number, a query or fragment, a user name without a password, text that
    /// is not UTF-8 once percent-decoded); the message shows the URL with its credentials redacted.
    pub fn parse_as(arg: &str, text: &str) -> CliResult<Self> {
        let shown = redact_userinfo(text);
        let bad = |why: &str| {
            CliError::Usage(format!(
                "{arg} {shown}: {why} (expected redis[s]://[user:password@]host[:port][/db], the password \
                 percent-encoded)"
            ))
        };
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        let tls = match url.scheme() {
            "redis" => false,
            "rediss" => true,
            other => {
                return Err(bad(&format!(
                    "the scheme {other:?} is neither redis nor rediss"
                )));
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(bad("no host")),
        };
        let port = match url.port() {
            None => DEFAULT_PORT,
            Some(0) => return Err(bad("port 0")),
            Some(p) => p,
        };
        let db = match url.path().trim_start_matches('/') {
            "" => None,
            path => Some(path.parse::<u64>().map_err(|_| {
                bad(&format!(
                    "the path {path:?} is not a database number (/0, /1, …)"
                ))
            })?),
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a query (?…) or fragment (#…) is not supported"));
        }
        let decode = |s: &str, what: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|d| d.into_owned())
                .map_err(|_| bad(&format!("the {what} is not UTF-8 once percent-decoded")))
        };
        let username = match url.username() {
            "" => None,
            u => Some(decode(u, "user name")?),
        };
        let password_raw = url.password().map(str::to_string);
        let password = password_raw
            .as_deref()
            .map(|p| decode(p, "password"))
            .transpose()?;
        if username.is_some() && password.is_none() {
            return Err(bad(
                "a user name needs a password (redis://user:password@host:port)",
            ));
        }
        Ok(Self {
            tls,
            host,
            port,
            username,
            password,
            password_raw,
            db,
        })
    }

    /// `host:port` of the node the URL names (`[v6]:port` for an IPv6 address).
    pub fn addr(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// The database a reader of this URL reads (`ecb diff`): `--db` (`flag`), else the URL's `/db`, else 0.
    /// (`ecb restore-keys` writes keys into the databases they had, so there a `/db` must equal `--db`.)
    ///
    /// # Errors
    /// [`CliError::Usage`] when `--db` and the URL's `/db` are both given and differ.
    pub fn db_to_read(&self, flag: Option<u64>) -> CliResult<u64> {
        match (flag, self.db) {
            (Some(f), Some(u)) if f != u => Err(CliError::Usage(format!(
                "--db {f} and the database of {self} differ: give one"
            ))),
            (f, u) => Ok(f.or(u).unwrap_or(0)),
        }
    }

    /// `redis[s]://host:port/db`, no user and no password: how `ecb diff` names the server it read.
    pub fn label(&self, db: u64) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://{}/{db}", self.addr())
    }

    /// `text` with the password, as given and percent-decoded and re-encoded, replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        let forms = [
            self.password_raw.clone(),
            self.password.clone(),
            self.password.as_deref().map(percent_encode),
        ];
        for form in forms.into_iter().flatten() {
            if !form.is_empty() {
                out = out.replace(&form, "[redacted]");
            }
        }
        out
    }

    /// Connection parameters for `host:port` with this URL's TLS and credentials, in database `db`.
    fn connection_info(&self, host: &str, port: u16, db: u64) -> CliResult<redis::ConnectionInfo> {
        let addr = if self.tls {
            ConnectionAddr::TcpTls {
                host: host.to_string(),
                port,
                insecure: false,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(host.to_string(), port)
        };
        let mut settings =
            RedisConnectionInfo::default().set_db(i64::try_from(db).unwrap_or(i64::MAX));
        if let Some(u) = &self.username {
            settings = settings.set_username(u);
        }
        if let Some(p) = &self.password {
            settings = settings.set_password(p);
        }
        let info = addr
            .into_connection_info()
            .map_err(|e| self.unreachable(host, port, "connecting to", &e))?;
        Ok(info.set_redis_settings(settings))
    }

    /// Opens a connection to `host:port` (TCP or TLS, AUTH), with [`CONNECT_TIMEOUT`] and [`RESPONSE_TIMEOUT`].
    ///
    /// # Errors
    /// [`CliError::Unreachable`] naming the node (never the password): no route, refused, timed out, TLS, AUTH.
    pub async fn open(&self, host: &str, port: u16) -> CliResult<MultiplexedConnection> {
        self.open_db(host, port, 0).await
    }

    /// Opens a connection to `host:port` in database `db` (the client's own `SELECT` while connecting: a database
    /// the node refuses fails the connection, so no command of it can land in another database).
    ///
    /// # Errors
    /// As [`TargetUrl::open`], and a refused `SELECT`.
    pub async fn open_db(
        &self,
        host: &str,
        port: u16,
        db: u64,
    ) -> CliResult<MultiplexedConnection> {
        let client = redis::Client::open(self.connection_info(host, port, db)?)
            .map_err(|e| self.unreachable(host, port, "connecting to", &e))?;
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.unreachable(host, port, "connecting to", &e))
    }

    /// [`CliError::Unreachable`]: `what host:port: error`, redacted (no source kept: it could carry the password).
    pub fn unreachable(
        &self,
        host: &str,
        port: u16,
        what: &str,
        e: &redis::RedisError,
    ) -> CliError {
        CliError::Unreachable(self.redact(&format!("{what} {}: {e}", host_port(host, port))))
    }
}

impl fmt::Display for TargetUrl {
    /// `rediss://user:[redacted]@host:port/db`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "rediss" } else { "redis" };
        write!(f, "{scheme}://")?;
        match (&self.username, &self.password) {
            (Some(u), _) => write!(f, "{}:[redacted]@", percent_encode(u))?,
            (None, Some(_)) => write!(f, ":[redacted]@")?,
            (None, None) => {}
        }
        write!(f, "{}", self.addr())?;
        if let Some(db) = self.db {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TargetUrl({self})")
    }
}

/// Whether the argument `arg` names a live server (`redis://…`, `rediss://…`) rather than a backup.
pub fn is_url(arg: &str) -> bool {
    arg.starts_with("redis://") || arg.starts_with("rediss://")
}

/// `text` with everything between `://` (or the start) and its last `@` replaced by `[redacted]`: a URL that did not
/// parse, shown without what may be its credentials.
pub fn redact_userinfo(text: &str) -> String {
    match text.rfind('@') {
        Some(at) => {
            let start = text
                .find("://")
                .map(|i| i + 3)
                .filter(|&s| s <= at)
                .unwrap_or(0);
            format!("{}[redacted]@{}", &text[..start], &text[at + 1..])
        }
        None => text.to_string(),
    }
}

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is percent-encoded.
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` percent-encoded as a URL's user information is ([`NOT_UNRESERVED`]).
fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, NOT_UNRESERVED).to_string()
}

/// `host:port`, `[v6]:port` for an IPv6 address.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Where a server's RDB version was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSource {
    /// The footer of a `DUMP` of an existing key (exact).
    Dump,
    /// Mapped from `INFO server`'s engine version ([`rdb_version_for`]).
    Info,
}

/// A server's engine and the RDB version its DUMP payloads carry (and its RESTORE accepts up to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    /// `redis` or `valkey` (`INFO server`: `valkey_version` or `server_name:valkey` make it Valkey).
    pub name: String,
    /// The engine's version (`valkey_version`, else `redis_version`), e.g. `7.0.15`.
    pub version: String,
    /// RDB version (Redis `rdb.h` `RDB_VERSION`).
    pub rdb_version: u16,
    /// Where [`Engine::rdb_version`] came from.
    pub source: VersionSource,
}

impl fmt::Display for Engine {
    /// `redis 7.0.15 (RDB 10, from a DUMP)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = match self.source {
            VersionSource::Dump => "from a DUMP",
            VersionSource::Info => "from INFO server",
        };
        write!(
            f,
            "{} {} (RDB {}, {from})",
            self.name, self.version, self.rdb_version
        )
    }
}

/// The RDB version an engine version writes (Redis and Valkey `src/rdb.h` `RDB_VERSION` at each release): Redis
/// < 3.2 → 6, 3.2 → 7, 4.0 → 8, 5.0 and 6.x → 9, 7.0 (and ElastiCache's 7.1) → 10, 7.2 → 11, 7.4 and 8.x → 12 (a
/// later Redis: 12, the newest this tool knows); Valkey 7.2 and 8.x → 11, 9.x and later → 80. `None` when the
/// version does not parse.
pub fn rdb_version_for(engine: &str, version: &str) -> Option<u16> {
    let mut parts = version.split('.').map(str::parse::<u32>);
    let major = parts.next()?.ok()?;
    let minor = parts.next().and_then(Result::ok).unwrap_or(0);
    Some(if engine == "valkey" {
        match major {
            0..=6 => return None,
            7 | 8 => 11,
            _ => 80,
        }
    } else {
        match (major, minor) {
            (0..=2, _) | (3, 0..=1) => 6,
            (3, _) => 7,
            (4, _) => 8,
            (5 | 6, _) => 9,
            (7, 0..=1) => 10,
            (7, 2..=3) => 11,
            _ => 12,
        }
    })
}

/// Why payloads of RDB version `payload` cannot be restored into a server of RDB version `server`, or `None` when
/// they can: a server refuses a payload newer than its own version (`verifyDumpPayload` in rdb.c / cluster.c), and
/// Valkey 9 (RDB 80) also refuses RDB 12 to 79, the versions it reserves for other engines (Redis 7.4 and later).
pub fn incompatibility(payload: u16, server: u16) -> Option<&'static str> {
    if payload > server {
        Some("the payload is newer than the server's RDB version")
    } else if server >= 80 && (12..80).contains(&payload) {
        Some("Valkey 9 and later refuse RDB versions 12 to 79 (Redis 7.4 and later)")
    } else {
        None
    }
}

/// One primary: where it is, its connection and what it was found to be.
pub struct Node {
    /// Host name or address, as the topology (or the URL) names it.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Engine and RDB version.
    pub engine: Engine,
    /// `CONFIG GET proto-max-bulk-len`, `None` when `CONFIG` was refused.
    pub proto_max_bulk_len: Option<u64>,
    /// Names of the loaded modules (`MODULE LIST`), `None` when `MODULE LIST` was refused.
    pub modules: Option<BTreeSet<String>>,
    conn: MultiplexedConnection,
}

impl Node {
    /// `host:port`.
    pub fn addr(&self) -> String {
        host_port(&self.host, self.port)
    }

    /// A handle on the node's connection (multiplexed: handles share one socket).
    pub fn conn(&self) -> MultiplexedConnection {
        self.conn.clone()
    }
}

/// The server written into: one node, or a cluster's primaries and its slot map.
pub struct Target {
    /// The URL as given.
    pub url: TargetUrl,
    /// Cluster mode (`cluster_enabled:1`).
    pub cluster: bool,
    /// The standalone node, or every primary.
    pub nodes: Vec<Node>,
    /// Cluster mode: the index in `nodes` serving each hash slot ([`NO_NODE`] for none); empty when standalone.
    slots: Vec<u16>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url)
            .field("cluster", &self.cluster)
            .field(
                "nodes",
                &self.nodes.iter().map(Node::addr).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// One shard as `CLUSTER SHARDS` / `CLUSTER SLOTS` give it: its primary and slot ranges (inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// The primary's host (the URL's host where the server does not know its own endpoint: `?` or empty).
    pub host: String,
    /// The primary's port (with TLS, `CLUSTER SHARDS`' `tls-port` where given).
    pub port: u16,
    /// Slot ranges, inclusive.
    pub ranges: Vec<(u16, u16)>,
}

impl Target {
    /// Connects to the URL's node and discovers the server: standalone or cluster mode, the primaries (cluster
    /// mode), and for each primary its engine, RDB version, `proto-max-bulk-len` and modules.
    ///
    /// # Errors
    /// [`CliError::Unreachable`] when a node cannot be reached, refuses AUTH or a command needed to discover it
    /// (`INFO`); [`CliError::Usage`] when the URL names a replica of a standalone primary.
    pub async fn connect(url: &TargetUrl) -> CliResult<Self> {
        let mut seed = url.open(&url.host, url.port).await?;
        let shards = cluster_shards(url, &mut seed).await?;
        let mut target = Self {
            url: url.clone(),
            cluster: shards.is_some(),
            nodes: Vec::new(),
            slots: Vec::new(),
        };
        if let Some(shards) = shards {
            target.apply_shards(&shards).await?;
        } else {
            let replication = info(url, &url.host, url.port, &mut seed, "replication").await?;
            if info_field(&replication, "role") == Some("slave") {
                return Err(CliError::Usage(format!(
                    "--to {url}: this node is a replica (INFO replication: role:slave); give its primary ({}), \
                     which replicates to it",
                    info_field(&replication, "master_host").map_or_else(
                        || "master_host unknown".to_string(),
                        |h| host_port(
                            h,
                            info_field(&replication, "master_port")
                                .and_then(|p| p.parse().ok())
                                .unwrap_or(DEFAULT_PORT)
                        )
                    )
                )));
            }
            let node = probe(url, url.host.clone(), url.port, seed).await?;
            target.nodes.push(node);
        }
        Ok(target)
    }

    /// The index in [`Target::nodes`] of the primary that serves `key`: the only node when standalone, else by its
    /// hash slot ([`rdb_check::key_slot`]); `None` when no primary serves the slot.
    pub fn node_for(&self, key: &[u8]) -> Option<usize> {
        if !self.cluster {
            return Some(0);
        }
        self.node_for_slot(rdb_check::key_slot(key))
    }

    /// The index in [`Target::nodes`] of the primary serving hash slot `slot` (cluster mode), if any.
    pub fn node_for_slot(&self, slot: u16) -> Option<usize> {
        match self.slots.get(usize::from(slot)) {
            Some(&i) if i != NO_NODE => Some(usize::from(i)),
            _ => None,
        }
    }

    /// The index of the node at `host:port`, connecting to (and probing) it first when it is not known yet (a
    /// `MOVED` or `ASK` to a node the slot map did not have).
    ///
    /// # Errors
    /// As [`Target::connect`], for that node.
    pub async fn node_at(&mut self, host: &str, port: u16) -> CliResult<usize> {
        if let Some(i) = self
            .nodes
            .iter()
            .position(|n| n.host == host && n.port == port)
        {
            return Ok(i);
        }
        let conn = self.url.open(host, port).await?;
        let node = probe(&self.url, host.to_string(), port, conn).await?;
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    /// Records that `slot` is served by node `index` (a `MOVED` answer).
    pub fn set_slot(&mut self, slot: u16, index: usize) {
        if let (Some(s), Ok(i)) = (self.slots.get_mut(usize::from(slot)), u16::try_from(index)) {
            *s = i;
        }
    }

    /// Reads the slot map again (`CLUSTER SHARDS`/`SLOTS` from the first node that answers), after a `MOVED`.
    ///
    /// # Errors
    /// [`CliError::Unreachable`] when no known node answers.
    pub async fn refresh(&mut self) -> CliResult<()> {
        let mut last = None;
        for i in 0..self.nodes.len() {
            let (host, port) = (self.nodes[i].host.clone(), self.nodes[i].port);
            let mut conn = self.nodes[i].conn();
            match discover_shards(&self.url, &host, port, &mut conn).await {
                Ok(shards) => return self.apply_shards(&shards).await,
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            CliError::Unreachable(format!("{}: no cluster node is known", self.url))
        }))
    }

    /// Rebuilds the slot table from `shards`, connecting to primaries not known yet.
    async fn apply_shards(&mut self, shards: &[ShardInfo]) -> CliResult<()> {
        let mut slots = vec![NO_NODE; usize::from(rdb_check::SLOT_COUNT)];
        for shard in shards {
            let index = self.node_at(&shard.host, shard.port).await?;
            let index = u16::try_from(index).unwrap_or(NO_NODE);
            for &(start, end) in &shard.ranges {
                for slot in start..=end {
                    if let Some(s) = slots.get_mut(usize::from(slot)) {
                        *s = index;
                    }
                }
            }
        }
        self.slots = slots;
        Ok(())
    }

    /// Hash slots no primary serves (cluster mode).
    pub fn unserved_slots(&self) -> usize {
        self.slots.iter().filter(|&&i| i == NO_NODE).count()
    }

    /// The primaries that serve at least one slot (all nodes when standalone).
    pub fn serving(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().enumerate().filter_map(|(i, n)| {
            (!self.cluster || self.slots.iter().any(|&s| usize::from(s) == i)).then_some(n)
        })
    }

    /// The serving node with the lowest RDB version (what every payload must fit).
    pub fn oldest(&self) -> Option<&Node> {
        self.serving().min_by_key(|n| n.engine.rdb_version)
    }

    /// The smallest `proto-max-bulk-len` of the serving nodes, and whether it was assumed
    /// ([`ASSUMED_PROTO_MAX_BULK_LEN`]) because a node refused `CONFIG GET`.
    pub fn proto_max_bulk_len(&self) -> (u64, bool) {
        let mut assumed = false;
        let mut least = u64::MAX;
        for n in self.serving() {
            let v = n.proto_max_bulk_len.unwrap_or_else(|| {
                assumed = true;
                ASSUMED_PROTO_MAX_BULK_LEN
            });
            least = least.min(v);
        }
        if least == u64::MAX {
            (ASSUMED_PROTO_MAX_BULK_LEN, true)
        } else {
            (least, assumed)
        }
    }

    /// The modules every serving node has loaded, `None` when a node refused `MODULE LIST`.
    pub fn modules(&self) -> Option<BTreeSet<String>> {
        let mut all: Option<BTreeSet<String>> = None;
        for n in self.serving() {
            let m = n.modules.as_ref()?;
            all = Some(match all {
                None => m.clone(),
                Some(a) => a.intersection(m).cloned().collect(),
            });
        }
        Some(all.unwrap_or_default())
    }

    /// Checks that every serving node takes `SELECT db` (cluster mode: only database 0, except on Valkey 9 and later
    /// with several databases).
    ///
    /// # Errors
    /// [`CliError::Usage`] naming the node and its answer; [`CliError::Unreachable`] when it cannot be asked.
    pub async fn check_db(&self, db: u64) -> CliResult<()> {
        for n in self.serving() {
            select(&self.url, &n.host, n.port, &mut n.conn(), db, self.cluster).await?;
        }
        Ok(())
    }

    /// `redis 7.0.15 (RDB 10, from a DUMP), standalone at host:port` or `…, cluster mode: 3 primaries`.
    pub fn describe(&self) -> String {
        let engine = self
            .oldest()
            .map_or_else(|| "no primary".to_string(), |n| n.engine.to_string());
        if self.cluster {
            format!(
                "{engine}, cluster mode: {} primaries",
                self.serving().count()
            )
        } else {
            format!("{engine}, standalone at {}", self.url.addr())
        }
    }
}

/// The primaries to read database `db` of (`ecb diff`): the URL's node when standalone (a replica too: it is only
/// read), every primary that serves a slot in cluster mode (`CLUSTER SHARDS`, else `CLUSTER SLOTS`), each as
/// `(host, port)`. Each is connected to and takes `SELECT db` before this returns, so a server that cannot be reached
/// or a database it does not have is refused before anything long starts; open the connections that read with
/// [`TargetUrl::open_db`].
///
/// # Errors
/// [`CliError::Unreachable`] when a node cannot be reached, refuses AUTH, `INFO` or the topology;
/// [`CliError::Usage`] when it refuses `SELECT db`.
pub async fn primaries(url: &TargetUrl, db: u64) -> CliResult<Vec<(String, u16)>> {
    let mut seed = url.open(&url.host, url.port).await?;
    let shards = cluster_shards(url, &mut seed).await?;
    let cluster = shards.is_some();
    let nodes = shards.map_or_else(
        || vec![(url.host.clone(), url.port)],
        |shards| shards.into_iter().map(|s| (s.host, s.port)).collect(),
    );
    for (host, port) in &nodes {
        let mut conn = if (host.as_str(), *port) == (url.host.as_str(), url.port) {
            seed.clone()
        } else {
            url.open(host, *port).await?
        };
        select(url, host, *port, &mut conn, db, cluster).await?;
    }
    Ok(nodes)
}

/// `SELECT db` on `conn` (to `host:port`), to learn whether the node has that database (cluster mode: only 0, except
/// on Valkey 9 and later with several databases).
///
/// # Errors
/// [`CliError::Usage`] naming the node and its answer; [`CliError::Unreachable`] when it cannot be asked.
async fn select(
    url: &TargetUrl,
    host: &str,
    port: u16,
    conn: &mut MultiplexedConnection,
    db: u64,
    cluster: bool,
) -> CliResult<()> {
    let r: redis::RedisResult<Value> = redis::cmd("SELECT").arg(db).query_async(conn).await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() => {
            Err(url.unreachable(host, port, "SELECT on", &e))
        }
        Err(e) => Err(CliError::Usage(url.redact(&format!(
            "database {db} cannot be selected on {} ({}): {e}",
            host_port(host, port),
            if cluster {
                "cluster mode"
            } else {
                "standalone"
            }
        )))),
    }
}

/// `None` for a standalone server, else the shards of its cluster (`INFO cluster`: `cluster_enabled:1`), from the
/// URL's node (`seed`).
///
/// # Errors
/// [`CliError::Unreachable`] when the node refuses `INFO` or the topology.
async fn cluster_shards(
    url: &TargetUrl,
    seed: &mut MultiplexedConnection,
) -> CliResult<Option<Vec<ShardInfo>>> {
    let cluster_info = info(url, &url.host, url.port, seed, "cluster").await?;
    if info_field(&cluster_info, "cluster_enabled") != Some("1") {
        return Ok(None);
    }
    discover_shards(url, &url.host, url.port, seed)
        .await
        .map(Some)
}

/// `INFO section` on `conn`.
async fn info(
    url: &TargetUrl,
    host: &str,
    port: u16,
    conn: &mut MultiplexedConnection,
    section: &str,
) -> CliResult<String> {
    redis::cmd("INFO")
        .arg(section)
        .query_async(conn)
        .await
        .map_err(|e| url.unreachable(host, port, &format!("INFO {section} on"), &e))
}

/// The value of `name` in an `INFO` answer (`name:value` lines).
pub fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        let (k, v) = l.trim_end_matches('\r').split_once(':')?;
        (k == name).then_some(v.trim())
    })
}

/// Databases with keys, from an `INFO keyspace` answer (`db3:keys=7,…`).
fn keyspace_dbs(info: &str) -> Vec<u64> {
    info.lines()
        .filter_map(|l| l.split_once(':')?.0.strip_prefix("db")?.parse().ok())
        .collect()
}

/// The shards of the cluster `conn` belongs to: `CLUSTER SHARDS` (Redis 7.0+, Valkey), else `CLUSTER SLOTS`.
async fn discover_shards(
    url: &TargetUrl,
    host: &str,
    port: u16,
    conn: &mut MultiplexedConnection,
) -> CliResult<Vec<ShardInfo>> {
    let shards: redis::RedisResult<Value> =
        redis::cmd("CLUSTER").arg("SHARDS").query_async(conn).await;
    let parsed = match shards {
        Ok(v) => parse_cluster_shards(&v, url.tls, host),
        Err(e) if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() => {
            return Err(url.unreachable(host, port, "CLUSTER SHARDS on", &e));
        }
        Err(_) => {
            let slots: Value = redis::cmd("CLUSTER")
                .arg("SLOTS")
                .query_async(conn)
                .await
                .map_err(|e| url.unreachable(host, port, "CLUSTER SLOTS on", &e))?;
            parse_cluster_slots(&slots, host)
        }
    };
    let shards = parsed.map_err(|why| {
        CliError::Unreachable(format!(
            "the cluster topology from {}: {why}",
            host_port(host, port)
        ))
    })?;
    if shards.is_empty() {
        return Err(CliError::Unreachable(format!(
            "the cluster at {} serves no hash slot (cluster_state not ok?)",
            host_port(host, port)
        )));
    }
    Ok(shards)
}

/// Text of a bulk, simple or verbatim string.
pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) | Value::VerbatimString { text: s, .. } => Some(s.clone()),
        Value::Okay => Some("OK".to_string()),
        _ => None,
    }
}

/// An integer, or a string holding one.
pub(super) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        other => text(other)?.parse().ok(),
    }
}

/// The entries of a map, RESP3 (`Map`) or RESP2 (a flat array of name, value pairs).
fn map_entries(v: &Value) -> Option<Vec<(String, &Value)>> {
    match v {
        Value::Map(pairs) => pairs.iter().map(|(k, v)| Some((text(k)?, v))).collect(),
        Value::Array(flat) if flat.len().is_multiple_of(2) => flat
            .chunks_exact(2)
            .map(|kv| Some((text(&kv[0])?, &kv[1])))
            .collect(),
        _ => None,
    }
}

fn items(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(a) | Value::Set(a) => Some(a),
        _ => None,
    }
}

/// An endpoint the server does not know (`?`, empty, nil) stands for the host the question was sent to.
fn endpoint_or(endpoint: Option<String>, asked: &str) -> String {
    match endpoint {
        Some(e) if !e.is_empty() && e != "?" => e,
        _ => asked.to_string(),
    }
}

fn slot(v: &Value) -> Option<u16> {
    u16::try_from(int(v)?)
        .ok()
        .filter(|&s| s < rdb_check::SLOT_COUNT)
}

/// The primaries and slot ranges of a `CLUSTER SHARDS` answer (Redis `cluster.c` `clusterCommandShards`): per
/// shard `slots` (a flat list of range bounds) and `nodes` (maps with `endpoint`, `ip`, `port`, `tls-port`, `role`,
/// `health`); the primary is the node with `role` `master` (one whose `health` is `fail` is left out). With TLS
/// the `tls-port` is used where given. Shards without slots are left out.
///
/// # Errors
/// What does not have that shape.
pub fn parse_cluster_shards(v: &Value, tls: bool, asked: &str) -> Result<Vec<ShardInfo>, String> {
    let mut out = Vec::new();
    for shard in items(v).ok_or("CLUSTER SHARDS: not an array")? {
        let fields = map_entries(shard).ok_or("CLUSTER SHARDS: a shard is not a map")?;
        let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
        let bounds: Vec<u16> = get("slots")
            .and_then(items)
            .ok_or("CLUSTER SHARDS: a shard has no slots list")?
            .iter()
            .map(slot)
            .collect::<Option<_>>()
            .ok_or("CLUSTER SHARDS: a slot bound is not 0-16383")?;
        if bounds.is_empty() {
            continue;
        }
        if !bounds.len().is_multiple_of(2) {
            return Err("CLUSTER SHARDS: an odd number of slot bounds".into());
        }
        let ranges = bounds.chunks_exact(2).map(|r| (r[0], r[1])).collect();
        let nodes = get("nodes")
            .and_then(items)
            .ok_or("CLUSTER SHARDS: a shard has no nodes list")?;
        let primary = nodes.iter().find_map(|n| {
            let f = map_entries(n)?;
            let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            let role = field("role").and_then(text)?;
            let health = field("health").and_then(text).unwrap_or_default();
            if role != "master" || health == "fail" {
                return None;
            }
            let port = if tls {
                field("tls-port").or_else(|| field("port"))
            } else {
                field("port")
            };
            let port = u16::try_from(int(port?)?).ok().filter(|&p| p != 0)?;
            let endpoint = field("endpoint").and_then(text);
            Some((endpoint_or(endpoint, asked), port))
        });
        let (host, port) =
            primary.ok_or("CLUSTER SHARDS: a shard with slots has no healthy primary")?;
        out.push(ShardInfo { host, port, ranges });
    }
    Ok(out)
}

/// The primaries and slot ranges of a `CLUSTER SLOTS` answer: `[start, end, [host, port, id, …], replicas…]` per
/// range; ranges of one primary are merged into one [`ShardInfo`].
///
/// # Errors
/// What does not have that shape.
pub fn parse_cluster_slots(v: &Value, asked: &str) -> Result<Vec<ShardInfo>, String> {
    let mut by_node: BTreeMap<(String, u16), Vec<(u16, u16)>> = BTreeMap::new();
    for range in items(v).ok_or("CLUSTER SLOTS: not an array")? {
        let r = items(range).ok_or("CLUSTER SLOTS: a range is not an array")?;
        let (Some(start), Some(end), Some(primary)) = (
            r.first().and_then(slot),
            r.get(1).and_then(slot),
            r.get(2).and_then(items),
        ) else {
            return Err("CLUSTER SLOTS: a range without start, end and primary".into());
        };
        let host = endpoint_or(primary.first().and_then(text), asked);
        let port = primary
            .get(1)
            .and_then(int)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p != 0)
            .ok_or("CLUSTER SLOTS: a primary without a port")?;
        by_node.entry((host, port)).or_default().push((start, end));
    }
    Ok(by_node
        .into_iter()
        .map(|((host, port), ranges)| ShardInfo { host, port, ranges })
        .collect())
}

/// Learns what one node is: engine and RDB version, `proto-max-bulk-len`, modules.
async fn probe(
    url: &TargetUrl,
    host: String,
    port: u16,
    mut conn: MultiplexedConnection,
) -> CliResult<Node> {
    let server = info(url, &host, port, &mut conn, "server").await?;
    let keyspace = info(url, &host, port, &mut conn, "keyspace").await?;
    let engine = engine(&host, port, &mut conn, &server, &keyspace).await?;
    let bulk: redis::RedisResult<Value> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("proto-max-bulk-len")
        .query_async(&mut conn)
        .await;
    let proto_max_bulk_len = bulk.ok().and_then(|v| match v {
        Value::Map(pairs) => pairs.first().and_then(|(_, v)| int(v)),
        other => items(&other).and_then(|a| a.get(1)).and_then(int),
    });
    let proto_max_bulk_len = proto_max_bulk_len.and_then(|v| u64::try_from(v).ok());
    let modules: redis::RedisResult<Value> = redis::cmd("MODULE")
        .arg("LIST")
        .query_async(&mut conn)
        .await;
    let modules = modules.ok().and_then(|v| parse_module_list(&v));
    Ok(Node {
        host,
        port,
        engine,
        proto_max_bulk_len,
        modules,
        conn,
    })
}

/// Module names from a `MODULE LIST` answer (a list of maps with `name`).
pub fn parse_module_list(v: &Value) -> Option<BTreeSet<String>> {
    items(v)?
        .iter()
        .map(|m| {
            map_entries(m)?
                .into_iter()
                .find(|(k, _)| k == "name")
                .and_then(|(_, v)| text(v))
        })
        .collect()
}

/// The node's engine and RDB version: from the footer of a `DUMP` of a small existing key (read-only: `RANDOMKEY`,
/// `MEMORY USAGE`, `DUMP`), else mapped from `INFO server` ([`rdb_version_for`]).
async fn engine(
    host: &str,
    port: u16,
    conn: &mut MultiplexedConnection,
    server: &str,
    keyspace: &str,
) -> CliResult<Engine> {
    let valkey = info_field(server, "valkey_version");
    let (name, version) = match valkey {
        Some(v) => ("valkey", v),
        None if info_field(server, "server_name") == Some("valkey") => (
            "valkey",
            info_field(server, "redis_version").unwrap_or_default(),
        ),
        None => (
            "redis",
            info_field(server, "redis_version").unwrap_or_default(),
        ),
    };
    if let Some(v) = dumped_version(conn, keyspace).await {
        return Ok(Engine {
            name: name.to_string(),
            version: version.to_string(),
            rdb_version: v,
            source: VersionSource::Dump,
        });
    }
    let rdb_version = rdb_version_for(name, version).ok_or_else(|| {
        CliError::Unreachable(format!(
            "{}: cannot tell the RDB version of {name} {version:?} (INFO server), and it has no key to DUMP",
            host_port(host, port)
        ))
    })?;
    Ok(Engine {
        name: name.to_string(),
        version: version.to_string(),
        rdb_version,
        source: VersionSource::Info,
    })
}

/// The RDB version in the footer of a DUMP of some small key of the first databases with keys, if any.
async fn dumped_version(conn: &mut MultiplexedConnection, keyspace: &str) -> Option<u16> {
    for db in keyspace_dbs(keyspace).into_iter().take(4) {
        let selected: redis::RedisResult<Value> =
            redis::cmd("SELECT").arg(db).query_async(conn).await;
        if selected.is_err() {
            continue;
        }
        for _ in 0..VERSION_PROBE_TRIES {
            let key: Option<Vec<u8>> = redis::cmd("RANDOMKEY").query_async(conn).await.ok()?;
            let key = key?;
            let usage: redis::RedisResult<Option<i64>> = redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(&key)
                .arg("SAMPLES")
                .arg(0)
                .query_async(conn)
                .await;
            if matches!(usage, Ok(Some(n)) if n > VERSION_PROBE_MAX_BYTES) {
                continue;
            }
            let dump: Option<Vec<u8>> =
                redis::cmd("DUMP").arg(&key).query_async(conn).await.ok()?;
            if let Some(v) = dump
                .as_deref()
                .and_then(rdb_check::keys::payload_rdb_version)
            {
                let _: redis::RedisResult<Value> =
                    redis::cmd("SELECT").arg(0).query_async(conn).await;
                return Some(v);
            }
        }
    }
    let _: redis::RedisResult<Value> = redis::cmd("SELECT").arg(0).query_async(conn).await;
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn a_plain_url_defaults_to_port_6379_and_no_database() {
        let u = TargetUrl::parse("redis://cache.example.com").unwrap();
        assert!(!u.tls);
        assert_eq!(
            (u.host.as_str(), u.port, u.db),
            ("cache.example.com", 6379, None)
        );
        assert_eq!(u.username, None);
        assert_eq!(u.to_string(), "redis://cache.example.com:6379");
    }

    #[test]
    fn rediss_means_tls_and_the_path_is_the_database() {
        let u = TargetUrl::parse("rediss://10.0.0.5:6380/3").unwrap();
        assert!(u.tls);
        assert_eq!((u.host.as_str(), u.port, u.db), ("10.0.0.5", 6380, Some(3)));
        let info = u.connection_info(&u.host, u.port, 0).unwrap();
        assert!(matches!(
            info.addr(),
            ConnectionAddr::TcpTls {
                insecure: false,
                ..
            }
        ));
        assert!(redis::Client::open(info).is_ok(), "TLS is compiled in");
        // Another node of the cluster (a primary the topology names): the same TLS and credentials.
        let u = TargetUrl::parse("rediss://u:p@10.0.0.1:6379").unwrap();
        let info = u.connection_info("10.0.0.2", 6380, 0).unwrap();
        assert!(
            matches!(info.addr(), ConnectionAddr::TcpTls { host, port: 6380, .. } if host == "10.0.0.2")
        );
        assert_eq!(info.redis_settings().password(), Some("p"));
        assert_eq!(info.redis_settings().username(), Some("u"));
    }

    #[test]
    fn a_reader_reads_the_flags_database_or_the_urls_and_names_the_server_without_credentials() {
        let u = TargetUrl::parse_as("BACKUP_B", "redis://app:s3cr%40t@127.0.0.1:6390/3").unwrap();
        assert_eq!(u.db_to_read(None).unwrap(), 3);
        assert_eq!(u.db_to_read(Some(3)).unwrap(), 3);
        let e = u.db_to_read(Some(4)).unwrap_err();
        assert!(matches!(e, CliError::Usage(_)), "{e}");
        assert!(!e.to_string().contains("s3cr"), "{e}");
        assert_eq!(u.label(3), "redis://127.0.0.1:6390/3");
        let u = TargetUrl::parse("rediss://:tok@cache.example").unwrap();
        assert_eq!(
            (u.db_to_read(None).unwrap(), u.db_to_read(Some(2)).unwrap()),
            (0, 2)
        );
        assert_eq!(u.label(2), "rediss://cache.example:6379/2");
        let e = TargetUrl::parse_as("BACKUP_B", "redis://u:hunter2@").unwrap_err();
        assert!(
            e.to_string().starts_with("BACKUP_B redis://[redacted]@"),
            "{e}"
        );
        assert!(
            is_url("rediss://x")
                && is_url("redis://x")
                && !is_url("s3://b/k")
                && !is_url("dump.rdb")
        );
    }

    #[test]
    fn user_and_password_are_percent_decoded_and_never_shown() {
        let u = TargetUrl::parse("redis://app%2Duser:p%40ss%2Fw%3Ard!@host:7000").unwrap();
        assert_eq!(u.username.as_deref(), Some("app-user"));
        assert_eq!(u.password.as_deref(), Some("p@ss/w:rd!"));
        let info = u.connection_info("host", 7000, 3).unwrap();
        assert_eq!(info.redis_settings().password(), Some("p@ss/w:rd!"));
        assert_eq!(info.redis_settings().db(), 3);
        assert_eq!(info.redis_settings().username(), Some("app-user"));
        let shown = format!("{u} {u:?}");
        assert!(
            !shown.contains("p@ss") && !shown.contains("p%40ss"),
            "{shown}"
        );
        assert!(
            shown.contains("redis://app-user:[redacted]@host:7000"),
            "{shown}"
        );
        let password_only = TargetUrl::parse("redis://:hunter2@host").unwrap();
        assert_eq!(password_only.username, None);
        assert_eq!(password_only.to_string(), "redis://:[redacted]@host:6379");
    }

    #[test]
    fn an_ipv6_host_keeps_its_brackets_only_when_shown() {
        let u = TargetUrl::parse("redis://[::1]:6390").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.addr(), "[::1]:6390");
    }

    #[test]
    fn bad_urls_are_usage_errors_that_never_show_the_password() {
        for (text, rule) in [
            ("http://host:6379", "neither redis nor rediss"),
            ("host:6379", "neither redis nor rediss"),
            ("redis://", "no host"),
            ("redis://host:0", "port 0"),
            ("redis://host:99999", "port"),
            ("redis://host/x", "not a database number"),
            ("redis://host?protocol=resp3", "query"),
            ("redis://user@host", "needs a password"),
            ("redis://u:s3cr%FFet@host", "not UTF-8"),
            ("redis://u:s3cret@host:port", "port"),
        ] {
            let e = TargetUrl::parse(text).unwrap_err();
            let msg = e.to_string();
            assert!(matches!(e, CliError::Usage(_)), "{text}: {msg}");
            assert!(msg.contains(rule), "{text}: {msg}");
            assert!(!msg.contains("s3cr"), "{text}: {msg}");
        }
    }

    #[test]
    fn redaction_covers_every_spelling_of_the_password() {
        let u = TargetUrl::parse("redis://:a%2Fb%40c@h:1").unwrap();
        assert_eq!(
            u.redact("x a/b@c y a%2Fb%40c z"),
            "x [redacted] y [redacted] z"
        );
        assert_eq!(
            redact_userinfo("redis://u:p@ss/x@host:1/0"),
            "redis://[redacted]@host:1/0"
        );
        assert_eq!(redact_userinfo("u:pw@host"), "[redacted]@host");
        assert_eq!(redact_userinfo("redis://host:1"), "redis://host:1");
        // No password: nothing to replace, even with an empty one.
        let none = TargetUrl::parse("redis://h").unwrap();
        assert_eq!(none.redact("abc"), "abc");
    }

    #[test]
    fn engine_versions_map_to_rdb_versions() {
        for (engine, version, rdb) in [
            ("redis", "3.0.7", 6),
            ("redis", "3.2.12", 7),
            ("redis", "4.0.10", 8),
            ("redis", "5.0.6", 9),
            ("redis", "6.2.14", 9),
            ("redis", "7.0.15", 10),
            ("redis", "7.1.0", 10),
            ("redis", "7.2.4", 11),
            ("redis", "7.4.1", 12),
            ("redis", "8.2.3", 12),
            ("valkey", "7.2.7", 11),
            ("valkey", "8.1.0", 11),
            ("valkey", "9.0.0", 80),
        ] {
            assert_eq!(
                rdb_version_for(engine, version),
                Some(rdb),
                "{engine} {version}"
            );
        }
        assert_eq!(rdb_version_for("redis", "x"), None);
        assert_eq!(rdb_version_for("valkey", "6.0"), None);
    }

    #[test]
    fn compatibility_matrix() {
        // (payload, server, restorable)
        for (payload, server, ok) in [
            (9, 9, true),
            (9, 10, true),
            (10, 9, false),
            (11, 10, false),
            (11, 11, true),
            (11, 12, true),
            (12, 11, false),
            (11, 80, true),
            (10, 80, true),
            (12, 80, false),
            (79, 80, false),
            (80, 80, true),
            (80, 12, false),
            (80, 11, false),
        ] {
            assert_eq!(
                incompatibility(payload, server).is_none(),
                ok,
                "payload {payload} into server {server}"
            );
        }
    }

    #[test]
    fn cluster_shards_give_each_primary_and_its_ranges() {
        let node = |role: &str, ip: &str, port: i64, tls_port: Option<i64>, health: &str| {
            let mut f = vec![
                bulk("id"),
                bulk("abc"),
                bulk("port"),
                Value::Int(port),
                bulk("ip"),
                bulk(ip),
                bulk("endpoint"),
                bulk(ip),
                bulk("role"),
                bulk(role),
                bulk("health"),
                bulk(health),
            ];
            if let Some(t) = tls_port {
                f.extend([bulk("tls-port"), Value::Int(t)]);
            }
            Value::Array(f)
        };
        let shard = |slots: Vec<i64>, nodes: Vec<Value>| {
            Value::Array(vec![
                bulk("slots"),
                Value::Array(slots.into_iter().map(Value::Int).collect()),
                bulk("nodes"),
                Value::Array(nodes),
            ])
        };
        let answer = Value::Array(vec![
            shard(
                vec![0, 5460, 10000, 10010],
                vec![
                    node("replica", "10.0.0.2", 7001, None, "online"),
                    node("master", "10.0.0.1", 7000, Some(8000), "online"),
                ],
            ),
            shard(
                vec![5461, 9999],
                vec![node("master", "?", 7002, None, "online")],
            ),
            shard(
                vec![],
                vec![node("master", "10.0.0.9", 7009, None, "online")],
            ),
        ]);
        let shards = parse_cluster_shards(&answer, false, "seed").unwrap();
        assert_eq!(
            shards,
            vec![
                ShardInfo {
                    host: "10.0.0.1".into(),
                    port: 7000,
                    ranges: vec![(0, 5460), (10000, 10010)]
                },
                ShardInfo {
                    host: "seed".into(),
                    port: 7002,
                    ranges: vec![(5461, 9999)]
                },
            ]
        );
        assert_eq!(
            parse_cluster_shards(&answer, true, "seed").unwrap()[0].port,
            8000
        );
        let failed = Value::Array(vec![shard(
            vec![0, 1],
            vec![node("master", "10.0.0.1", 7000, None, "fail")],
        )]);
        assert!(parse_cluster_shards(&failed, false, "seed").is_err());
        // RESP3: maps, not flat arrays.
        let resp3 = Value::Array(vec![Value::Map(vec![
            (
                bulk("slots"),
                Value::Array(vec![Value::Int(0), Value::Int(1)]),
            ),
            (
                bulk("nodes"),
                Value::Array(vec![Value::Map(vec![
                    (bulk("endpoint"), bulk("10.0.0.5")),
                    (bulk("port"), Value::Int(6379)),
                    (bulk("tls-port"), Value::Int(6380)),
                    (bulk("role"), bulk("master")),
                ])]),
            ),
        ])]);
        assert_eq!(
            parse_cluster_shards(&resp3, true, "seed").unwrap(),
            vec![ShardInfo {
                host: "10.0.0.5".into(),
                port: 6380,
                ranges: vec![(0, 1)]
            }]
        );
        assert!(parse_cluster_shards(&bulk("x"), false, "seed").is_err());
    }

    #[test]
    fn cluster_slots_merge_ranges_per_primary() {
        let range = |s: i64, e: i64, host: &str, port: i64| {
            Value::Array(vec![
                Value::Int(s),
                Value::Int(e),
                Value::Array(vec![bulk(host), Value::Int(port), bulk("id")]),
                Value::Array(vec![bulk("replica"), Value::Int(1), bulk("id2")]),
            ])
        };
        let answer = Value::Array(vec![
            range(0, 100, "a", 1),
            range(101, 16383, "", 2),
            range(200, 300, "a", 1),
        ]);
        let shards = parse_cluster_slots(&answer, "seed").unwrap();
        assert_eq!(
            shards,
            vec![
                ShardInfo {
                    host: "a".into(),
                    port: 1,
                    ranges: vec![(0, 100), (200, 300)]
                },
                ShardInfo {
                    host: "seed".into(),
                    port: 2,
                    ranges: vec![(101, 16383)]
                },
            ]
        );
        let out_of_range = Value::Array(vec![range(0, 16384, "a", 1)]);
        assert!(parse_cluster_slots(&out_of_range, "seed").is_err());
    }

    #[test]
    fn info_fields_and_module_lists_are_read() {
        let info =
            "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n";
        assert_eq!(info_field(info, "valkey_version"), Some("8.0.1"));
        assert_eq!(info_field(info, "redis_version"), Some("7.2.4"));
        assert_eq!(info_field(info, "nope"), None);
        assert_eq!(
            keyspace_dbs("# Keyspace\r\ndb0:keys=1,expires=0\r\ndb3:keys=2\r\n"),
            vec![0, 3]
        );
        let list = Value::Array(vec![Value::Array(vec![
            bulk("name"),
            bulk("bf"),
            bulk("ver"),
            Value::Int(20_000),
        ])]);
        assert_eq!(
            parse_module_list(&list),
            Some(BTreeSet::from(["bf".to_string()]))
        );
        assert_eq!(
            parse_module_list(&Value::Array(vec![])),
            Some(BTreeSet::new())
        );
    }
}
