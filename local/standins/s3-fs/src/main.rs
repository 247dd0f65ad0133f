//! `local-s3`: the local S3 stand-in for GB-sized objects: the s3s project's filesystem backend
//! ([`s3s_fs::FileSystem`], crate `s3s-fs`) behind its S3 service ([`s3s::service::S3ServiceBuilder`]), served by
//! hyper on 127.0.0.1. Nothing of S3 is implemented here: this binary wires the two crates together, serves
//! GetObject's bytes in 1 MiB reads instead of s3s-fs's 4 KiB ones (module `body`), creates the buckets it is asked
//! for, counts the requests, and says where it listens.
//!
//! ```text
//! local-s3 --root /tmp/s3 --port 0 --ready-file /tmp/s3.json --bucket backups
//! ```
//! Each bucket is a directory of `--root`, each object a file in it (s3s-fs keeps ETags and metadata beside them in
//! hidden files). Requests are signed (SigV4) with `--access-key` / `--secret-key` (default `test` / `test`, the
//! local stack's credentials). Once listening it writes `{"endpoint": "http://127.0.0.1:PORT"}` to the ready file.
//! `GET /?local-s3-stats` (unsigned) answers the requests counted so far by S3 operation, e.g.
//! `{"requests": {"GetObject": 129, "HeadObject": 1}, "rangedGetObject": 128}`. SIGINT or SIGTERM stops it.
//!
//! What s3s-fs does not do (the local stack keeps moto for the tests that need it; docs/design.md, "The local
//! stack"): bucket policies and ACLs, versioning and delete markers, Object Lock, tagging, and `If-Match` /
//! `If-None-Match` on `GetObject` (it honours them on `PutObject` only). With `--bucket-config-endpoint` (moto),
//! bucket-level configuration (policies, ACLs, ...) is kept there instead (module `config`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

mod body;
mod config;

use clap::Parser;
use http::{Extensions, HeaderMap, Method, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::SimpleAuth;
use s3s::route::S3Route;
use s3s::service::S3ServiceBuilder;
use s3s::{Body, S3Request, S3Response, S3Result};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Local S3 stand-in for GB-sized objects (s3s-fs) on 127.0.0.1"
)]
struct Args {
    /// Directory holding the buckets (created if missing).
    #[arg(long)]
    root: PathBuf,
    /// Port on 127.0.0.1 (0 = a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// File to write `{"endpoint": "http://127.0.0.1:PORT"}` to, once listening.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// A bucket to create at start (repeatable); CreateBucket works too.
    #[arg(long)]
    bucket: Vec<String>,
    /// Access key requests are signed with.
    #[arg(long, default_value = "test")]
    access_key: String,
    /// Secret key requests are signed with.
    #[arg(long, default_value = "test")]
    secret_key: String,
    /// An S3 stand-in that keeps bucket configuration (the local stack's moto): bucket policies, ACLs, ownership
    /// controls, versioning, Object Lock configuration and tagging are read and written there, and buckets are
    /// created and deleted there too (module `config`). Without it those requests are `NotImplemented`.
    #[arg(long)]
    bucket_config_endpoint: Option<String>,
}

/// The query of the request counters, on `/` (s3s routes a request only once its path parses as an S3 path; no S3
/// operation has this parameter).
const STATS_QUERY: &str = "local-s3-stats";

/// Requests counted by S3 operation name, and ranged GetObjects apart.
#[derive(Debug, Default)]
struct Counters {
    by_operation: Mutex<BTreeMap<String, u64>>,
    ranged_get: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> serde_json::Value {
        let by_operation = self
            .by_operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        json!({"requests": by_operation, "rangedGetObject": self.ranged_get.load(Ordering::Relaxed)})
    }
}

/// Counts each request (its operation is known before its input is read) and lets every signed one through: the
/// signature itself is checked by s3s with `SimpleAuth`.
struct Counting(Arc<Counters>);

#[async_trait::async_trait]
impl S3Access for Counting {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let op = cx.s3_op().name();
        if op == "GetObject" && cx.headers().contains_key(http::header::RANGE) {
            self.0.ranged_get.fetch_add(1, Ordering::Relaxed);
        }
        *self
            .0
            .by_operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(op.to_string())
            .or_default() += 1;
        if cx.credentials().is_some() {
            Ok(())
        } else {
            Err(s3s::s3_error!(AccessDenied, "Signed requests only"))
        }
    }
}

/// The requests s3s does not pass to s3s-fs: `GET /?local-s3-stats` (the counters, unsigned), and bucket
/// configuration when there is a [`config::ConfigEndpoint`].
struct Routes {
    counters: Arc<Counters>,
    config: Option<config::ConfigEndpoint>,
}

impl Routes {
    fn is_stats(method: &Method, uri: &Uri) -> bool {
        method == Method::GET && uri.path() == "/" && uri.query() == Some(STATS_QUERY)
    }
}

#[async_trait::async_trait]
impl S3Route for Routes {
    fn is_match(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        ext: &mut Extensions,
    ) -> bool {
        Self::is_stats(method, uri)
            || self
                .config
                .as_ref()
                .is_some_and(|c| c.is_match(method, uri, headers, ext))
    }

    async fn check_access(&self, req: &mut S3Request<Body>) -> S3Result<()> {
        match &self.config {
            Some(c) if !Self::is_stats(&req.method, &req.uri) => c.check_access(req).await,
            _ => Ok(()),
        }
    }

    async fn call(&self, req: S3Request<Body>) -> S3Result<S3Response<Body>> {
        match &self.config {
            Some(c) if !Self::is_stats(&req.method, &req.uri) => {
                *self
                    .counters
                    .by_operation
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry("BucketConfiguration".to_string())
                    .or_default() += 1;
                c.call(req).await
            }
            _ => Ok(S3Response::new(Body::from(
                self.counters.snapshot().to_string(),
            ))),
        }
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("local-s3: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    for bucket in &args.bucket {
        std::fs::create_dir_all(args.root.join(bucket))
            .map_err(|e| format!("create bucket {bucket}: {e}"))?;
    }
    std::fs::create_dir_all(&args.root)
        .map_err(|e| format!("create {}: {e}", args.root.display()))?;
    let config = args
        .bucket_config_endpoint
        .as_deref()
        .map(config::ConfigEndpoint::new);
    if let Some(c) = &config {
        for bucket in &args.bucket {
            c.mirror_bucket(Method::PUT, bucket).await?;
        }
    }
    let fs = body::LargeReads::new(&args.root, config.clone())?;
    let counters = Arc::new(Counters::default());
    let service = {
        let mut b = S3ServiceBuilder::new(fs);
        b.set_auth(SimpleAuth::from_single(
            args.access_key.clone(),
            args.secret_key.clone(),
        ));
        b.set_access(Counting(counters.clone()));
        b.set_route(Routes { counters, config });
        b.build()
    };

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let endpoint = format!("http://{addr}");
    if let Some(path) = &args.ready_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json!({ "endpoint": endpoint }).to_string())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    tracing::info!(%endpoint, root = %args.root.display(), "local S3 ready");

    let http = ConnBuilder::new(TokioExecutor::new());
    let mut stop = std::pin::pin!(shutdown());
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    tracing::warn!(error = %e, "accept");
                    continue;
                }
            },
            () = stop.as_mut() => return Ok(()),
        };
        let conn = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection");
            }
        });
    }
}

/// SIGINT or SIGTERM.
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
