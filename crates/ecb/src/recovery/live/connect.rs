//! Reaching the live server of `ecb diff BACKUP redis[s]://…`: the URL ([`Target`], named without its password), the
//! connection ([`live_connect`], this module's own: `ecb restore-keys` has its own target module, to be reconciled
//! with this one), and the primaries to read ([`discover`]: the server itself, or every primary of a cluster-mode
//! server from `CLUSTER SLOTS` / `CLUSTER SHARDS`).

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, Value};

use crate::error::{CliError, CliResult};
use crate::recovery::Env;

/// Connect and reply timeouts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// Whether `arg` names a live server rather than a backup.
pub fn is_url(arg: &str) -> bool {
    arg.starts_with("redis://") || arg.starts_with("rediss://")
}

/// A server URL, parsed, with what is needed to name it without its password.
#[derive(Clone)]
pub struct Target {
    info: ConnectionInfo,
    /// `redis://host:port/db` (no user, no password).
    pub label: String,
    /// The database read (`--db`, else the URL's, else 0).
    pub db: u64,
    secrets: Vec<String>,
}

impl Target {
    /// Parses `url`; `db` (`--db`) overrides a database the URL does not name.
    ///
    /// # Errors
    /// `Usage`: not a redis/rediss URL, no host, a database other than `--db`'s.
    pub fn parse(url: &str, db: Option<u64>) -> CliResult<Self> {
        let secrets = secrets_of(url);
        let redact = |text: &str| redact(text, &secrets);
        let info = url.into_connection_info().map_err(|e| {
            CliError::Usage(format!(
                "BACKUP_B: not a server URL (redis[s]://[user:pass@]host:port[/db]): {}",
                redact(&e.to_string())
            ))
        })?;
        let (host, port, tls) = match info.addr() {
            ConnectionAddr::Tcp(h, p) => (h.clone(), *p, false),
            ConnectionAddr::TcpTls { host, port, .. } => (host.clone(), *port, true),
            _ => {
                return Err(CliError::Usage(
                    "BACKUP_B: only redis:// and rediss:// servers".into(),
                ));
            }
        };
        let url_db = u64::try_from(info.redis_settings().db()).unwrap_or(0);
        let db = match db {
            Some(flag) if url_db != 0 && flag != url_db => {
                return Err(CliError::Usage(format!(
                    "--db {flag} and the URL's database {url_db} differ: give one"
                )));
            }
            Some(flag) => flag,
            None => url_db,
        };
        let settings = info.redis_settings().clone().set_db(
            i64::try_from(db).map_err(|_| CliError::Usage(format!("--db {db}: too large")))?,
        );
        let scheme = if tls { "rediss" } else { "redis" };
        Ok(Self {
            info: info.set_redis_settings(settings),
            label: format!("{scheme}://{host}:{port}/{db}"),
            db,
            secrets,
        })
    }

    pub(super) fn redact(&self, text: &str) -> String {
        redact(text, &self.secrets)
    }

    fn host(&self) -> String {
        match self.info.addr() {
            ConnectionAddr::Tcp(h, _) | ConnectionAddr::TcpTls { host: h, .. } => h.clone(),
            _ => String::new(),
        }
    }

    /// The same credentials, database and TLS at another `host:port` (a cluster's primary).
    fn at(&self, host: &str, port: u16) -> ConnectionInfo {
        let addr = match self.info.addr() {
            ConnectionAddr::TcpTls { insecure, .. } => ConnectionAddr::TcpTls {
                host: host.to_string(),
                port,
                insecure: *insecure,
                tls_params: None,
            },
            _ => ConnectionAddr::Tcp(host.to_string(), port),
        };
        self.info.clone().set_addr(addr)
    }
}

/// The password of `url` as written (percent-encoded or not) and decoded: what must never be printed.
fn secrets_of(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let password = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
    let mut out = vec![password.to_string()];
    if let Ok(decoded) = percent_decode(password) {
        out.push(decoded);
    }
    out.retain(|s| !s.is_empty());
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or(())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// `text` with every secret replaced by `[redacted]`.
fn redact(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "[redacted]"))
}

/// One primary to read.
#[derive(Clone)]
pub struct Node {
    /// `host:port`.
    pub label: String,
    pub(super) info: ConnectionInfo,
}

/// Connects to `info` (a multiplexed async connection; SELECT and AUTH as the info says). This module's own
/// connection code (see the module doc).
pub(super) async fn live_connect(
    target: &Target,
    info: &ConnectionInfo,
    label: &str,
) -> CliResult<MultiplexedConnection> {
    let fail = |e: &redis::RedisError| {
        CliError::Usage(format!(
            "{label}: cannot connect: {}",
            target.redact(&e.to_string())
        ))
    };
    let client = redis::Client::open(info.clone()).map_err(|e| fail(&e))?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(REPLY_TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| fail(&e))
}

/// The primaries to read: the server itself, or every primary of a cluster-mode server. Connects once, so a server
/// that cannot be reached is refused before any backup is read.
///
/// # Errors
/// `Usage`: the server cannot be reached, refuses AUTH or INFO, or a cluster without primaries.
pub fn discover(env: &Env, target: &Target) -> CliResult<Vec<Node>> {
    env.runtime.block_on(async {
        let label = target.label.clone();
        let mut con = live_connect(target, &target.info, &label).await?;
        let fail = |what: &str, e: &redis::RedisError| {
            CliError::Usage(format!(
                "{label}: {what}: {}",
                target.redact(&e.to_string())
            ))
        };
        let info: String = redis::cmd("INFO")
            .arg("cluster")
            .query_async(&mut con)
            .await
            .map_err(|e| fail("INFO cluster", &e))?;
        if !info.lines().any(|l| l.trim() == "cluster_enabled:1") {
            let host = target.host();
            let port = match target.info.addr() {
                ConnectionAddr::Tcp(_, p) | ConnectionAddr::TcpTls { port: p, .. } => *p,
                _ => 0,
            };
            return Ok(vec![Node {
                label: format!("{host}:{port}"),
                info: target.info.clone(),
            }]);
        }
        let slots: Result<Value, _> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut con)
            .await;
        let primaries = match slots {
            Ok(v) => primaries_from_slots(&v),
            Err(_) => {
                let shards: Value = redis::cmd("CLUSTER")
                    .arg("SHARDS")
                    .query_async(&mut con)
                    .await
                    .map_err(|e| fail("CLUSTER SLOTS and CLUSTER SHARDS", &e))?;
                primaries_from_shards(&shards)
            }
        };
        if primaries.is_empty() {
            return Err(CliError::Usage(format!(
                "{label}: cluster mode, but no primary serves a slot"
            )));
        }
        let default_host = target.host();
        Ok(primaries
            .into_iter()
            .map(|(host, port)| {
                // An empty or unknown endpoint means "the address you reached me at".
                let host = if host.is_empty() || host == "?" {
                    default_host.clone()
                } else {
                    host
                };
                Node {
                    label: format!("{host}:{port}"),
                    info: target.at(&host, port),
                }
            })
            .collect())
    })
}

pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        _ => None,
    }
}

pub(super) fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        other => text(other).and_then(|t| t.parse().ok()),
    }
}

/// (host, port) of each slot range's primary (`CLUSTER SLOTS`: `[start, end, [host, port, id, …], replicas…]`),
/// each once, in reply order.
fn primaries_from_slots(v: &Value) -> Vec<(String, u16)> {
    let mut out: Vec<(String, u16)> = Vec::new();
    let Value::Array(ranges) = v else { return out };
    for range in ranges {
        let Value::Array(fields) = range else {
            continue;
        };
        let Some(Value::Array(primary)) = fields.get(2) else {
            continue;
        };
        let host = primary.first().and_then(text).unwrap_or_default();
        let Some(port) = primary
            .get(1)
            .and_then(int)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        if !out.contains(&(host.clone(), port)) {
            out.push((host, port));
        }
    }
    out
}

/// The field/value pairs of a RESP3 map or a RESP2 flat array.
fn pairs(v: &Value) -> Vec<(String, &Value)> {
    match v {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| text(k).map(|k| (k, v)))
            .collect(),
        Value::Array(a) => a
            .chunks(2)
            .filter_map(|c| match c {
                [k, v] => text(k).map(|k| (k, v)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// (host, port) of each shard's primary (`CLUSTER SHARDS`: `nodes` with `role` `master`, `endpoint` or `ip`, `port`
/// or `tls-port`), for shards that serve slots.
fn primaries_from_shards(v: &Value) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    let Value::Array(shards) = v else { return out };
    for shard in shards {
        let fields = pairs(shard);
        let serves = fields
            .iter()
            .any(|(k, v)| k == "slots" && matches!(v, Value::Array(a) if !a.is_empty()));
        let Some((_, Value::Array(nodes))) = fields.iter().find(|(k, _)| k == "nodes") else {
            continue;
        };
        for node in nodes {
            let f = pairs(node);
            let get = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            if serves && get("role").and_then(text).as_deref() == Some("master") {
                let host = get("endpoint")
                    .or_else(|| get("ip"))
                    .and_then(text)
                    .unwrap_or_default();
                let port = get("port")
                    .or_else(|| get("tls-port"))
                    .and_then(int)
                    .and_then(|p| u16::try_from(p).ok());
                if let Some(port) = port {
                    out.push((host, port));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn a_url_is_parsed_and_named_without_its_password() {
        let t = Target::parse("redis://app:s3cr%40t@127.0.0.1:6390/3", None).unwrap();
        assert_eq!(t.label, "redis://127.0.0.1:6390/3");
        assert_eq!(t.db, 3);
        assert_eq!(
            t.redact("auth s3cr%40t failed for s3cr@t"),
            "auth [redacted] failed for [redacted]"
        );
        let t = Target::parse("rediss://:tok@cache.example:6379", Some(2)).unwrap();
        assert_eq!(
            (t.label.as_str(), t.db),
            ("rediss://cache.example:6379/2", 2)
        );
        assert!(matches!(
            Target::parse("redis://h:1/3", Some(4)),
            Err(CliError::Usage(_))
        ));
        let e = Target::parse("redis://u:hunter2@", None)
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(
            is_url("rediss://x")
                && is_url("redis://x")
                && !is_url("s3://b/k")
                && !is_url("dump.rdb")
        );
    }

    #[test]
    fn a_cluster_node_keeps_the_credentials_and_tls() {
        let t = Target::parse("rediss://u:p@10.0.0.1:6379", None).unwrap();
        let info = t.at("10.0.0.2", 6380);
        assert!(
            matches!(info.addr(), ConnectionAddr::TcpTls { host, port: 6380, .. } if host == "10.0.0.2")
        );
        assert_eq!(info.redis_settings().password(), Some("p"));
        assert_eq!(info.redis_settings().username(), Some("u"));
    }

    #[test]
    fn primaries_come_from_cluster_slots_once_each() {
        let range = |start: i64, host: &str, port: i64| {
            Value::Array(vec![
                Value::Int(start),
                Value::Int(start + 99),
                Value::Array(vec![bulk(host), Value::Int(port), bulk("id")]),
                Value::Array(vec![bulk("replica"), Value::Int(1), bulk("id2")]),
            ])
        };
        let v = Value::Array(vec![
            range(0, "10.0.0.1", 7000),
            range(100, "", 7001),
            range(200, "10.0.0.1", 7000),
        ]);
        assert_eq!(
            primaries_from_slots(&v),
            [("10.0.0.1".to_string(), 7000), (String::new(), 7001)]
        );
        assert!(primaries_from_slots(&Value::Nil).is_empty());
    }

    #[test]
    fn primaries_come_from_cluster_shards_that_serve_slots() {
        let node = |role: &str, port: i64| {
            Value::Array(vec![
                bulk("id"),
                bulk("x"),
                bulk("port"),
                Value::Int(port),
                bulk("ip"),
                bulk("10.0.0.9"),
                bulk("endpoint"),
                bulk("node.example"),
                bulk("role"),
                bulk(role),
            ])
        };
        let shard = |slots: Vec<Value>, nodes: Vec<Value>| {
            Value::Array(vec![
                bulk("slots"),
                Value::Array(slots),
                bulk("nodes"),
                Value::Array(nodes),
            ])
        };
        let v = Value::Array(vec![
            shard(
                vec![Value::Int(0), Value::Int(8191)],
                vec![node("master", 7000), node("replica", 7003)],
            ),
            shard(vec![], vec![node("master", 7009)]),
        ]);
        assert_eq!(
            primaries_from_shards(&v),
            [("node.example".to_string(), 7000)]
        );
        let resp3 = Value::Array(vec![Value::Map(vec![
            (
                bulk("slots"),
                Value::Array(vec![Value::Int(0), Value::Int(1)]),
            ),
            (
                bulk("nodes"),
                Value::Array(vec![Value::Map(vec![
                    (bulk("ip"), bulk("10.0.0.5")),
                    (bulk("tls-port"), Value::Int(6380)),
                    (bulk("role"), bulk("master")),
                ])]),
            ),
        ])]);
        assert_eq!(
            primaries_from_shards(&resp3),
            [("10.0.0.5".to_string(), 6380)]
        );
    }
}
