//! The evidence policy: what the deployment promises per target, as the Terraform module states it (output
//! `evidence_policy`; the evidence function's `EVIDENCE_POLICY`). Shape (docs/operations.md, "Audit evidence"):
//!
//! ```json
//! {"schedules": [{"name": "nightly", "scheduleExpression": "cron(0 3 * * ? *)", "timezone": "UTC",
//!                  "rpoHours": 25, "targets": ["orders"], "selector": null}],
//!  "drills": [{"name": "weekly", "scheduleExpression": "cron(0 5 ? * SUN *)", "timezone": "UTC",
//!              "target": "orders", "rtoMinutes": 60, "vault": false}],
//!  "bucket": "acme-cache-backups", "drBucket": null, "vaultBucket": null}
//! ```
//!
//! A selector schedule has `targets: []` and `selector: {tag: value}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The RPO a target is held to when no schedule names it and no policy says otherwise: a daily schedule plus an
/// hour for the run, hours.
pub const DEFAULT_RPO_HOURS: f64 = 25.0;
/// A drill's RTO when its policy entry gives none, minutes.
pub const DEFAULT_RTO_MINUTES: f64 = 60.0;

/// The whole policy document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidencePolicy {
    /// Backup schedules.
    #[serde(default)]
    pub schedules: Vec<SchedulePolicy>,
    /// Drill schedules.
    #[serde(default)]
    pub drills: Vec<DrillPolicy>,
    /// The export bucket.
    #[serde(default)]
    pub bucket: Option<String>,
    /// The DR region's copy bucket, if any.
    #[serde(default)]
    pub dr_bucket: Option<String>,
    /// The vault bucket (another account), if any.
    #[serde(default)]
    pub vault_bucket: Option<String>,
}

/// One backup schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePolicy {
    /// The schedule's name (the Terraform key).
    pub name: String,
    /// EventBridge Scheduler expression (`cron(…)`, `rate(…)`).
    #[serde(default)]
    pub schedule_expression: String,
    /// The expression's time zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The recovery point objective, hours: the largest gap allowed between verified backups' data times.
    #[serde(default = "default_rpo")]
    pub rpo_hours: f64,
    /// The targets it backs up, lower-cased (empty for a selector schedule).
    #[serde(default)]
    pub targets: Vec<String>,
    /// The tag selector of a fleet schedule.
    #[serde(default)]
    pub selector: Option<BTreeMap<String, String>>,
}

/// One drill schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillPolicy {
    /// The drill's name (the Terraform key).
    pub name: String,
    /// EventBridge Scheduler expression.
    #[serde(default)]
    pub schedule_expression: String,
    /// The expression's time zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The target drilled, lower-cased.
    pub target: String,
    /// The recovery time objective, minutes: restore requested to data verified.
    #[serde(default = "default_rto")]
    pub rto_minutes: f64,
    /// The drill restores from the vault bucket.
    #[serde(default)]
    pub vault: bool,
}

fn default_rpo() -> f64 {
    DEFAULT_RPO_HOURS
}

fn default_rto() -> f64 {
    DEFAULT_RTO_MINUTES
}

impl EvidencePolicy {
    /// Parses the policy JSON; target names are lower-cased (as ElastiCache stores ids).
    ///
    /// # Errors
    /// A message naming the field at fault (`schedules[0].rpoHours: invalid type …`), or a non-positive
    /// `rpoHours`/`rtoMinutes`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut policy: Self = serde_path_to_error::deserialize(de)
            .map_err(|e| format!("evidence policy: {}: {}", e.path(), e.inner()))?;
        for (i, s) in policy.schedules.iter_mut().enumerate() {
            if !(s.rpo_hours.is_finite() && s.rpo_hours > 0.0) {
                return Err(format!(
                    "evidence policy: schedules[{i}].rpoHours must be a positive number of hours, got {}",
                    s.rpo_hours
                ));
            }
            for t in &mut s.targets {
                *t = t.to_lowercase();
            }
        }
        for (i, d) in policy.drills.iter_mut().enumerate() {
            if !(d.rto_minutes.is_finite() && d.rto_minutes > 0.0) {
                return Err(format!(
                    "evidence policy: drills[{i}].rtoMinutes must be a positive number of minutes, got {}",
                    d.rto_minutes
                ));
            }
            d.target = d.target.to_lowercase();
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_contract_document_with_defaults() {
        let p = EvidencePolicy::from_json(
            r#"{"schedules": [{"name": "nightly", "scheduleExpression": "cron(0 3 * * ? *)", "timezone": "UTC",
                 "targets": ["Orders"], "selector": null}],
                "drills": [{"name": "weekly", "scheduleExpression": "cron(0 5 ? * SUN *)", "timezone": "UTC",
                 "target": "orders", "vault": false}],
                "bucket": "b", "drBucket": null, "vaultBucket": null}"#,
        )
        .unwrap();
        assert_eq!(p.schedules[0].rpo_hours, DEFAULT_RPO_HOURS);
        assert_eq!(p.schedules[0].targets, ["orders"]);
        assert_eq!(p.drills[0].rto_minutes, DEFAULT_RTO_MINUTES);
        assert_eq!(p.bucket.as_deref(), Some("b"));
    }

    #[test]
    fn a_bad_field_is_named() {
        let err = EvidencePolicy::from_json(r#"{"schedules": [{"name": "n", "rpoHours": "x"}]}"#)
            .unwrap_err();
        assert!(err.contains("schedules[0].rpoHours"), "{err}");
        let err = EvidencePolicy::from_json(
            r#"{"drills": [{"name": "n", "target": "o", "rtoMinutes": 0}]}"#,
        )
        .unwrap_err();
        assert!(err.contains("drills[0].rtoMinutes"), "{err}");
        assert!(EvidencePolicy::from_json("not json").is_err());
    }
}
