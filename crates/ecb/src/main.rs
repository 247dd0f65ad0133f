//! `ecb`: the operator's command line for elasticache-backup (docs/operations.md). Starts and follows backups,
//! restores and drills through the deployed state machines, lists runs and backups, checks RDB files, previews
//! retention and checks a deployment. The subcommands are in [`cli`]; each prints a table (or `--json`) and exits
//! with a code that says how it went ([`error::CliError`]).

mod backups;
mod cli;
mod commands;
mod deployment;
mod doctor;
mod error;
mod execution;
mod progress;
mod retention;
mod runs;
mod sfn;
mod table;
mod watch;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "ecb", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            return match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ecb: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Check(ref args) => {
            return rdb_check::cli::run(&args.to_rdb_check(cli.global.json));
        }
        _ => {}
    }
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecb: {e}");
            e.exit_code()
        }
    }
}
