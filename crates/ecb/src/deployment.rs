//! Which deployment `ecb` talks to: the state machine ARNs, the bucket and the other names the Terraform module
//! outputs (`terraform/outputs.tf`), from flags and `ECB_*` variables first, then `--terraform-output FILE` (a saved
//! `terraform output -json`) or `--terraform-dir DIR` (runs `terraform -chdir=DIR output -json`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::cli::{Global, Machine};
use crate::error::{CliError, CliResult};

/// The deployment's names. Every field is optional: a subcommand asks for what it needs ([`Deployment::machine`],
/// [`Deployment::bucket`]) and gets a usage error naming the flag, variable and output when it is not known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Deployment {
    /// Backup, restore and fleet state machine ARNs.
    pub machines: BTreeMap<Machine, String>,
    /// The export bucket.
    pub bucket: Option<String>,
    /// The vault bucket (another account's).
    pub vault_bucket: Option<String>,
    /// The evidence policy document (JSON): `--evidence-policy FILE` / `ECB_EVIDENCE_POLICY` read by
    /// [`Deployment::resolve`], else the Terraform output `evidence_policy`; with where it came from.
    pub evidence_policy: Option<(String, String)>,
    /// Every Terraform output by name (its `value`), for what only `doctor` reads.
    pub outputs: BTreeMap<String, Value>,
}

impl Deployment {
    /// The deployment `global` names: its flags (and their `ECB_*` variables) over the Terraform outputs.
    ///
    /// # Errors
    /// `Usage` when the outputs file cannot be read or is not `terraform output -json`, or terraform fails in
    /// `--terraform-dir`.
    pub fn resolve(global: &Global) -> CliResult<Self> {
        let outputs = match (&global.terraform_output, &global.terraform_dir) {
            (Some(file), _) => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    CliError::Usage(format!("--terraform-output {}: {e}", file.display()))
                })?;
                parse_outputs(&text).map_err(|e| {
                    CliError::Usage(format!("--terraform-output {}: {e}", file.display()))
                })?
            }
            (None, Some(dir)) => terraform_output(dir)?,
            (None, None) => BTreeMap::new(),
        };
        let mut d = Self::from_parts(global, outputs);
        if let Some(file) = &global.evidence_policy {
            let text = std::fs::read_to_string(file).map_err(|e| {
                CliError::Usage(format!("--evidence-policy {}: {e}", file.display()))
            })?;
            d.evidence_policy = Some((text, format!("--evidence-policy {}", file.display())));
        }
        Ok(d)
    }

    /// The flags of `global` over `outputs`.
    pub fn from_parts(global: &Global, outputs: BTreeMap<String, Value>) -> Self {
        let text = |name: &str| {
            outputs
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let mut machines = BTreeMap::new();
        for (machine, flag, output) in [
            (
                Machine::Backup,
                &global.state_machine_arn,
                "state_machine_arn",
            ),
            (
                Machine::Restore,
                &global.restore_state_machine_arn,
                "restore_state_machine_arn",
            ),
            (
                Machine::Fleet,
                &global.fleet_state_machine_arn,
                "fleet_state_machine_arn",
            ),
        ] {
            if let Some(arn) = flag.clone().or_else(|| text(output)) {
                machines.insert(machine, arn);
            }
        }
        // The output is a JSON string (jsonencode); an object is taken as the document itself.
        let evidence_policy = match outputs.get("evidence_policy") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(v @ Value::Object(_)) => Some(v.to_string()),
            _ => None,
        }
        .map(|text| (text, "Terraform output evidence_policy".to_string()));
        Self {
            machines,
            bucket: global.bucket.clone().or_else(|| text("bucket_name")),
            vault_bucket: global.vault_bucket.clone().or_else(|| {
                outputs
                    .get("vault")
                    .and_then(|v| v.get("bucket"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
            evidence_policy,
            outputs,
        }
    }

    /// The ARN of `machine`.
    ///
    /// # Errors
    /// `Usage` naming the flag, the variable and the Terraform output that give it.
    pub fn machine(&self, machine: Machine) -> CliResult<&str> {
        self.machines.get(&machine).map(String::as_str).ok_or_else(|| {
            let (flag, output) = match machine {
                Machine::Backup => ("state-machine-arn", "state_machine_arn"),
                Machine::Restore => ("restore-state-machine-arn", "restore_state_machine_arn"),
                Machine::Fleet => ("fleet-state-machine-arn", "fleet_state_machine_arn"),
            };
            CliError::Usage(format!(
                "the {} state machine is not known: give --{flag}, ECB_{}, or --terraform-dir (output {output})",
                machine.label(),
                flag.to_uppercase().replace('-', "_")
            ))
        })
    }

    /// The export bucket.
    ///
    /// # Errors
    /// `Usage` naming `--bucket`, `ECB_BUCKET` and the output `bucket_name`.
    pub fn bucket(&self) -> CliResult<&str> {
        self.bucket.as_deref().ok_or_else(|| {
            CliError::Usage(
                "the export bucket is not known: give --bucket, ECB_BUCKET, or --terraform-dir (output bucket_name)"
                    .into(),
            )
        })
    }

    /// The vault bucket.
    ///
    /// # Errors
    /// `Usage` naming `--vault-bucket`, `ECB_VAULT_BUCKET` and the output `vault`.
    pub fn vault_bucket(&self) -> CliResult<&str> {
        self.vault_bucket.as_deref().ok_or_else(|| {
            CliError::Usage(
                "the vault is not known: give --vault-bucket, ECB_VAULT_BUCKET, or --terraform-dir (output vault, \
                 set when the module's vault input is)"
                    .into(),
            )
        })
    }

    /// Output `name` as text (`None` when absent or null).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.outputs.get(name).and_then(Value::as_str)
    }

    /// Output `name` as a map of text values (`function_names`, `schedule_names`, …); absent or null: empty.
    pub fn map(&self, name: &str) -> BTreeMap<String, String> {
        self.outputs
            .get(name)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// `terraform output -json`: `{"<name>": {"value": …, "type": …, "sensitive": bool}, …}` → name → value.
///
/// # Errors
/// The document is not JSON, or not an object of objects with a `value`.
pub fn parse_outputs(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let map = doc
        .as_object()
        .ok_or("not `terraform output -json` (an object of outputs)")?;
    map.iter()
        .map(|(name, out)| match out.get("value") {
            Some(v) => Ok((name.clone(), v.clone())),
            None => Err(format!(
                "output {name} has no \"value\" (not `terraform output -json`)"
            )),
        })
        .collect()
}

fn terraform_output(dir: &Path) -> CliResult<BTreeMap<String, Value>> {
    let out = std::process::Command::new("terraform")
        .arg(format!("-chdir={}", dir.display()))
        .args(["output", "-json"])
        .output()
        .map_err(|e| {
            CliError::Usage(format!(
                "--terraform-dir {}: running terraform: {e}",
                dir.display()
            ))
        })?;
    if !out.status.success() {
        return Err(CliError::Usage(format!(
            "--terraform-dir {}: terraform output -json failed: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse_outputs(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| CliError::Usage(format!("--terraform-dir {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUTS: &str = r#"{
      "state_machine_arn": {"sensitive": false, "type": "string", "value": "arn:aws:states:eu-west-1:1:stateMachine:b"},
      "restore_state_machine_arn": {"sensitive": false, "type": "string", "value": "arn:r"},
      "bucket_name": {"sensitive": false, "type": "string", "value": "from-tf"},
      "dr_bucket_name": {"sensitive": false, "type": "string", "value": null},
      "function_names": {"sensitive": false, "type": ["object", {}], "value": {"notify": "ecb-notify"}}
    }"#;

    #[test]
    fn flags_win_over_terraform_outputs() {
        let outputs = parse_outputs(OUTPUTS).unwrap();
        let global = Global {
            bucket: Some("from-flag".into()),
            ..Global::default()
        };
        let d = Deployment::from_parts(&global, outputs);
        assert_eq!(d.bucket().unwrap(), "from-flag");
        assert_eq!(
            d.machine(Machine::Backup).unwrap(),
            "arn:aws:states:eu-west-1:1:stateMachine:b"
        );
        assert_eq!(d.map("function_names")["notify"], "ecb-notify");
        assert_eq!(d.text("dr_bucket_name"), None);
        assert_eq!(d.evidence_policy, None);
    }

    #[test]
    fn the_evidence_policy_comes_from_its_output_or_the_flag() {
        let outputs = parse_outputs(
            r#"{"evidence_policy": {"sensitive": false, "type": "string", "value": "{\"schedules\": []}"}}"#,
        )
        .unwrap();
        let d = Deployment::from_parts(&Global::default(), outputs);
        let (text, from) = d.evidence_policy.unwrap();
        assert_eq!(text, r#"{"schedules": []}"#);
        assert!(from.contains("evidence_policy"));
        let global = Global {
            evidence_policy: Some("/nonexistent/policy.json".into()),
            ..Global::default()
        };
        let err = Deployment::resolve(&global).unwrap_err().to_string();
        assert!(
            err.contains("--evidence-policy /nonexistent/policy.json"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_name_says_where_it_comes_from() {
        let d = Deployment::from_parts(&Global::default(), BTreeMap::new());
        let err = d.machine(Machine::Fleet).unwrap_err().to_string();
        assert!(err.contains("--fleet-state-machine-arn"), "{err}");
        assert!(err.contains("ECB_FLEET_STATE_MACHINE_ARN"), "{err}");
        assert!(err.contains("fleet_state_machine_arn"), "{err}");
        assert!(d.bucket().unwrap_err().to_string().contains("ECB_BUCKET"));
        assert!(
            d.vault_bucket()
                .unwrap_err()
                .to_string()
                .contains("ECB_VAULT_BUCKET")
        );
    }

    #[test]
    fn the_vault_bucket_comes_from_the_vault_output() {
        let outputs = parse_outputs(
            r#"{"vault": {"sensitive": false, "type": "object", "value": {"account_id": "444455556666",
                "bucket": "acme-vault", "region": "eu-west-1", "kms_key_arn": "arn:aws:kms:eu-west-1:444455556666:key/k"}}}"#,
        )
        .unwrap();
        let d = Deployment::from_parts(&Global::default(), outputs);
        assert_eq!(d.vault_bucket().unwrap(), "acme-vault");
    }

    #[test]
    fn other_documents_are_refused() {
        assert!(parse_outputs("[]").is_err());
        assert!(
            parse_outputs(r#"{"a": {"type": "string"}}"#)
                .unwrap_err()
                .contains("value")
        );
        assert!(parse_outputs("not json").is_err());
    }
}
