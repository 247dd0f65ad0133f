//! Starting a replication group's `redis-server` nodes: from the topology at start-up, and at run time for
//! CreateReplicationGroup, seeded from RDB files (one per shard) and, for cluster mode enabled, given the slot
//! ranges of `NodeGroupConfiguration`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use crate::nodes::{NodeOptions, NodeProcess, connect, info_field};
use crate::state::{Group, Node, Shard};
use crate::topology::GroupSpec;

/// Total hash slots of a Redis cluster.
pub const SLOTS: u32 = 16384;

/// What to load a new group with.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// One RDB file per shard, loaded by the shard's primary at start (its replicas then sync from it).
    pub rdbs: Vec<PathBuf>,
    /// Slot range per shard (cluster mode enabled); `None` splits 16384 slots evenly.
    pub slots: Option<Vec<(u16, u16)>>,
    /// `NodeGroupConfiguration.NodeGroupId` per shard, when the request named them (user-supplied ids are kept, as
    /// ElastiCache keeps them); otherwise `0001`, `0002`, ….
    pub node_group_ids: Vec<String>,
}

/// Node ids and slot ranges of a group, before any process is started (what `creating` shows).
pub fn plan_shards(spec: &GroupSpec, node_dir: &Path, seed: &Seed) -> Vec<Shard> {
    (1..=spec.shards)
        .map(|i| {
            let ngid = seed
                .node_group_ids
                .get((i - 1) as usize)
                .cloned()
                .unwrap_or_else(|| format!("{i:04}"));
            let nodes = (1..=(1 + spec.replicas_per_shard))
                .map(|n| {
                    let id = if spec.cluster_mode {
                        format!("{}-{ngid}-{n:03}", spec.id)
                    } else {
                        format!("{}-{n:03}", spec.id)
                    };
                    Node {
                        dir: node_dir.join(&id),
                        cache_cluster_id: id,
                        node_group_id: Some(ngid.clone()),
                        role: if n == 1 { "primary" } else { "replica" }.into(),
                        port: None,
                        engine_version: String::new(),
                        created: OffsetDateTime::now_utc(),
                    }
                })
                .collect();
            let slots = spec.cluster_mode.then(|| {
                seed.slots
                    .as_ref()
                    .and_then(|s| s.get((i - 1) as usize).copied())
                    .unwrap_or_else(|| even_slots(i, spec.shards))
            });
            Shard {
                node_group_id: ngid,
                slots,
                nodes,
            }
        })
        .collect()
}

fn even_slots(i: u32, shards: u32) -> (u16, u16) {
    let per = SLOTS / shards;
    let start = (i - 1) * per;
    let end = if i == shards { SLOTS - 1 } else { i * per - 1 };
    (start as u16, end as u16)
}

/// Starts every node of `spec` (primaries seeded from `seed.rdbs`), forms the cluster or the replication, and
/// returns the group with its processes (dropping a process stops it).
///
/// # Errors
/// A node that does not start (e.g. redis-server refuses the RDB file), or replication / cluster formation failing.
pub async fn start_group(
    spec: &GroupSpec,
    node_dir: &Path,
    redis_server: &str,
    seed: &Seed,
) -> Result<(Group, Vec<NodeProcess>), String> {
    let mut shards = plan_shards(spec, node_dir, seed);
    let mut processes = Vec::new();
    for (i, shard) in shards.iter_mut().enumerate() {
        let mut primary_port = None;
        for node in &mut shard.nodes {
            if primary_port.is_none()
                && let Some(rdb) = seed.rdbs.get(i)
            {
                std::fs::create_dir_all(&node.dir)
                    .and_then(|()| std::fs::copy(rdb, node.dir.join("dump.rdb")).map(|_| ()))
                    .map_err(|e| format!("seed {}: {e}", node.cache_cluster_id))?;
            }
            let opts = NodeOptions {
                redis_server: redis_server.into(),
                cluster_enabled: spec.cluster_mode,
                replica_of: if spec.cluster_mode {
                    None
                } else {
                    primary_port
                },
            };
            let p = NodeProcess::start(&node.dir, &opts)
                .await
                .map_err(|e| format!("node {}: {e}", node.cache_cluster_id))?;
            let port = p.port;
            primary_port.get_or_insert(port);
            let mut c = connect(port).await.map_err(|e| e.to_string())?;
            node.engine_version = info_field(&mut c, "server", "redis_version").await?;
            node.port = Some(port);
            node.created = OffsetDateTime::now_utc();
            processes.push(p);
        }
    }
    if spec.cluster_mode {
        form_cluster(&shards).await?;
    } else {
        wait_replicas_synced(&shards).await?;
    }
    Ok((
        Group {
            spec: spec.clone(),
            shards,
            created: OffsetDateTime::now_utc(),
            status: None,
            tags: spec
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        },
        processes,
    ))
}

/// Waits until `INFO <section>` reports `field:value` on the node on `port` (30 s at most).
async fn wait_for(port: u16, section: &str, field: &str, value: &str) -> Result<(), String> {
    let mut c = connect(port).await.map_err(|e| e.to_string())?;
    for _ in 0..300 {
        if info_field(&mut c, section, field)
            .await
            .is_ok_and(|v| v == value)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("node on port {port}: {field} never became {value}"))
}

/// Waits until every replica of every shard reports `master_link_status:up`.
async fn wait_replicas_synced(shards: &[Shard]) -> Result<(), String> {
    for shard in shards {
        for n in shard.nodes.iter().skip(1) {
            wait_for(
                n.port.unwrap_or(0),
                "replication",
                "master_link_status",
                "up",
            )
            .await?;
        }
    }
    Ok(())
}

/// Waits until `CLUSTER INFO` reports `cluster_state:ok` on the node on `port` (30 s at most).
async fn wait_cluster_ok(port: u16) -> Result<(), String> {
    let mut c = connect(port).await.map_err(|e| e.to_string())?;
    for _ in 0..300 {
        let info: String = redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        if info.lines().any(|l| l.trim() == "cluster_state:ok") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "node on port {port}: cluster_state never became ok"
    ))
}

/// Assigns slot ranges to the shard primaries, joins every node (CLUSTER MEET), attaches replicas
/// (CLUSTER REPLICATE) and waits for `cluster_state:ok` everywhere.
async fn form_cluster(shards: &[Shard]) -> Result<(), String> {
    let all: Vec<u16> = shards
        .iter()
        .flat_map(|s| &s.nodes)
        .filter_map(|n| n.port)
        .collect();
    let first = *all.first().ok_or("cluster without nodes")?;
    for shard in shards {
        let (Some(port), Some((a, b))) = (shard.nodes[0].port, shard.slots) else {
            continue;
        };
        let mut c = connect(port).await.map_err(|e| e.to_string())?;
        // A primary seeded from an RDB already took the slots of its keys at start ("I have keys for unassigned
        // slot N"): add only the rest of its range.
        let owned = owned_slots(&mut c).await?;
        if let Some(outside) = owned.iter().find(|s| !(a..=b).contains(*s)) {
            return Err(format!(
                "shard {} holds keys of slot {outside}, outside its range {a}-{b}",
                shard.node_group_id
            ));
        }
        for (from, to) in missing_ranges(a, b, &owned) {
            let _: String = redis::cmd("CLUSTER")
                .arg("ADDSLOTSRANGE")
                .arg(from)
                .arg(to)
                .query_async(&mut c)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    // Distinct config epochs up front avoid a slow epoch-collision resolution (as `redis-cli --cluster create`).
    for (epoch, &port) in all.iter().enumerate() {
        let mut c = connect(port).await.map_err(|e| e.to_string())?;
        let _: String = redis::cmd("CLUSTER")
            .arg("SET-CONFIG-EPOCH")
            .arg(epoch + 1)
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
    }
    // Each node's cluster bus has its own port (`cluster-port`), which MEET must be told (Redis 7.0).
    let first_bus: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("cluster-port")
        .query_async(&mut connect(first).await.map_err(|e| e.to_string())?)
        .await
        .map_err(|e| e.to_string())?;
    let first_bus = first_bus.get(1).cloned().unwrap_or_else(|| "0".into());
    for &port in &all[1..] {
        let mut c = connect(port).await.map_err(|e| e.to_string())?;
        let _: String = redis::cmd("CLUSTER")
            .arg("MEET")
            .arg("127.0.0.1")
            .arg(first)
            .arg(&first_bus)
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
    }
    for shard in shards {
        let Some(primary_port) = shard.nodes[0].port else {
            continue;
        };
        let mut pc = connect(primary_port).await.map_err(|e| e.to_string())?;
        let primary_id: String = redis::cmd("CLUSTER")
            .arg("MYID")
            .query_async(&mut pc)
            .await
            .map_err(|e| e.to_string())?;
        for n in shard.nodes.iter().skip(1) {
            let port = n.port.unwrap_or(0);
            let mut c = connect(port).await.map_err(|e| e.to_string())?;
            let mut attached = false;
            for _ in 0..300 {
                let known: String = redis::cmd("CLUSTER")
                    .arg("NODES")
                    .query_async(&mut c)
                    .await
                    .map_err(|e| e.to_string())?;
                if known.contains(&primary_id) {
                    let r: redis::RedisResult<String> = redis::cmd("CLUSTER")
                        .arg("REPLICATE")
                        .arg(&primary_id)
                        .query_async(&mut c)
                        .await;
                    if r.is_ok() {
                        attached = true;
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if !attached {
                return Err(format!(
                    "node on port {port} could not replicate {primary_id}"
                ));
            }
        }
    }
    for &port in &all {
        wait_cluster_ok(port).await?;
    }
    wait_replicas_synced(shards).await
}

/// Slots the node on `c` owns (`CLUSTER NODES`, its `myself` line).
async fn owned_slots(c: &mut redis::aio::MultiplexedConnection) -> Result<Vec<u16>, String> {
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(c)
        .await
        .map_err(|e| e.to_string())?;
    let mut owned = Vec::new();
    for line in nodes.lines().filter(|l| l.contains("myself")) {
        for range in line.split_whitespace().skip(8) {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            if let (Ok(a), Ok(b)) = (a.parse::<u16>(), b.parse::<u16>()) {
                owned.extend(a..=b);
            }
        }
    }
    Ok(owned)
}

/// The sub-ranges of `a..=b` not in `owned`.
fn missing_ranges(a: u16, b: u16, owned: &[u16]) -> Vec<(u16, u16)> {
    let owned: std::collections::HashSet<u16> = owned.iter().copied().collect();
    let mut out = Vec::new();
    let mut start = None;
    for s in a..=b {
        match (owned.contains(&s), start) {
            (false, None) => start = Some(s),
            (true, Some(from)) => {
                out.push((from, s - 1));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        out.push((from, b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ranges_skip_owned_slots() {
        assert_eq!(missing_ranges(0, 9, &[]), vec![(0, 9)]);
        assert_eq!(missing_ranges(0, 9, &[0, 4, 5, 9]), vec![(1, 3), (6, 8)]);
        assert!(missing_ranges(0, 2, &[0, 1, 2]).is_empty());
    }

    #[test]
    fn even_slots_cover_every_slot_once() {
        let ranges: Vec<_> = (1..=3).map(|i| even_slots(i, 3)).collect();
        assert_eq!(ranges[0].0, 0);
        assert_eq!(ranges[2].1, 16383);
        assert_eq!(ranges[0].1 + 1, ranges[1].0);
        assert_eq!(ranges[1].1 + 1, ranges[2].0);
    }
}
