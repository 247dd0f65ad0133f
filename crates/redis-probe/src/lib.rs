//! The [`DataProbe`] port of `backup-core` over the Redis protocol (the `redis` client crate), used by VerifyRestore
//! only. It sends only commands ElastiCache allows on a cluster it manages: `INFO keyspace`, `READONLY` (so a
//! cluster-mode replica answers for its own slots), `SELECT` and `TYPE`.
//!
//! Plain TCP, or TLS (`rediss://`, certificates checked against the public web PKI roots, which ElastiCache's
//! chain to) for a group with in-transit encryption. No AUTH: a source with an AUTH token is refused by VerifyRestore
//! before it connects (see the README's restore section).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use backup_core::BackupError;
use backup_core::ports::{DataProbe, Endpoint, NodeCounts};
use redis::aio::MultiplexedConnection;

/// Seconds to connect and for each answer.
pub const TIMEOUT_SECONDS: u64 = 10;

/// Connects to each endpoint afresh (a verification makes a handful of calls per shard).
#[derive(Debug, Clone, Default)]
pub struct RedisProbe;

/// The connection URL: `redis://` or, with TLS, `rediss://` (host name checked against the certificate).
pub fn url(endpoint: &Endpoint, tls: bool, db: u64) -> String {
    let scheme = if tls { "rediss" } else { "redis" };
    format!("{scheme}://{}:{}/{db}", endpoint.address, endpoint.port)
}

async fn connect(
    endpoint: &Endpoint,
    tls: bool,
    db: u64,
) -> Result<MultiplexedConnection, BackupError> {
    let url = url(endpoint, tls, db);
    let error = |e: redis::RedisError| BackupError::AwsError {
        message: format!("connecting to {}:{}: {e}", endpoint.address, endpoint.port),
        source: Some(Box::new(e)),
    };
    let client = redis::Client::open(url).map_err(error)?;
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(TIMEOUT_SECONDS)))
        .set_response_timeout(Some(Duration::from_secs(TIMEOUT_SECONDS)));
    let mut c = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(error)?;
    // Cluster mode: lets a replica answer reads of its shard's keys; elsewhere an error, ignored.
    let _: redis::RedisResult<String> = redis::cmd("READONLY").query_async(&mut c).await;
    Ok(c)
}

fn protocol(endpoint: &Endpoint, e: redis::RedisError) -> BackupError {
    BackupError::AwsError {
        message: format!("{}:{}: {e}", endpoint.address, endpoint.port),
        source: Some(Box::new(e)),
    }
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
    #[tracing::instrument(skip(self))]
    async fn counts(&self, endpoint: &Endpoint, tls: bool) -> Result<NodeCounts, BackupError> {
        let mut c = connect(endpoint, tls, 0).await?;
        let info: String = redis::cmd("INFO")
            .arg("keyspace")
            .query_async(&mut c)
            .await
            .map_err(|e| protocol(endpoint, e))?;
        Ok(NodeCounts {
            databases: parse_keyspace(&info),
        })
    }

    #[tracing::instrument(skip(self, keys), fields(keys = keys.len()))]
    async fn key_types(
        &self,
        endpoint: &Endpoint,
        tls: bool,
        db: u64,
        keys: &[String],
    ) -> Result<Vec<String>, BackupError> {
        let mut c = connect(endpoint, tls, db).await?;
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.cmd("TYPE").arg(k);
        }
        pipe.query_async(&mut c)
            .await
            .map_err(|e| protocol(endpoint, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_uses_rediss() {
        let e = Endpoint {
            address: "master.orders.abc123.use1.cache.amazonaws.com".into(),
            port: 6379,
        };
        assert_eq!(
            url(&e, true, 2),
            "rediss://master.orders.abc123.use1.cache.amazonaws.com:6379/2"
        );
        assert_eq!(
            url(&e, false, 0),
            "redis://master.orders.abc123.use1.cache.amazonaws.com:6379/0"
        );
        assert!(
            redis::Client::open(url(&e, true, 0)).is_ok(),
            "the TLS feature is compiled in"
        );
    }

    #[test]
    fn keyspace_lines_give_keys_per_database() {
        let info =
            "# Keyspace\r\ndb0:keys=100,expires=10,avg_ttl=0\r\ndb3:keys=7,expires=0,avg_ttl=0\r\n";
        assert_eq!(parse_keyspace(info), BTreeMap::from([(0, 100), (3, 7)]));
        assert!(parse_keyspace("# Keyspace\r\n").is_empty());
    }
}
