//! `ecb`: the operator's command line for elasticache-backup (the library's documentation has the whole of it).

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use ecb::cli::{Cli, Command};
use ecb::commands;

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
