//! What VerifyRestore leaves: the measured RTO as a CloudWatch metric ([`rto_metric`]).

use serde_json::Value;

use crate::model::Timestamp;

/// CloudWatch namespace of the metrics the restore publishes.
pub const METRIC_NAMESPACE: &str = "ElastiCacheBackup";

/// One CloudWatch embedded-metric-format record (CloudWatch User Guide, "Specification: Embedded metric format"):
/// `RestoreRtoSeconds` (seconds) and `RestoreVerified` (1 or 0) of `source`, dimension `Source`, plus `Drill`.
/// Printed as one log line, CloudWatch turns it into metrics without an API call.
pub fn rto_metric(
    source: &str,
    drill: bool,
    rto_seconds: u64,
    verified: bool,
    at: Timestamp,
) -> Value {
    serde_json::json!({
        "_aws": {
            "Timestamp": at.unix_timestamp() * 1000,
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["Source"], ["Source", "Kind"]],
                "Metrics": [
                    {"Name": "RestoreRtoSeconds", "Unit": "Seconds"},
                    {"Name": "RestoreVerified", "Unit": "Count"}
                ]
            }]
        },
        "Source": source,
        "Kind": if drill { "drill" } else { "restore" },
        "RestoreRtoSeconds": rto_seconds,
        "RestoreVerified": u8::from(verified),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rto_metric_is_an_embedded_metric_format_record() {
        let m = rto_metric(
            "orders",
            true,
            312,
            true,
            time::macros::datetime!(2026-11-22 05:00 UTC),
        );
        let def = &m["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(def["Namespace"], METRIC_NAMESPACE);
        for metric in def["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(m.get(name).is_some(), "{name} has no value");
        }
        for dims in def["Dimensions"].as_array().unwrap() {
            for d in dims.as_array().unwrap() {
                assert!(m[d.as_str().unwrap()].is_string(), "{d} has no value");
            }
        }
        assert_eq!(
            (m["RestoreRtoSeconds"].as_u64(), m["Kind"].as_str()),
            (Some(312), Some("drill"))
        );
        assert_eq!(m["_aws"]["Timestamp"], 1_795_323_600_000_i64);
    }
}
