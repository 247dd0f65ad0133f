//! `elasticache-emulator`: a local stand-in for the ElastiCache Query API, backed by real `redis-server` processes.
//!
//! ```text
//! elasticache-emulator --topology local/topologies/demo.toml --ready-file /tmp/ec.json
//! ```
//! It starts every node of the topology on a free 127.0.0.1 port, serves the API on another, writes
//! `{"endpoint": "http://127.0.0.1:PORT", "groups": {...}}` to the ready file, and on SIGINT/SIGTERM stops the nodes.
//! The S3 stand-in is reached through the standard `AWS_ENDPOINT_URL_S3`.

mod api;
mod nodes;
mod state;
mod topology;
mod xml;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde_json::json;
use time::OffsetDateTime;

use crate::nodes::{NodeOptions, NodeProcess, connect, info_field};
use crate::state::{Group, Node, Settings, Shard, Standalone, State};
use crate::topology::Topology;

/// Total hash slots of a Redis cluster.
const SLOTS: u32 = 16384;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Local ElastiCache Query API backed by real redis-server processes"
)]
struct Args {
    /// Topology file (TOML).
    #[arg(long)]
    topology: PathBuf,
    /// Port for the API on 127.0.0.1 (0 = a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where node data and kept snapshot RDBs live (default: a temporary directory, removed on exit).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// File to write the endpoint and node ports to, as JSON, once ready.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Minimum seconds a snapshot stays `creating`.
    #[arg(long, default_value_t = 2.0)]
    snapshot_min_seconds: f64,
    /// Seconds before an export's objects are uploaded.
    #[arg(long, default_value_t = 1.0)]
    export_delay_seconds: f64,
    /// The redis-server binary.
    #[arg(long, default_value = "redis-server")]
    redis_server: String,
    /// Region reported in ARNs.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("elasticache-emulator: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.topology)
        .map_err(|e| format!("read {}: {e}", args.topology.display()))?;
    let topology = Topology::parse(&text)?;
    let temp = match &args.state_dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?),
    };
    let root = args
        .state_dir
        .clone()
        .or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()))
        .unwrap_or_default();

    let mut processes = Vec::new();
    let started = start_all(&topology, &root, &args.redis_server, &mut processes).await;
    let result = match started {
        Ok((groups, standalone)) => serve(&args, &root, groups, standalone).await,
        Err(e) => Err(e),
    };
    for p in &mut processes {
        p.stop().await;
    }
    drop(temp);
    result
}

async fn serve(
    args: &Args,
    root: &std::path::Path,
    groups: Vec<Group>,
    standalone: Vec<Standalone>,
) -> Result<(), String> {
    let snapshot_dir = root.join("snapshots");
    std::fs::create_dir_all(&snapshot_dir)
        .map_err(|e| format!("create {}: {e}", snapshot_dir.display()))?;
    let mut state = State::new(Settings {
        snapshot_min_seconds: args.snapshot_min_seconds,
        export_delay_seconds: args.export_delay_seconds,
        region: args.region.clone(),
        account: "123456789012".into(),
        snapshot_dir,
    });
    for g in groups {
        state.groups.insert(g.spec.id.clone(), g);
    }
    for s in standalone {
        state.standalone.insert(s.spec.id.clone(), s);
    }
    let ready = json!({
        "groups": state.groups.values().map(|g| (g.spec.id.clone(), json!({
            "clusterMode": g.spec.cluster_mode,
            "shards": g.shards.iter().map(|s| json!({
                "nodeGroupId": s.node_group_id,
                "nodes": s.nodes.iter().map(|n| json!({"cacheClusterId": n.cache_cluster_id, "role": n.role, "port": n.port})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }))).collect::<serde_json::Map<_, _>>(),
    });

    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let app = api::App::new(state, s3);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut ready = ready;
    ready["endpoint"] = json!(format!("http://{addr}"));
    if let Some(path) = &args.ready_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&ready).unwrap_or_default())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    tracing::info!(endpoint = %format!("http://{addr}"), "ElastiCache emulator ready");
    axum::serve(listener, api::router(app))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("stopping");
}

async fn start_all(
    topology: &Topology,
    root: &std::path::Path,
    redis_server: &str,
    processes: &mut Vec<NodeProcess>,
) -> Result<(Vec<Group>, Vec<Standalone>), String> {
    let mut groups = Vec::new();
    for spec in &topology.replication_group {
        let mut shards = Vec::new();
        for i in 1..=spec.shards {
            let ngid = format!("{i:04}");
            let mut nodes = Vec::new();
            let mut primary_port = None;
            for n in 1..=(1 + spec.replicas_per_shard) {
                let id = if spec.cluster_mode {
                    format!("{}-{ngid}-{n:03}", spec.id)
                } else {
                    format!("{}-{n:03}", spec.id)
                };
                let dir = root.join("nodes").join(&id);
                let opts = NodeOptions {
                    redis_server: redis_server.into(),
                    cluster_enabled: spec.cluster_mode,
                    replica_of: if spec.cluster_mode {
                        None
                    } else {
                        primary_port
                    },
                };
                let p = NodeProcess::start(&dir, &opts).await?;
                let port = p.port;
                primary_port.get_or_insert(port);
                let mut c = connect(port).await.map_err(|e| e.to_string())?;
                let version = info_field(&mut c, "server", "redis_version").await?;
                nodes.push(Node {
                    cache_cluster_id: id,
                    node_group_id: Some(ngid.clone()),
                    role: if n == 1 {
                        "primary".into()
                    } else {
                        "replica".into()
                    },
                    port: Some(port),
                    dir,
                    engine_version: version,
                    created: OffsetDateTime::now_utc(),
                });
                processes.push(p);
            }
            let slots = spec.cluster_mode.then(|| {
                let per = SLOTS / spec.shards;
                let start = (i - 1) * per;
                let end = if i == spec.shards {
                    SLOTS - 1
                } else {
                    i * per - 1
                };
                (start as u16, end as u16)
            });
            shards.push(Shard {
                node_group_id: ngid,
                slots,
                nodes,
            });
        }
        if spec.cluster_mode {
            form_cluster(&shards).await?;
        } else {
            wait_replicas_synced(&shards).await?;
        }
        groups.push(Group {
            spec: spec.clone(),
            shards,
            created: OffsetDateTime::now_utc(),
        });
        tracing::info!(replication_group_id = %spec.id, "replication group started");
    }
    let mut standalone = Vec::new();
    for spec in &topology.cache_cluster {
        let dir = root.join("nodes").join(&spec.id);
        let (port, version) = if spec.engine == "memcached" {
            (None, "1.6.22".to_string())
        } else {
            let opts = NodeOptions {
                redis_server: redis_server.into(),
                cluster_enabled: false,
                replica_of: None,
            };
            let p = NodeProcess::start(&dir, &opts).await?;
            let port = p.port;
            processes.push(p);
            let mut c = connect(port).await.map_err(|e| e.to_string())?;
            (
                Some(port),
                info_field(&mut c, "server", "redis_version").await?,
            )
        };
        standalone.push(Standalone {
            spec: spec.clone(),
            node: Node {
                cache_cluster_id: spec.id.clone(),
                node_group_id: None,
                role: "primary".into(),
                port,
                dir,
                engine_version: version,
                created: OffsetDateTime::now_utc(),
            },
        });
    }
    Ok((groups, standalone))
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
        let _: String = redis::cmd("CLUSTER")
            .arg("ADDSLOTSRANGE")
            .arg(a)
            .arg(b)
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
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
    for &port in &all[1..] {
        let mut c = connect(port).await.map_err(|e| e.to_string())?;
        let _: String = redis::cmd("CLUSTER")
            .arg("MEET")
            .arg("127.0.0.1")
            .arg(first)
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
