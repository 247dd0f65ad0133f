//! The `rdb-check` command line, shared by the `rdb-check` binary and `ecb check`: checks RDB files by hand (e.g. a
//! backup before a restore) and prints what each holds, with its SHA-256 (compare it with the `sha256` of the object
//! in the backup's manifest) and the Redis Cluster hash slots of its keys (inclusive ranges, `0-5460,10923-16383`).
//! `--json` prints one JSON report per target (`report.slots`, `report.slot_info` as the same range text). Exit code 0
//! when every target is sound, 1 otherwise.
//!
//! `s3://` targets are read with parallel ranged `GetObject` requests ([`crate::s3`]); credentials, region and
//! endpoint come from the usual AWS sources (environment, profile, instance role; `AWS_ENDPOINT_URL` for an S3
//! stand-in).

use std::fs::File;
use std::process::ExitCode;

use crate::Report;

/// `println!` that ends the process quietly (exit code 0, as SIGPIPE would) when stdout is a closed pipe
/// (`rdb-check f.rdb | head`), instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

/// The arguments: the files to check and how to read `s3://` ones.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// RDB files to check: local paths or s3://bucket/key.
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Print JSON reports.
    #[arg(long)]
    pub json: bool,
    /// s3:// targets: bytes per ranged GetObject, in MiB.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub part_mib: u64,
    /// s3:// targets: ranged GetObject requests in flight.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub parallel: u64,
    /// s3:// targets: the AWS region (default: the usual AWS sources).
    #[arg(long)]
    pub region: Option<String>,
    /// s3:// targets: the AWS named profile (default: AWS_PROFILE, else the default profile).
    #[arg(long)]
    pub profile: Option<String>,
    /// Check each file as VerifyShard does across invocations: pause at the first key boundary after every this many
    /// MiB, write the checkpoint as JSON, read it back and go on from it, reading the file again from the
    /// checkpoint's offset (the report and SHA-256 are those of one pass; the JSON report adds `pieces` and
    /// `largestCheckpointBytes`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub pause_every_mib: Option<u64>,
}

/// How a check in pieces went ([`CheckArgs::pause_every_mib`]).
#[derive(Debug, Clone, Copy, Default)]
struct Pieces {
    /// Invocations it took.
    pieces: u64,
    /// The largest checkpoint's JSON, bytes.
    largest_checkpoint: usize,
}

/// Checks a file in pieces of `every` bytes: `open(offset)` gives its bytes from `offset`.
fn check_in_pieces<R: std::io::Read + Send>(
    every: u64,
    mut open: impl FnMut(u64) -> Result<R, String>,
) -> Result<(Report, String, Pieces), String> {
    use crate::resume::{Checkpoint, PauseAt, Progress};
    let mut from: Option<Checkpoint> = None;
    let mut pieces = Pieces::default();
    loop {
        let offset = from.as_ref().map_or(0, Checkpoint::offset);
        let reader = open(from.as_ref().map_or(0, Checkpoint::read_from))?;
        let mut pause = PauseAt(offset.saturating_add(every));
        pieces.pieces += 1;
        match crate::check_and_hash_from(reader, from.as_ref(), &mut pause) {
            Ok(Progress::Finished(report, sha256)) => return Ok((*report, sha256, pieces)),
            Ok(Progress::Paused(c)) => {
                let json = serde_json::to_string(&*c).map_err(|e| e.to_string())?;
                pieces.largest_checkpoint = pieces.largest_checkpoint.max(json.len());
                from = Some(serde_json::from_str(&json).map_err(|e| e.to_string())?);
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Checks every target of `args`, printing one report (or JSON document) per target.
///
/// Returns `ExitCode::SUCCESS` when every target is sound, `ExitCode::FAILURE` otherwise (a missing file, an
/// unreadable object, a corrupt RDB: each named on its line).
pub fn run(args: &CheckArgs) -> ExitCode {
    let mut ok = true;
    for target in &args.targets {
        let result = if target.starts_with("s3://") {
            check_s3(target, args)
        } else if let Some(mib) = args.pause_every_mib {
            check_in_pieces(mib.saturating_mul(1024 * 1024), |offset| {
                use std::io::{Seek, SeekFrom};
                let mut f = File::open(target).map_err(|e| e.to_string())?;
                f.seek(SeekFrom::Start(offset)).map_err(|e| e.to_string())?;
                Ok(std::io::BufReader::new(f))
            })
            .map(|(r, sha, pieces)| (r, sha, Some(pieces)))
        } else {
            File::open(target).map_err(|e| e.to_string()).and_then(|f| {
                crate::check_and_hash(std::io::BufReader::new(f))
                    .map(|(r, sha)| (r, sha, None))
                    .map_err(|e| e.to_string())
            })
        };
        match result {
            Ok((report, sha256, pieces)) if args.json => {
                let mut doc = serde_json::json!({"file": target, "ok": true, "sha256": sha256, "report": report});
                if let Some(p) = pieces {
                    doc["pieces"] = p.pieces.into();
                    doc["largestCheckpointBytes"] = p.largest_checkpoint.into();
                }
                out!("{doc}");
            }
            Ok((r, sha256, pieces)) => {
                print_report(target, &r, &sha256);
                if let Some(p) = pieces {
                    out!(
                        "  checked in {} pieces (largest checkpoint {} bytes)",
                        p.pieces,
                        p.largest_checkpoint
                    );
                }
            }
            Err(e) => {
                ok = false;
                if args.json {
                    out!(
                        "{}",
                        serde_json::json!({"file": target, "ok": false, "error": e})
                    );
                } else {
                    out!("{target}: FAILED — {e}");
                }
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_report(target: &str, r: &Report, sha256: &str) {
    out!(
        "{target}: OK — {} version {}, {} keys ({} with expiry), {} bytes, CRC-64 {}",
        r.magic,
        r.version,
        r.keys,
        r.keys_with_expiry,
        r.bytes,
        r.checksum.as_deref().unwrap_or("none")
    );
    for (db, d) in &r.databases {
        out!(
            "  db{db}: {} keys, {} with expiry",
            d.keys,
            d.keys_with_expiry
        );
    }
    let types: Vec<String> = r.types.iter().map(|(t, n)| format!("{t} {n}")).collect();
    out!("  types: {}", types.join(", "));
    out!("  {}", slots_line("key slots", &r.slots));
    if let Some(info) = &r.slot_info {
        out!(
            "  {}",
            slots_line("slots named by the file's slot info", info)
        );
    }
    for field in ["valkey-ver", "redis-ver"] {
        if let Some(v) = r.aux.get(field) {
            out!("  written by {field} {v}");
            break;
        }
    }
    out!("  sha256 {sha256}");
}

/// `label: N (ranges)`, e.g. `key slots: 5462 (0-5461)`; `none` for an empty set.
fn slots_line(label: &str, slots: &crate::SlotSet) -> String {
    if slots.is_empty() {
        format!("{label}: none")
    } else {
        format!("{label}: {} ({slots})", slots.len())
    }
}

/// `s3://bucket/key` → (bucket, key).
fn parse_s3_url(url: &str) -> Result<(&str, &str), String> {
    url.strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
        .ok_or_else(|| format!("{url}: expected s3://bucket/key"))
}

/// What a check of one target found: the report, the SHA-256, and how a check in pieces went.
type Checked = (Report, String, Option<Pieces>);

#[cfg(feature = "cli-s3")]
fn check_s3(url: &str, args: &CheckArgs) -> Result<Checked, String> {
    use crate::s3::RangeOptions;
    use aws_sdk_s3::error::DisplayErrorContext;

    let (bucket, key) = parse_s3_url(url)?;
    let options = RangeOptions {
        part_bytes: args.part_mib * 1024 * 1024,
        parallel: args.parallel as usize,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    runtime.block_on(async {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = &args.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        let config = loader.load().await;
        let client = aws_sdk_s3::Client::new(&config);
        if let Some(mib) = args.pause_every_mib {
            let handle = tokio::runtime::Handle::current();
            let (bucket, key) = (bucket.to_string(), key.to_string());
            return tokio::task::spawn_blocking(move || {
                check_in_pieces(mib.saturating_mul(1024 * 1024), |offset| {
                    handle
                        .block_on(crate::s3::open_from(
                            &client, &bucket, &key, options, offset,
                        ))
                        .map(|(reader, _)| reader)
                        .map_err(|e| format!("HeadObject: {}", DisplayErrorContext(&e)))
                })
            })
            .await
            .map_err(|e| format!("checker task failed: {e}"))?
            .map(|(r, sha, pieces)| (r, sha, Some(pieces)));
        }
        let (reader, _info) = crate::s3::open(&client, bucket, key, options)
            .await
            .map_err(|e| format!("HeadObject: {}", DisplayErrorContext(&e)))?;
        tokio::task::spawn_blocking(move || crate::check_and_hash(reader))
            .await
            .map_err(|e| format!("checker task failed: {e}"))?
            .map(|(r, sha)| (r, sha, None))
            .map_err(|e| e.to_string())
    })
}

#[cfg(not(feature = "cli-s3"))]
fn check_s3(url: &str, _: &CheckArgs) -> Result<Checked, String> {
    parse_s3_url(url)?;
    Err("this rdb-check was built without S3 support (feature cli-s3)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_need_a_bucket_and_a_key() {
        assert_eq!(
            parse_s3_url("s3://backups/ecb-orders-1a2b3c4d-0001.rdb"),
            Ok(("backups", "ecb-orders-1a2b3c4d-0001.rdb"))
        );
        assert_eq!(parse_s3_url("s3://b/dir/k.rdb"), Ok(("b", "dir/k.rdb")));
        for bad in ["s3://", "s3://bucket", "s3://bucket/", "s3:///key"] {
            assert!(parse_s3_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slot_lines_give_the_count_and_the_ranges() {
        let set: crate::SlotSet = "0-5460,16383-16383".parse().unwrap();
        assert_eq!(
            slots_line("key slots", &set),
            "key slots: 5462 (0-5460,16383-16383)"
        );
        assert_eq!(
            slots_line("key slots", &crate::SlotSet::new()),
            "key slots: none"
        );
    }
}
