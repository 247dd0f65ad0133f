//! The [`DataProbe`] port of `backup-core` over the Redis protocol (the `redis` client crate), used by VerifyRestore
//! only. It sends only commands ElastiCache allows on a cluster it manages: `INFO keyspace`, `READONLY` (so a
//! cluster-mode replica answers for its own slots), `SELECT` and `TYPE`.
//!
//! Plain TCP, or TLS (`rediss://`, certificates checked against the public web PKI roots, which ElastiCache's
//! chain to) for a group with in-transit encryption; with the AUTH token when the group has one. The token never
//! reaches a log or an error.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use backup_core::BackupError;
use backup_core::ports::DataProbe;
use backup_core::resources::{NodeAccess, NodeCounts, Secret};
use redis::aio::MultiplexedConnection;

/// Seconds to connect and for each answer.
pub const TIMEOUT_SECONDS: u64 = 10;

/// Connects to each node afresh (a verification makes a handful of calls per shard).
#[derive(Debug, Clone, Default)]
pub struct RedisProbe;

/// The connection URL: `redis://` or, with TLS, `rediss://` (host name checked against the certificate), with the
/// AUTH token percent-encoded as the password. It holds the secret: never log it.
pub fn url(node: &NodeAccess, db: u64) -> String {
    let scheme = if node.tls { "rediss" } else { "redis" };
    let auth = node
        .auth
        .as_ref()
        .map(|Secret(token)| format!(":{}@", percent_encode(token)))
        .unwrap_or_default();
    format!(
        "{scheme}://{auth}{}:{}/{db}",
        node.endpoint.address, node.endpoint.port
    )
}

/// Encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `text` without the node's token (plain or encoded).
fn redact(text: &str, node: &NodeAccess) -> String {
    match &node.auth {
        Some(Secret(token)) if !token.is_empty() => text
            .replace(token.as_str(), "[redacted]")
            .replace(&percent_encode(token), "[redacted]"),
        _ => text.to_string(),
    }
}

/// An error naming the node and what failed, never the token (no source kept: it could carry the URL). Every
/// failure to talk to the node (no route, refused, timed out, TLS, AUTH, a command refused) is `RestoreUnreachable`:
/// the data could not be checked, which says nothing about whether it is right.
fn failure(node: &NodeAccess, what: &str, e: &redis::RedisError) -> BackupError {
    BackupError::RestoreUnreachable {
        message: format!(
            "{what} {}:{}: {}",
            node.endpoint.address,
            node.endpoint.port,
            redact(&e.to_string(), node)
        ),
    }
}

async fn connect(node: &NodeAccess, db: u64) -> Result<MultiplexedConnection, BackupError> {
    let client =
        redis::Client::open(url(node, db)).map_err(|e| failure(node, "connecting to", &e))?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(TIMEOUT_SECONDS)))
        .set_response_timeout(Some(Duration::from_secs(TIMEOUT_SECONDS)));
    let mut c = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| failure(node, "connecting to", &e))?;
    // Cluster mode: lets a replica answer reads of its shard's keys; elsewhere an error, ignored.
    let _: redis::RedisResult<String> = redis::cmd("READONLY").query_async(&mut c).await;
    Ok(c)
}

/// Keys per database from an `INFO keyspace` answer (`db0:keys=10,expires=1,avg_ttl=0`).
pub fn parse_keyspace(info: &str) -> BTreeMap<u64, u64> {
    info.lines()
        .filter_map(|l| {
            let (db, rest) = l.trim().split_once(':')?;
            let db = db.strip_prefix("db")?.parse().ok()?;
            let keys = rest
                .split(',')
                .find_map(|kv| kv.strip_prefix("keys="))?
                .parse()
                .ok()?;
            Some((db, keys))
        })
        .collect()
}

#[async_trait]
impl DataProbe for RedisProbe {
    #[tracing::instrument(skip_all, fields(node = %node.endpoint.address, port = node.endpoint.port, tls = node.tls))]
    async fn counts(&self, node: &NodeAccess) -> Result<NodeCounts, BackupError> {
        let mut c = connect(node, 0).await?;
        let info: String = redis::cmd("INFO")
            .arg("keyspace")
            .query_async(&mut c)
            .await
            .map_err(|e| failure(node, "INFO keyspace on", &e))?;
        Ok(NodeCounts {
            databases: parse_keyspace(&info),
        })
    }

    #[tracing::instrument(skip_all, fields(node = %node.endpoint.address, db, keys = keys.len()))]
    async fn key_types(
        &self,
        node: &NodeAccess,
        db: u64,
        keys: &[String],
    ) -> Result<Vec<String>, BackupError> {
        let mut c = connect(node, db).await?;
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.cmd("TYPE").arg(k);
        }
        pipe.query_async(&mut c)
            .await
            .map_err(|e| failure(node, "TYPE on", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backup_core::resources::Endpoint;

    fn node(address: &str, port: u16, tls: bool, auth: Option<&str>) -> NodeAccess {
        NodeAccess {
            endpoint: Endpoint {
                address: address.into(),
                port,
            },
            tls,
            auth: auth.map(|a| Secret(a.into())),
        }
    }

    #[test]
    fn tls_uses_rediss_and_the_token_is_the_encoded_password() {
        let host = "master.orders.abc123.use1.cache.amazonaws.com";
        assert_eq!(
            url(&node(host, 6379, true, None), 2),
            format!("rediss://{host}:6379/2")
        );
        assert_eq!(
            url(&node(host, 6379, false, None), 0),
            format!("redis://{host}:6379/0")
        );
        let with_auth = url(&node(host, 6379, true, Some("p@ss/w:rd!0123456")), 0);
        assert_eq!(
            with_auth,
            format!("rediss://:p%40ss%2Fw%3Ard%210123456@{host}:6379/0")
        );
        assert!(
            redis::Client::open(with_auth).is_ok(),
            "TLS is compiled in and the URL parses"
        );
    }

    #[tokio::test]
    async fn a_connection_failure_names_the_node_but_never_the_token() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let n = node("127.0.0.1", closed, false, Some("t0ken-SECRET/0123456789"));
        let err = RedisProbe.counts(&n).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert_eq!(err.error_type(), "RestoreUnreachable", "{text}");
        assert!(text.contains(&format!("127.0.0.1:{closed}")), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }

    #[test]
    fn keyspace_lines_give_keys_per_database() {
        let info =
            "# Keyspace\r\ndb0:keys=100,expires=10,avg_ttl=0\r\ndb3:keys=7,expires=0,avg_ttl=0\r\n";
        assert_eq!(parse_keyspace(info), BTreeMap::from([(0, 100), (3, 7)]));
        assert!(parse_keyspace("# Keyspace\r\n").is_empty());
    }
}
