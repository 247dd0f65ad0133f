//! `ecb`: the operator's command line for elasticache-backup (the library's documentation has the whole of it).

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use ecb::cli::{Cli, Command};
use ecb::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ecb", &mut script);
            ecb::table::out(String::from_utf8_lossy(&script).trim_end());
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            let mut page = Vec::new();
            return match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => {
                    ecb::table::out(String::from_utf8_lossy(&page).trim_end());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("ecb: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        // rdb-check's command runs its own runtime for s3:// reads: outside ecb's.
        Command::Check(ref args) => {
            return rdb_check::cli::run(&args.to_rdb_check(&cli.global));
        }
        // Key-level reading needs no deployment, and a local file no AWS configuration; walks run outside a runtime.
        Command::Keys(_) | Command::Report(_) | Command::Diff(_) | Command::RestoreKeys(_) => {
            return ecb::recovery::run(&cli.command, &cli.global);
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ecb: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecb: {e}");
            e.exit_code()
        }
    }
}
