//! The command line: every subcommand and flag, as clap derives it (the man page and the shell completions are
//! generated from this definition: `ecb man`, `ecb completions <shell>`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::recovery::glob::Pattern;
use crate::recovery::kind::Kind;

/// `ecb`: the operator's command line for elasticache-backup.
#[derive(Debug, Parser)]
#[command(
    name = "ecb",
    version,
    about = "Operate elasticache-backup: start and watch backups, restores and drills; list runs and backups; check RDB files; list, report and diff the keys of backups; preview retention; check a deployment",
    long_about = "Operate elasticache-backup: start and watch backups, restores and drills; list runs and backups; check RDB files; list, report and diff the keys of backups; preview retention; check a deployment.\n\nThe deployment (state machine ARNs, bucket, function names) comes from flags, ECB_* environment variables, or `--terraform-dir DIR` (reads `terraform output -json`). AWS credentials, region and endpoints come from the usual AWS sources (`--region`, `--profile`, AWS_ENDPOINT_URL_<SERVICE>).\n\nExit codes: 0 success; 1 the run failed, a check failed, doctor found an error or diff found differences or a key could not be restored; 2 bad usage or input; 3 not found (execution, backup); 4 AWS or a Redis server (diff, restore-keys) refused or could not be reached; 130 interrupted (a watched execution keeps running)."
)]
pub struct Cli {
    /// Where and how.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Clone, Default, Args)]
pub struct Global {
    /// Print JSON for scripts instead of tables and the live view.
    #[arg(long, global = true)]
    pub json: bool,
    /// AWS region (as the AWS CLI's `--region`; default from AWS_REGION or the profile).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS named profile (as the AWS CLI's `--profile`; default from AWS_PROFILE).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// A Terraform working directory of the module: its `terraform output -json` names the deployment.
    #[arg(long, global = true, env = "ECB_TERRAFORM_DIR", value_name = "DIR")]
    pub terraform_dir: Option<PathBuf>,
    /// A saved `terraform output -json` document naming the deployment (instead of running terraform).
    #[arg(long, global = true, env = "ECB_TERRAFORM_OUTPUT", value_name = "FILE")]
    pub terraform_output: Option<PathBuf>,
    /// The backup state machine's ARN (Terraform output `state_machine_arn`).
    #[arg(long, global = true, env = "ECB_STATE_MACHINE_ARN", value_name = "ARN")]
    pub state_machine_arn: Option<String>,
    /// The restore state machine's ARN (Terraform output `restore_state_machine_arn`).
    #[arg(
        long,
        global = true,
        env = "ECB_RESTORE_STATE_MACHINE_ARN",
        value_name = "ARN"
    )]
    pub restore_state_machine_arn: Option<String>,
    /// The fleet state machine's ARN (Terraform output `fleet_state_machine_arn`).
    #[arg(
        long,
        global = true,
        env = "ECB_FLEET_STATE_MACHINE_ARN",
        value_name = "ARN"
    )]
    pub fleet_state_machine_arn: Option<String>,
    /// The export bucket (Terraform output `bucket_name`).
    #[arg(long, global = true, env = "ECB_BUCKET", value_name = "BUCKET")]
    pub bucket: Option<String>,
    /// The vault bucket in the vault account (Terraform output `vault`, its `bucket`): `restore --vault` and
    /// `drill --vault` read backups there.
    #[arg(long, global = true, env = "ECB_VAULT_BUCKET", value_name = "BUCKET")]
    pub vault_bucket: Option<String>,
    /// The evidence policy document, a JSON file (Terraform output `evidence_policy`): schedules with their
    /// rpoHours, drills with their rtoMinutes, the DR and vault buckets.
    #[arg(long, global = true, env = "ECB_EVIDENCE_POLICY", value_name = "FILE")]
    pub evidence_policy: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a backup: TARGET is a replication group, a node (cache cluster) or a `key=value[,key=value]` tag selector
    /// (a fleet)
    Backup(BackupArgs),
    /// Recent executions as a table: target, kind, started, duration, status, failed step and error
    Runs(RunsArgs),
    /// Attach to one execution (ARN or name) and follow it to its end
    Watch(WatchArgs),
    /// Backups from the manifests in the bucket: data time, target, shards, keys, size, drill, retention
    Backups(BackupsArgs),
    /// One backup's manifest, readable (s3://bucket/<export>.manifest.json, the export name, or the manifest key)
    Show(ShowArgs),
    /// Check RDB files (local paths or s3://bucket/key): structure, every encoding, CRC-64, SHA-256. The same as
    /// `rdb-check`: exit 0 when every file is sound, 1 otherwise (also for a file or object that is not there)
    Check(CheckArgs),
    /// List the keys of a backup (a local .rdb file, an S3 object or a manifest): database, type, encoding, expiry,
    /// size, key
    ///
    /// BACKUP is a local .rdb file, `s3://bucket/key.rdb` or `s3://bucket/<export>.manifest.json` (every shard). No
    /// deployment is needed, and a local file needs no AWS configuration. `--match` takes Redis glob patterns as SCAN
    /// MATCH does. Exit 2 for bad input (a flag, a pattern, a backup that is not a sound RDB file), 3 when the backup
    /// is not there.
    Keys(KeysArgs),
    /// What a backup holds: keys and bytes per type, encoding, database and key prefix, the biggest keys, TTLs, shards
    ///
    /// Prefixes are split at `:` to depth 2 (`user:*`, `user:42:*`); bytes are the keys' bytes in the RDB file. In the
    /// manner of the memory reports of redis-rdb-tools and rdr.
    Report(ReportArgs),
    /// Keys added, removed and changed between two backups, or a backup and a live server; exit 1 when any differ
    ///
    /// B may be a live server, `redis[s]://[user:pass@]host:port[/db]` (SCAN, DUMP, PTTL; every primary of a
    /// cluster-mode server). Values are compared by logical digest, independent of the encoding; expiries too. The
    /// table shows at most --limit rows per kind (--json lists all). Exit 0 when nothing differs, 1 when something
    /// does (as diff(1)), 2 for bad input, 3 when a backup is not there, 4 when AWS or the server cannot be reached or
    /// refuses (AUTH, a command).
    Diff(DiffArgs),
    /// Restore a backup into a new replication group through the restore state machine
    Restore(RestoreArgs),
    /// Put the keys of a backup that match a pattern back into a live server (RESTORE with the exact DUMP payload
    /// built from the backup; existing keys are never overwritten without --replace). Exit 0 when no key failed, 1
    /// when any did, 2 for bad input (a corrupt backup, a server too old for its payloads), 4 when the server cannot
    /// be reached or refuses AUTH; nothing is written before the whole backup has been checked
    RestoreKeys(RestoreKeysArgs),
    /// Drill: restore the newest verified backup of TARGET into a throwaway group, verify it, delete the group
    Drill(DrillArgs),
    /// What retention would delete (dry run unless --apply), as the retention function decides it
    Retention(RetentionArgs),
    /// Check a deployment the way an operator would before trusting it; exit 1 on any error-level finding
    Doctor(DoctorArgs),
    /// Audit evidence per target: schedules, every run, every verified backup (data time, keys, size, SHA-256,
    /// where its copies are), every drill, retention deletions, the largest gap, and whether RPO and RTO were met
    ///
    /// Built from the manifests, drill reports and retention reports in the bucket and the executions of the backup
    /// and restore state machines. RPO and RTO come from the evidence policy (Terraform output evidence_policy, or
    /// --evidence-policy FILE); without one every target is held to an RPO of 25 h and the report says no policy
    /// was found. Exit 2 for bad input (--since, an unknown --target), 4 when AWS cannot be read.
    Evidence(EvidenceArgs),
    /// Print shell completions for SHELL to stdout
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout
    Man,
}

/// `ecb backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// A replication group id, a cache cluster (node) id, an ElastiCache Serverless cache name, or a tag selector
    /// `key=value[,key=value]` (groups, standalone clusters and serverless caches carrying those tags).
    pub target: String,
    /// Take TARGET as a cache cluster (node) id without asking ElastiCache which kind it is.
    #[arg(long, conflicts_with_all = ["replication_group", "serverless"])]
    pub node: bool,
    /// Take TARGET as a replication group id without asking ElastiCache which kind it is.
    #[arg(long, conflicts_with = "serverless")]
    pub replication_group: bool,
    /// Take TARGET as an ElastiCache Serverless cache name without asking ElastiCache which kind it is.
    #[arg(long)]
    pub serverless: bool,
    /// Follow the execution to its end with a live view; the exit code is the run's.
    #[arg(long)]
    pub wait: bool,
    /// The execution name (default `ecb-<target>-<UTC time>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Keep the ElastiCache snapshot after the verified export (default: deleted).
    #[arg(long)]
    pub keep_source_snapshot: bool,
    /// Seconds one VerifyShard invocation checks before it hands a checkpoint to the next, 1-840 (default: the
    /// deployment's, 720).
    #[arg(long)]
    pub verify_budget_seconds: Option<u64>,
    /// A fleet's concurrent child executions, 1-40 (tag selector only).
    #[arg(long)]
    pub max_concurrency: Option<u64>,
    /// Seconds between checks of the execution while waiting.
    #[arg(long, default_value_t = 2.0, value_parser = parse_interval)]
    pub interval: f64,
}

/// `ecb check` (the `rdb-check` command: [`rdb_check::cli`]).
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// RDB files to check: local paths or s3://bucket/key.
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// s3:// targets: bytes per ranged GetObject, in MiB.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub part_mib: u64,
    /// s3:// targets: ranged GetObject requests in flight.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub parallel: u64,
}

impl CheckArgs {
    /// The `rdb-check` arguments, with `--json`, `--region` and `--profile` from the global flags.
    pub fn to_rdb_check(&self, global: &Global) -> rdb_check::cli::CheckArgs {
        rdb_check::cli::CheckArgs {
            targets: self.targets.clone(),
            json: global.json,
            part_mib: self.part_mib,
            parallel: self.parallel,
            region: global.region.clone(),
            profile: global.profile.clone(),
            pause_every_mib: None,
        }
    }
}

/// How `s3://` backups are read (`ecb keys`, `ecb report`, `ecb diff`).
#[derive(Debug, Clone, Args)]
pub struct S3ReadArgs {
    /// s3:// backups: bytes per ranged GetObject, in MiB.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub part_mib: u64,
    /// s3:// backups: ranged GetObject requests in flight.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub parallel: u64,
}

/// `ecb keys`.
#[derive(Debug, Clone, Args)]
pub struct KeysArgs {
    /// A local .rdb file, `s3://bucket/key.rdb` (one shard) or `s3://bucket/<export>.manifest.json` (every shard).
    pub backup: String,
    /// Only keys matching this Redis glob (`*`, `?`, `[a-z]`, `[^…]`, `\` escapes; as SCAN MATCH). An unclosed `[`
    /// is refused.
    #[arg(long = "match", value_name = "GLOB", value_parser = parse_pattern)]
    pub pattern: Option<Pattern>,
    /// Only keys of this database.
    #[arg(long, value_name = "N")]
    pub db: Option<u64>,
    /// Only keys of this type.
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: Option<Kind>,
    /// With --json: add each key's DUMP payload, base64 (`dumpBase64`: what DUMP returns, for RESTORE).
    #[arg(long)]
    pub payload: bool,
    /// How s3:// backups are read.
    #[command(flatten)]
    pub read: S3ReadArgs,
}

/// `ecb report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// A local .rdb file, `s3://bucket/key.rdb` (one shard) or `s3://bucket/<export>.manifest.json` (every shard).
    pub backup: String,
    /// How many of the biggest keys (and, in the table, of the biggest prefixes) to list.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub top: u64,
    /// How s3:// backups are read.
    #[command(flatten)]
    pub read: S3ReadArgs,
}

/// `ecb diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// The older side: a local .rdb file, `s3://bucket/key.rdb` or `s3://bucket/<export>.manifest.json`.
    pub backup_a: String,
    /// The newer side: a backup as BACKUP_A, or a live server `redis[s]://[user:pass@]host:port[/db]` (read with SCAN,
    /// DUMP and PTTL; every primary of a cluster-mode server).
    pub backup_b: String,
    /// Only keys matching this Redis glob (as SCAN MATCH).
    #[arg(long = "match", value_name = "GLOB", value_parser = parse_pattern)]
    pub pattern: Option<Pattern>,
    /// Only keys of this database (against a live server: the database read, default the URL's or 0).
    #[arg(long, value_name = "N")]
    pub db: Option<u64>,
    /// The table: at most N rows per kind of difference (added, removed, changed), then how many more; 0 lists all.
    /// --json always lists every difference.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u64,
    /// How s3:// backups are read.
    #[command(flatten)]
    pub read: S3ReadArgs,
}

/// `ecb runs`.
#[derive(Debug, Clone, Args)]
pub struct RunsArgs {
    /// Only executions of this target (replication group, node, or the selector's label).
    #[arg(long)]
    pub target: Option<String>,
    /// Only executions with this status.
    #[arg(long, value_enum)]
    pub status: Option<Status>,
    /// How far back: `7d`, `12h`, `30m` (humantime).
    #[arg(long, default_value = "7d", value_parser = parse_since)]
    pub since: std::time::Duration,
    /// Only this state machine.
    #[arg(long, value_enum)]
    pub machine: Option<Machine>,
    /// Most executions listed.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

/// `ecb evidence`.
#[derive(Debug, Clone, Args)]
pub struct EvidenceArgs {
    /// Start of the window: `90d`, `12h`, `2w` back from now, an RFC 3339 time or a date `YYYY-MM-DD` (UTC); the
    /// window ends now.
    #[arg(long, default_value = "90d")]
    pub since: String,
    /// Only this target (a replication group, node or serverless cache id).
    #[arg(long)]
    pub target: Option<String>,
    /// Output: `md` (tables for a terminal, opening with one line per target), `html` (one self-contained page),
    /// `json`, or `summary` (the one line per target only). `--json` means `json`.
    #[arg(long, value_enum)]
    pub format: Option<EvidenceFormat>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `ecb evidence --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceFormat {
    /// Markdown.
    Md,
    /// HTML.
    Html,
    /// JSON.
    Json,
    /// One line per target.
    Summary,
}

/// `ecb watch`.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// An execution ARN, or the name of an execution of one of the three state machines.
    pub execution: String,
    /// Seconds between checks.
    #[arg(long, default_value_t = 2.0, value_parser = parse_interval)]
    pub interval: f64,
}

/// `ecb backups`.
#[derive(Debug, Clone, Args)]
pub struct BackupsArgs {
    /// Only backups of this target.
    #[arg(long)]
    pub target: Option<String>,
    /// Keep the newest N per target when projecting retention (default: the retention schedule's).
    #[arg(long)]
    pub keep_last: Option<u32>,
    /// Keep every backup within D days when projecting retention (default: the retention schedule's).
    #[arg(long)]
    pub keep_days: Option<u32>,
}

/// `ecb show`.
#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// `s3://bucket/<export>.manifest.json`, `<export>.manifest.json`, or the export name `ecb-…`.
    pub backup: String,
}

/// `ecb restore`.
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup: `s3://bucket/<export>.manifest.json`, the manifest key, or the export name.
    #[arg(required_unless_present = "latest", conflicts_with = "latest")]
    pub backup: Option<String>,
    /// Restore the newest verified backup of this replication group instead.
    #[arg(long, value_name = "TARGET")]
    pub latest: Option<String>,
    /// Read the backup from the vault (another account's bucket, `--vault-bucket`): a bare BACKUP or `--latest`
    /// is looked up there, and its shard objects are copied where ElastiCache may read them before the group is
    /// created.
    #[arg(long)]
    pub vault: bool,
    /// The new replication group's id (must not exist); with `--serverless`, the new serverless cache's name.
    #[arg(long, value_name = "NEW_GROUP")]
    pub to: String,
    /// Restore into a new ElastiCache Serverless cache named `--to` (`targetServerlessCacheName`) instead of a
    /// replication group; node options (`--node-type`, `--replicas-per-shard`, …) are then refused.
    #[arg(long)]
    pub serverless: bool,
    /// Serverless: `SubnetIds` (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', requires = "serverless")]
    pub subnet_ids: Vec<String>,
    /// Follow the restore to its end with a live view; the end prints the RTO and the verification.
    #[arg(long)]
    pub wait: bool,
    /// The execution name (default `ecb-restore-<new group>-<UTC time>`).
    #[arg(long)]
    pub name: Option<String>,
    /// `CacheNodeType` (default: the source's).
    #[arg(long)]
    pub node_type: Option<String>,
    /// `EngineVersion` (default: the source's).
    #[arg(long)]
    pub engine_version: Option<String>,
    /// `CacheSubnetGroupName` (default: the source's).
    #[arg(long)]
    pub cache_subnet_group_name: Option<String>,
    /// `SecurityGroupIds` (repeat or comma-separate; default: the source's).
    #[arg(long, value_delimiter = ',')]
    pub security_group_ids: Vec<String>,
    /// `CacheParameterGroupName` (default: the source's).
    #[arg(long)]
    pub cache_parameter_group_name: Option<String>,
    /// `ReplicasPerNodeGroup`, 0-5 (default: the source's).
    #[arg(long)]
    pub replicas_per_shard: Option<u32>,
    /// Deadline for the group to become available, seconds (300-86400).
    #[arg(long)]
    pub restore_timeout_seconds: Option<u64>,
    /// Re-read every object and compare its SHA-256 with the manifest before creating anything.
    #[arg(long)]
    pub verify_before_restore: bool,
    /// Secrets Manager secret ARN holding the AUTH token the new group gets.
    #[arg(long)]
    pub auth_token_secret_arn: Option<String>,
    /// Seconds between checks of the execution while waiting.
    #[arg(long, default_value_t = 2.0, value_parser = parse_interval)]
    pub interval: f64,
}

/// `ecb restore-keys` ([`crate::recovery::write`]).
#[derive(Debug, Clone, Args)]
pub struct RestoreKeysArgs {
    /// The backup: a local .rdb file, an s3://bucket/key.rdb object (one shard) or an
    /// s3://bucket/<export>.manifest.json (all its shards).
    pub backup: String,
    /// Only keys matching this Redis glob pattern (`*`, `?`, `[...]`, `\` escapes: as SCAN MATCH). An unclosed `[`
    /// is refused.
    #[arg(long = "match", value_name = "GLOB", value_parser = parse_pattern)]
    pub pattern: Pattern,
    /// The server to write into: redis://[user:password@]host[:port] or rediss:// (TLS); the password
    /// percent-encoded. A cluster-mode server is found out and keys go to the primary of their hash slot. From the
    /// environment (ECB_RESTORE_KEYS_TO) it stays out of the process list.
    #[arg(
        long,
        value_name = "URL",
        env = "ECB_RESTORE_KEYS_TO",
        hide_env_values = true
    )]
    pub to: String,
    /// Only keys of this database of the backup, restored into the same database number (a /N in the URL must be
    /// this number). Without it, every database's matching keys go into their own database number; a cluster-mode
    /// target (database 0 only) then refuses keys of other databases, naming them.
    #[arg(long, value_name = "N")]
    pub db: Option<u64>,
    /// Overwrite keys that exist (RESTORE … REPLACE). Without it an existing key is skipped ("exists").
    #[arg(long)]
    pub replace: bool,
    /// Write nothing: connect, check versions and limits, and tell per key whether it would be restored or skipped
    /// (EXISTS).
    #[arg(long)]
    pub dry_run: bool,
    /// `keep`: each key gets the absolute expiry it has in the backup (RESTORE … ABSTTL); keys already expired are
    /// not written and counted "expired". `strip`: no expiry.
    #[arg(long, value_enum, default_value_t = TtlMode::Keep)]
    pub ttl: TtlMode,
    /// How s3:// backups are read.
    #[command(flatten)]
    pub read: S3ReadArgs,
}

/// `ecb restore-keys --ttl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TtlMode {
    /// The expiry from the backup, absolute.
    Keep,
    /// No expiry.
    Strip,
}

/// `ecb drill`.
#[derive(Debug, Clone, Args)]
pub struct DrillArgs {
    /// The replication group whose newest verified backup is drilled.
    pub target: String,
    /// Drill into a new ElastiCache Serverless cache (the state machine names it) instead of a replication group.
    #[arg(long)]
    pub serverless: bool,
    /// Drill the newest verified backup in the vault (`--vault-bucket`) instead of the export bucket: proves the
    /// vault's copy restores.
    #[arg(long)]
    pub vault: bool,
    /// Follow the drill to its end with a live view; the end prints the RTO and the verification.
    #[arg(long)]
    pub wait: bool,
    /// The execution name (default `ecb-drill-<target>-<UTC time>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Seconds between checks of the execution while waiting.
    #[arg(long, default_value_t = 2.0, value_parser = parse_interval)]
    pub interval: f64,
}

/// `ecb retention`.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Delete what the plan names (default: a dry run that deletes nothing and writes only the report).
    #[arg(long)]
    pub apply: bool,
    /// Newest verified backups kept per target (default: the retention schedule's `keepLast`).
    #[arg(long)]
    pub keep_last: Option<u32>,
    /// Days within which every verified backup is kept (default: the retention schedule's `keepDays`).
    #[arg(long)]
    pub keep_days: Option<u32>,
}

/// `ecb doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Only these targets' per-target checks (default: every scheduled target).
    #[arg(long)]
    pub target: Vec<String>,
}

/// An execution status (Step Functions `ExecutionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// RUNNING
    Running,
    /// SUCCEEDED
    Succeeded,
    /// FAILED
    Failed,
    /// TIMED_OUT
    TimedOut,
    /// ABORTED
    Aborted,
}

impl Status {
    /// The API's value.
    pub fn api(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Aborted => "ABORTED",
        }
    }
}

/// One of the project's state machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Machine {
    /// The backup state machine.
    Backup,
    /// The restore state machine (restores and drills).
    Restore,
    /// The fleet state machine.
    Fleet,
}

impl Machine {
    /// `backup`, `restore`, `fleet`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Backup => "backup",
            Self::Restore => "restore",
            Self::Fleet => "fleet",
        }
    }
}

fn parse_interval(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s}: not a number of seconds"))?;
    if (0.1..=300.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s}: must be from 0.1 to 300 seconds"))
    }
}

fn parse_pattern(s: &str) -> Result<Pattern, String> {
    Pattern::new(s.as_bytes()).map_err(|e| e.to_string())
}

fn parse_since(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{s}: {e} (e.g. 7d, 12h, 30m)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn since_takes_human_durations_and_names_the_rule() {
        assert_eq!(
            parse_since("7d").unwrap(),
            std::time::Duration::from_secs(7 * 86_400)
        );
        assert!(parse_since("a week").unwrap_err().contains("7d"));
        assert!(parse_interval("0").is_err());
        assert_eq!(parse_interval("2").unwrap(), 2.0);
    }

    #[test]
    fn restore_needs_a_backup_or_latest_but_not_both() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        assert!(parse(&["ecb", "restore", "--to", "new"]).is_err());
        assert!(parse(&["ecb", "restore", "b", "--latest", "orders", "--to", "new"]).is_err());
        assert!(parse(&["ecb", "restore", "--latest", "orders", "--to", "new"]).is_ok());
        assert!(parse(&["ecb", "restore", "ecb-orders-x", "--to", "new", "--wait"]).is_ok());
    }

    #[test]
    fn keys_and_diff_take_a_glob_a_db_and_a_type_and_refuse_a_bad_glob_by_flag() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        let cli = parse(&[
            "ecb", "keys", "f.rdb", "--match", "user:*", "--db", "3", "--type", "zset", "--json",
        ])
        .unwrap();
        let Command::Keys(k) = cli.command else {
            panic!("not keys")
        };
        assert!(cli.global.json && k.db == Some(3) && k.kind == Some(Kind::Zset));
        assert!(k.pattern.unwrap().matches(b"user:1"));
        let e = parse(&["ecb", "keys", "f.rdb", "--match", "user:[0-9"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("--match") && e.to_string().contains("byte 5"),
            "{e}"
        );
        assert!(parse(&["ecb", "keys", "f.rdb", "--type", "bloom"]).is_err());
        assert!(
            parse(&[
                "ecb",
                "diff",
                "a.rdb",
                "redis://h:1",
                "--match",
                "k*",
                "--db",
                "0"
            ])
            .is_ok()
        );
        assert!(parse(&["ecb", "diff", "a.rdb"]).is_err());
        let Command::Diff(d) = parse(&["ecb", "diff", "a.rdb", "b.rdb"]).unwrap().command else {
            panic!("not diff")
        };
        assert_eq!(d.limit, 50);
        let Command::Diff(d) = parse(&["ecb", "diff", "a", "b", "--limit", "0"])
            .unwrap()
            .command
        else {
            panic!("not diff")
        };
        assert_eq!(d.limit, 0);
        assert!(parse(&["ecb", "report", "a.rdb", "--top", "0"]).is_err());
    }
}
