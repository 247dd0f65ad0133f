//! `elasticache-emulator`: a local stand-in for the ElastiCache Query API, backed by real `redis-server` processes.
//!
//! ```text
//! elasticache-emulator --topology local/topologies/demo.toml --ready-file /tmp/ec.json
//! ```
//! It starts every node of the topology on a free 127.0.0.1 port, serves the API on another, writes
//! `{"endpoint": "http://127.0.0.1:PORT", "groups": {...}, "serverlessCaches": {...}}` to the ready file, and on SIGINT/SIGTERM stops the nodes.
//! The S3 stand-in is reached through the standard `AWS_ENDPOINT_URL_S3`.

mod api;
mod app;
mod configuration;
mod errors;
mod event_log;
mod events;
mod export;
mod groups;
mod nodes;
mod params;
mod restore;
mod serverless;
mod shapes;
mod state;
mod topology;
mod xml;

use std::path::PathBuf;

use clap::Parser;
use serde_json::json;
use time::OffsetDateTime;

use crate::groups::Seed;
use crate::nodes::{NodeOptions, NodeProcess, connect, info_field};
use crate::state::{Group, Node, Settings, Standalone, State};
use crate::topology::Topology;

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
    /// How ElastiCache may read seed objects: `object-acl` (default regions) or `bucket-policy` (opt-in regions);
    /// default: the region's.
    #[arg(long, value_enum)]
    seeding_route: Option<state::SeedingRoute>,
    /// Object key template of ExportServerlessCacheSnapshot (AWS does not document the names): `{snapshot}` is the
    /// snapshot name, `{shard}` the shard number (0001, ...); without `{shard}` only one-shard caches can export.
    #[arg(long, env = "ECB_EMULATOR_SERVERLESS_EXPORT_KEY", default_value = serverless::DEFAULT_EXPORT_KEY)]
    serverless_export_key: String,
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
    serverless::check_export_key_template(&args.serverless_export_key)?;
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
        Ok((groups, standalone, caches)) => {
            serve(&args, &root, &topology, groups, standalone, caches).await
        }
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
    topology: &Topology,
    groups: Vec<Group>,
    standalone: Vec<Standalone>,
    caches: Vec<(state::ServerlessCache, Vec<NodeProcess>)>,
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
        node_dir: root.join("nodes"),
        redis_server: args.redis_server.clone(),
        seeding_route: args
            .seeding_route
            .unwrap_or_else(|| state::SeedingRoute::of_region(&args.region)),
        serverless_export_key: args.serverless_export_key.clone(),
    });
    for g in groups {
        state.groups.insert(g.spec.id.clone(), g);
    }
    for s in standalone {
        state.standalone.insert(s.spec.id.clone(), s);
    }
    for p in &topology.cache_parameter_group {
        state.parameter_groups.insert(p.name.clone(), p.clone());
    }
    for s in &topology.cache_subnet_group {
        state.subnet_groups.insert(s.name.clone(), s.clone());
    }
    let mut cache_processes = Vec::new();
    for (c, procs) in caches {
        cache_processes.push((serverless::process_key(&c.spec.id), procs));
        state.serverless.insert(c.spec.id.clone(), c);
    }
    let ready = json!({
        "serverlessCaches": state.serverless.values().map(|c| (c.spec.id.clone(), json!({
            "engine": c.spec.engine,
            "ports": c.shards.iter().filter_map(|s| s.nodes.first().and_then(|n| n.port)).collect::<Vec<_>>(),
        }))).collect::<serde_json::Map<_, _>>(),
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
    let app = app::App::new(state, s3);
    // Serverless caches' processes live with the app's, so DeleteServerlessCache can stop them.
    app.processes().extend(cache_processes);

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

/// Replication groups started at once (each start waits on its redis-server processes and replication).
const PARALLEL_GROUP_STARTS: usize = 8;

async fn start_all(
    topology: &Topology,
    root: &std::path::Path,
    redis_server: &str,
    processes: &mut Vec<NodeProcess>,
) -> Result<StartedAll, String> {
    // Groups start PARALLEL_GROUP_STARTS at a time (a fleet topology has dozens), and keep the file's order.
    let specs = topology.replication_group.clone();
    let mut started: Vec<Option<Group>> = vec![None; specs.len()];
    let mut starting = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < specs.len() || !starting.is_empty() {
        while next < specs.len() && starting.len() < PARALLEL_GROUP_STARTS {
            let (i, spec, dir, server) = (
                next,
                specs[next].clone(),
                root.join("nodes"),
                redis_server.to_string(),
            );
            starting.spawn(async move {
                let result = groups::start_group(&spec, &dir, &server, &Seed::default()).await;
                (i, result)
            });
            next += 1;
        }
        if let Some(joined) = starting.join_next().await {
            let (i, result) = joined.map_err(|e| format!("starting a replication group: {e}"))?;
            let (group, procs) = result?;
            processes.extend(procs);
            tracing::info!(replication_group_id = %group.spec.id, "replication group started");
            started[i] = Some(group);
        }
    }
    let groups: Vec<Group> = started.into_iter().flatten().collect();
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
    let mut caches = Vec::new();
    for spec in &topology.serverless_cache {
        let (cache, procs) =
            serverless::start_from_topology(spec, &root.join("nodes"), redis_server)
                .await
                .map_err(|e| format!("serverless cache {}: {e}", spec.id))?;
        tracing::info!(serverless_cache_name = %spec.id, "serverless cache started");
        caches.push((cache, procs));
    }
    Ok((groups, standalone, caches))
}

/// What [`start_all`] started: groups, standalone clusters, serverless caches with their processes.
type StartedAll = (
    Vec<Group>,
    Vec<Standalone>,
    Vec<(state::ServerlessCache, Vec<NodeProcess>)>,
);
