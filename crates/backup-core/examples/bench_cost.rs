//! `make bench-cost`: what waiting costs for one backup, measured on the real poll planner
//! ([`backup_core::poll::simulate`] calls [`backup_core::poll::planned_wait_seconds`], the function the steps call).
//!
//! A run of the backup state machine enters 8 states once for a one-shard backup (PrepareRun, CreateSnapshot,
//! ExportSnapshot, the VerifyExport Map, its VerifyShard, WriteManifest, DeleteSnapshot, BackupSucceeded) and 3 per
//! status check (the Wait, the check Task, the Choice). Lambda GB-s use
//! the memory Terraform gives each function (terraform/locals.tf) and the durations assumed below.

use backup_core::poll::{PhaseCost, simulate};

/// Deadline of each phase in the simulation, seconds (the default).
const DEADLINE: u64 = 3600;
/// States entered once per successful run.
const FIXED_TRANSITIONS: u32 = 8;
/// States entered per status check.
const TRANSITIONS_PER_CHECK: u32 = 3;

/// (function, memory MB, seconds per invocation) — assumed invocation durations of a warm function.
const CREATE: (f64, f64) = (256.0, 0.5);
const CHECK: (f64, f64) = (128.0, 0.15);
const EXPORT: (f64, f64) = (128.0, 0.4);
/// VerifyShard: 3538 MB (two vCPUs); a 1 GiB export at ~950 MB/s (`make bench` with the SHA-256 on its own thread:
/// 807 MB/s on mostly strings, 1,140 on small collections).
const VERIFY: (f64, f64) = (3538.0, 1.13);
/// WriteManifest: the same function, listing the export and writing the manifest.
const MANIFEST: (f64, f64) = (3538.0, 0.1);
const DELETE: (f64, f64) = (128.0, 0.3);

fn gb_s((mb, s): (f64, f64)) -> f64 {
    mb / 1024.0 * s
}

struct Run {
    transitions: u32,
    worst_latency_pct: f64,
    gb_s: f64,
    snapshot: PhaseCost,
    export: PhaseCost,
}

fn run(snapshot_s: u64, export_s: u64, history: Option<(u64, u64)>) -> Run {
    let snapshot = simulate(snapshot_s, DEADLINE, history.map(|h| h.0));
    let export = simulate(export_s, DEADLINE, history.map(|h| h.1));
    let checks = snapshot.checks + export.checks;
    let pct = |c: PhaseCost, d: u64| 100.0 * c.latency_seconds as f64 / d as f64;
    Run {
        transitions: FIXED_TRANSITIONS + TRANSITIONS_PER_CHECK * checks,
        worst_latency_pct: pct(snapshot, snapshot_s).max(pct(export, export_s)),
        gb_s: gb_s(CREATE)
            + gb_s(EXPORT)
            + gb_s(VERIFY)
            + gb_s(MANIFEST)
            + gb_s(DELETE)
            + f64::from(checks) * gb_s(CHECK),
        snapshot,
        export,
    }
}

fn main() {
    let (snap, export) = (600, 180);
    println!("backup of a 10-minute snapshot and a 3-minute export (deadlines {DEADLINE} s)");
    println!(
        "{:<34} {:>11} {:>15} {:>15} {:>12} {:>8}",
        "case", "transitions", "snapshot checks", "export checks", "worst late %", "GB-s"
    );
    let cases = [
        ("without history", None),
        ("history matches", Some((snap, export))),
        (
            "history 2 % short (runs a bit late)",
            Some((snap * 50 / 51, export * 50 / 51)),
        ),
        // 2x too long puts the first check (at E/2) exactly on the completion: a best case. 1.5x does not.
        (
            "history 1.5x too long",
            Some((3 * snap / 2, 3 * export / 2)),
        ),
        ("history 2x too long", Some((2 * snap, 2 * export))),
        ("history 2x too short", Some((snap / 2, export / 2))),
    ];
    let mut results = Vec::new();
    for (name, history) in cases {
        let r = run(snap, export, history);
        println!(
            "{name:<34} {:>11} {:>15} {:>15} {:>12.1} {:>8.3}",
            r.transitions, r.snapshot.checks, r.export.checks, r.worst_latency_pct, r.gb_s
        );
        results.push(r);
    }
    println!(
        "assumed per invocation: CreateSnapshot {:.1} s, checks {:.2} s, ExportSnapshot {:.1} s, VerifyShard {:.2} s \
         and WriteManifest {:.1} s at {} MB, DeleteSnapshot {:.1} s",
        CREATE.1, CHECK.1, EXPORT.1, VERIFY.1, MANIFEST.1, VERIFY.0, DELETE.1
    );
    println!(
        "bench-cost: with history {} transitions, completion within {:.1} %; without history {} transitions",
        results[1].transitions, results[1].worst_latency_pct, results[0].transitions
    );
}
