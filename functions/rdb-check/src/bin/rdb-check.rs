//! `rdb-check FILE...`: checks RDB files by hand (e.g. a downloaded backup before a restore) and prints what each
//! holds. `--json` prints one JSON report per file. Exit code 0 when every file is sound, 1 otherwise.

use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "Check Redis / Valkey RDB files: structure, every encoding, CRC-64"
)]
struct Args {
    /// RDB files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON reports.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut ok = true;
    for path in &args.files {
        let result = File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|f| rdb_check::check(std::io::BufReader::new(f)).map_err(|e| e.to_string()));
        match result {
            Ok(report) if args.json => {
                println!(
                    "{}",
                    serde_json::json!({"file": path, "ok": true, "report": report})
                );
            }
            Ok(r) => {
                println!(
                    "{}: OK — {} version {}, {} keys ({} with expiry), {} bytes, CRC-64 {}",
                    path.display(),
                    r.magic,
                    r.version,
                    r.keys,
                    r.keys_with_expiry,
                    r.bytes,
                    r.checksum.as_deref().unwrap_or("none")
                );
                for (db, d) in &r.databases {
                    println!(
                        "  db{db}: {} keys, {} with expiry",
                        d.keys, d.keys_with_expiry
                    );
                }
                let types: Vec<String> = r.types.iter().map(|(t, n)| format!("{t} {n}")).collect();
                println!("  types: {}", types.join(", "));
                if let Some(v) = r.aux.get("redis-ver") {
                    println!("  written by redis-ver {v}");
                }
            }
            Err(e) => {
                ok = false;
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"file": path, "ok": false, "error": e})
                    );
                } else {
                    println!("{}: FAILED — {e}", path.display());
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
