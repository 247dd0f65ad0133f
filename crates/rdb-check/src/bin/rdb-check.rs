//! `rdb-check FILE|s3://bucket/key ...`: checks RDB files by hand ([`rdb_check::cli`]; `ecb check` is the same
//! command).

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "Check Redis / Valkey RDB files (local paths or s3://bucket/key): structure, every encoding, CRC-64"
)]
struct Args {
    #[command(flatten)]
    check: rdb_check::cli::CheckArgs,
}

fn main() -> ExitCode {
    rdb_check::cli::run(&Args::parse().check)
}
