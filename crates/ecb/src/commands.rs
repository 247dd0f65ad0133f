//! Each subcommand, given the AWS configuration and the deployment ([`App`]).

use serde_json::json;
use time::OffsetDateTime;

use crate::app::App;
use crate::cli::{BackupArgs, Cli, Command, DrillArgs, Machine, RestoreArgs, WatchArgs};
use crate::error::{CliError, CliResult};
use crate::execution::{self, Target};
use crate::watch::{self, Watched};
use crate::{backups, doctor, evidence, retention, runs, sfn, table};

/// Runs `cli`'s subcommand (all but `check`, `keys`, `report`, `diff`, `restore-keys`, `completions` and `man`, which need no
/// deployment: `main` runs them).
///
/// # Errors
/// The subcommand's ([`CliError`]).
pub async fn run(cli: Cli) -> CliResult<()> {
    let app = App::new(cli.global).await?;
    match cli.command {
        Command::Backup(args) => backup(&app, &args).await,
        Command::Watch(args) => watch_cmd(&app, &args).await,
        Command::Restore(args) => restore(&app, &args).await,
        Command::Drill(args) => drill(&app, &args).await,
        Command::Runs(args) => runs::run(&app, &args).await,
        Command::Backups(args) => backups::list(&app, &args).await,
        Command::Show(args) => backups::show(&app, &args).await,
        Command::Retention(args) => retention::run(&app, &args).await,
        Command::Doctor(args) => doctor::run(&app, &args).await,
        Command::Evidence(args) => evidence::run(&app, &args).await,
        Command::Check(_)
        | Command::Keys(_)
        | Command::Report(_)
        | Command::Diff(_)
        | Command::RestoreKeys(_)
        | Command::Completions { .. }
        | Command::Man => Ok(()),
    }
}

/// Which kind of target `id` is: ElastiCache is asked (DescribeReplicationGroups, then DescribeCacheClusters, then
/// DescribeServerlessCaches).
async fn resolve_id(app: &App, id: &str) -> CliResult<Target> {
    let ec = app.elasticache();
    match ec
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
    {
        Ok(_) => return Ok(Target::ReplicationGroup(id.to_string())),
        Err(e) if code(&e) == Some("ReplicationGroupNotFoundFault") => {}
        Err(e) => {
            return Err(CliError::aws(
                &format!("DescribeReplicationGroups {id} (or say --replication-group / --node)"),
                e,
                &[],
            ));
        }
    }
    match ec
        .describe_cache_clusters()
        .cache_cluster_id(id)
        .send()
        .await
    {
        Ok(_) => return Ok(Target::CacheCluster(id.to_string())),
        Err(e) if code(&e) == Some("CacheClusterNotFound") => {}
        Err(e) => {
            return Err(CliError::aws(
                &format!("DescribeCacheClusters {id}"),
                e,
                &[],
            ));
        }
    }
    match ec
        .describe_serverless_caches()
        .serverless_cache_name(id)
        .send()
        .await
    {
        Ok(_) => Ok(Target::Serverless(id.to_string())),
        Err(e) if code(&e) == Some("ServerlessCacheNotFoundFault") => {
            Err(CliError::NotFound(format!(
                "{id}: no replication group, cache cluster or serverless cache of that id in this region"
            )))
        }
        Err(e) => Err(CliError::aws(
            &format!(
                "DescribeServerlessCaches {id} (or say --replication-group / --node / --serverless)"
            ),
            e,
            &[],
        )),
    }
}

fn code<E: aws_smithy_types::error::metadata::ProvideErrorMetadata>(e: &E) -> Option<&str> {
    e.code()
}

/// The execution name: `--name` (checked) or a readable one for `what`.
fn name_for(given: Option<&str>, what: &str) -> CliResult<String> {
    match given {
        Some(n) => execution::check_name(n).map(|()| n.to_string()),
        None => Ok(execution::execution_name(what, OffsetDateTime::now_utc())),
    }
}

/// Starts `input` on `machine`; with `wait`, follows it and ends as it ends; else prints where it runs.
async fn start_and_maybe_wait(
    app: &App,
    machine: Machine,
    name: &str,
    input: serde_json::Value,
    wait: bool,
    interval: f64,
) -> CliResult<Option<Watched>> {
    let machine_arn = app.deployment.machine(machine)?.to_string();
    let client = app.sfn();
    let arn = sfn::start(&client, &machine_arn, name, &input).await?;
    if !wait {
        if app.global.json {
            table::print_json(
                &json!({"executionArn": arn, "name": name, "machine": machine.label(), "input": input}),
            );
        } else {
            crate::table::out(format!(
                "started {} execution {name}\n  {arn}\n  follow it: ecb watch {name}",
                machine.label()
            ));
        }
        return Ok(None);
    }
    if !app.global.json {
        eprintln!("started {} execution {name} ({arn})", machine.label());
    }
    let watched = watch::follow(&client, &arn, &app.machines(), interval, app.global.json).await?;
    report(app, &watched);
    watch::outcome(&watched.execution)?;
    Ok(Some(watched))
}

/// Prints the end of a watched execution: the summary, or with `--json` the description and the last view.
fn report(app: &App, w: &Watched) {
    if app.global.json {
        table::print_json(&json!({"execution": w.execution, "view": w.view}));
    } else {
        crate::table::out(watch::summary(w));
    }
}

async fn backup(app: &App, args: &BackupArgs) -> CliResult<()> {
    let target = match execution::parse_target(
        &args.target,
        args.node,
        args.replication_group,
        args.serverless,
    )? {
        Target::Id(id) => resolve_id(app, &id).await?,
        t => t,
    };
    let (machine, input) = execution::backup_input(
        &target,
        args,
        app.deployment.bucket.as_deref(),
        app.global.bucket.as_deref(),
    )?;
    let name = name_for(args.name.as_deref(), &args.target)?;
    start_and_maybe_wait(app, machine, &name, input, args.wait, args.interval).await?;
    Ok(())
}

async fn restore(app: &App, args: &RestoreArgs) -> CliResult<()> {
    let bucket = if args.vault {
        Some(app.deployment.vault_bucket()?)
    } else {
        app.deployment.bucket.as_deref()
    };
    let input = execution::restore_input(args, bucket)?;
    let name = name_for(args.name.as_deref(), &format!("restore-{}", args.to))?;
    start_and_maybe_wait(
        app,
        Machine::Restore,
        &name,
        input,
        args.wait,
        args.interval,
    )
    .await?;
    Ok(())
}

async fn drill(app: &App, args: &DrillArgs) -> CliResult<()> {
    let bucket = if args.vault {
        Some(app.deployment.vault_bucket()?)
    } else {
        app.deployment.bucket.as_deref()
    };
    let input = execution::drill_input(args, bucket)?;
    let name = name_for(args.name.as_deref(), &format!("drill-{}", args.target))?;
    start_and_maybe_wait(
        app,
        Machine::Restore,
        &name,
        input,
        args.wait,
        args.interval,
    )
    .await?;
    Ok(())
}

/// `ecb watch`: an ARN, or a name looked up in each known state machine.
async fn watch_cmd(app: &App, args: &WatchArgs) -> CliResult<()> {
    let client = app.sfn();
    let machines = app.machines();
    let arn = if args.execution.starts_with("arn:") {
        args.execution.clone()
    } else {
        execution::check_name(&args.execution).map_err(|_| {
            CliError::Usage(format!(
                "EXECUTION {:?}: neither an execution ARN nor a name (1-80 of A-Z, a-z, 0-9, - and _)",
                args.execution
            ))
        })?;
        find_by_name(&client, &machines, &args.execution).await?
    };
    let watched = watch::follow(&client, &arn, &machines, args.interval, app.global.json).await?;
    report(app, &watched);
    watch::outcome(&watched.execution)
}

/// The ARN of execution `name` of the first known machine that has it.
///
/// # Errors
/// `Usage` when no state machine is known; `NotFound` when none has it.
pub async fn find_by_name(
    client: &aws_sdk_sfn::Client,
    machines: &[(Machine, String)],
    name: &str,
) -> CliResult<String> {
    if machines.is_empty() {
        return Err(CliError::Usage(format!(
            "{name}: no state machine is known to look it up in (give --terraform-dir, ECB_STATE_MACHINE_ARN, …, or the execution ARN)"
        )));
    }
    for (_, machine_arn) in machines {
        let arn = sfn::execution_arn(machine_arn, name);
        match sfn::describe(client, &arn, machines).await {
            Ok(_) => return Ok(arn),
            Err(CliError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Err(CliError::NotFound(format!(
        "{name}: no execution of that name in the {} state machine(s)",
        machines
            .iter()
            .map(|(m, _)| m.label())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
