//! How long the target's phases took last time, from its previous verified backup's manifest, so that polling can
//! plan its checks around the expected finish ([`crate::poll::planned_wait_seconds`]). History only saves state
//! transitions: when it cannot be read, the backup polls as it would without it (logged, never an error).

use crate::backup::run::PhaseHistory;

use crate::backup::manifest::Manifest;
use crate::naming::export_prefix;
use crate::ports::{ExportStore, ObjectReader};

/// Manifests looked at, newest first, to find one of the same target (another target's exports may share the
/// prefix: `orders` and `orders-eu`).
const MANIFESTS_READ: usize = 5;

impl PhaseHistory {
    /// The durations a manifest records (its snapshot and export times), keyed to `manifest_key`.
    pub fn of_manifest(manifest_key: &str, m: &Manifest) -> Self {
        let seconds = |from: Option<crate::model::Timestamp>,
                       to: Option<crate::model::Timestamp>| {
            let d = (to? - from?).whole_seconds();
            u64::try_from(d).ok().filter(|d| *d > 0)
        };
        Self {
            manifest: manifest_key.to_string(),
            snapshot_seconds: m
                .snapshot
                .as_ref()
                .and_then(|s| seconds(Some(s.started_at), s.available_at)),
            export_seconds: m
                .export
                .as_ref()
                .and_then(|e| seconds(e.started_at, e.completed_at)),
        }
    }
}

/// The newest verified backup of `source_id` in `bucket` among the exports named for `requested_id` (the id the
/// execution input gave: snapshot and export names are derived from it), read from its manifest. `None` when there
/// is none or it cannot be read (a warning is logged).
pub async fn previous<S: ExportStore + ObjectReader + ?Sized>(
    store: &S,
    bucket: &str,
    requested_id: &str,
    source_id: &str,
) -> Option<PhaseHistory> {
    let mut manifests = match store.list(bucket, &export_prefix(requested_id)).await {
        Ok(objects) => objects
            .into_iter()
            .filter(|o| o.key.ends_with(".manifest.json"))
            .collect::<Vec<_>>(),
        Err(e) => {
            tracing::warn!(error = %e, "previous backups not listed; polling without history");
            return None;
        }
    };
    manifests.sort_by_key(|o| std::cmp::Reverse(o.last_modified));
    for object in manifests.into_iter().take(MANIFESTS_READ) {
        let bytes = match store.get_object(bucket, &object.key).await {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, manifest = %object.key, "manifest not read; polling without history");
                return None;
            }
        };
        let Ok(m) = Manifest::from_json(&bytes) else {
            continue;
        };
        let same = m
            .source
            .as_ref()
            .is_some_and(|s| s.target_id().eq_ignore_ascii_case(source_id));
        if same {
            return Some(PhaseHistory::of_manifest(&object.key, &m));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeExportStore;
    use time::macros::datetime;

    /// A version-3 manifest of `group`: a snapshot of 600 s and an export of 180 s.
    fn manifest(export: &str, group: &str) -> Vec<u8> {
        serde_json::json!({
            "manifestVersion": 3, "tool": "elasticache-backup", "snapshotName": export, "exportName": export,
            "bucket": "b",
            "source": {"replicationGroupId": group, "role": "replica", "clusterMode": "disabled", "shardCount": 1},
            "execution": {"name": "x"},
            "snapshot": {"status": "available", "resumed": false, "startedAt": "2026-11-22T03:00:00Z",
                         "deadline": "2026-11-22T04:00:00Z", "availableAt": "2026-11-22T03:10:00Z"},
            "export": {"startedAt": "2026-11-22T03:10:05Z", "completedAt": "2026-11-22T03:13:05Z"},
            "verifiedAt": "2026-11-22T03:14:00Z",
            "totals": {"objects": 0, "keys": 0, "keysWithExpiry": 0, "bytes": 0},
            "objects": [], "timings": {}
        })
        .to_string()
        .into_bytes()
    }

    #[tokio::test]
    async fn the_newest_manifest_of_the_same_target_gives_the_durations() {
        let store = FakeExportStore::with_bucket("b");
        store.put_bytes(
            "b",
            "ecb-orders-old.manifest.json",
            manifest("ecb-orders-old", "orders"),
            datetime!(2026-11-20 03:00 UTC),
        );
        store.put_bytes(
            "b",
            "ecb-orders-new.manifest.json",
            manifest("ecb-orders-new", "orders"),
            datetime!(2026-11-21 03:00 UTC),
        );
        // A newer one of another group whose exports share the prefix (`orders-eu`), and a shard object.
        store.put_bytes(
            "b",
            "ecb-orders-eu-1.manifest.json",
            manifest("ecb-orders-eu-1", "orders-eu"),
            datetime!(2026-11-22 03:00 UTC),
        );
        store.put_bytes(
            "b",
            "ecb-orders-new-0001.rdb",
            b"REDIS".to_vec(),
            datetime!(2026-11-22 04:00 UTC),
        );

        let h = previous(&store, "b", "orders", "orders").await.unwrap();
        assert_eq!(h.manifest, "ecb-orders-new.manifest.json");
        assert_eq!(h.snapshot_seconds, Some(600));
        assert_eq!(h.export_seconds, Some(180));
        assert_eq!(previous(&store, "b", "carts", "carts").await, None);
        // Unreadable bucket: no history, no error.
        assert_eq!(previous(&store, "missing", "orders", "orders").await, None);
    }
}
