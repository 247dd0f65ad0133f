//! Hash slot ranges as ElastiCache and the checker write them, and the mapping of an export's objects to the node
//! groups of its snapshot by the slots of their keys (docs/design.md §7c: shards are proven by their data, not by
//! names).
//!
//! Text form: `start-end` ranges, inclusive, comma-separated, ascending: `"0-5460"`, `"0-100,5000-5460"`. One range
//! is the format of `NodeGroupConfiguration.Slots` ("startkey-endkey", e.g. `"0-3999"`; Amazon ElastiCache API
//! Reference, `NodeGroupConfiguration`); several are what `rdb-check` reports for the keys of one object and what a
//! node group owns after resharding. Slots are 0–16383 (Redis Cluster specification, "Keys distribution model").

use crate::error::BackupError;
use crate::model::ShardInfo;

/// Number of hash slots of a Redis cluster.
pub const SLOT_COUNT: u32 = 16384;

/// A set of hash slots as inclusive ranges, sorted and merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotRanges(Vec<(u16, u16)>);

impl SlotRanges {
    /// Parses `"a-b,c-d"` (spaces around numbers allowed; an empty string is the empty set). Touching or overlapping
    /// ranges are merged.
    ///
    /// # Errors
    /// A message naming the part that is not `start-end` with `start ≤ end < 16384`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad =
                || format!("{part:?} is not a slot range start-end (0 ≤ start ≤ end ≤ 16383)");
            // A single slot may be written alone ("5" = "5-5").
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let a: u16 = a.trim().parse().map_err(|_| bad())?;
            let b: u16 = b.trim().parse().map_err(|_| bad())?;
            if a > b || u32::from(b) >= SLOT_COUNT {
                return Err(bad());
            }
            ranges.push((a, b));
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        Ok(Self(merged))
    }

    /// The ranges, ascending, disjoint and not touching.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// True when no slot is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of slots.
    pub fn len(&self) -> u32 {
        self.0
            .iter()
            .map(|(a, b)| u32::from(*b) - u32::from(*a) + 1)
            .sum()
    }

    /// True when every slot of `self` is in `other`.
    pub fn is_subset(&self, other: &Self) -> bool {
        self.0
            .iter()
            .all(|(a, b)| other.0.iter().any(|(c, d)| c <= a && b <= d))
    }

    /// True when the two sets share a slot.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.0
            .iter()
            .any(|(a, b)| other.0.iter().any(|(c, d)| a <= d && c <= b))
    }
}

impl std::fmt::Display for SlotRanges {
    /// `"0-5460,10923-16383"` (every range as `start-end`, even a single slot).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (a, b)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}-{b}")?;
        }
        Ok(())
    }
}

/// One exported object as the mapping sees it: its key and the slots of its keys (`None` when the verifier did not
/// report them: a verifier older than slot checking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSlots<'a> {
    /// The S3 key.
    pub key: &'a str,
    /// The slots its keys fall in, as `rdb-check` reports them.
    pub slots: Option<&'a str>,
}

/// Maps each object (in the given order) to the node group of `node_groups` that owns every slot its keys fall in,
/// and returns, per object, that node group. Objects without keys take the node groups no object with keys claimed,
/// in the order of `node_groups` (an empty shard holds nothing that could be misplaced).
///
/// Used only for cluster mode enabled sources whose node groups all have `Slots`; the caller decides otherwise.
///
/// # Errors
/// `ExportCorrupt` (the source snapshot is then kept) when an object's keys fall in slots that no single node group
/// owns entirely (keys of another node group, or of several), when two objects hold keys of the same node group,
/// when the numbers of objects and node groups differ, or when a node group's or an object's slots cannot be read.
pub fn assign_node_groups(
    objects: &[ObjectSlots<'_>],
    node_groups: &[ShardInfo],
) -> Result<Vec<ShardInfo>, BackupError> {
    let corrupt = |message: String| BackupError::ExportCorrupt { message };
    if objects.len() != node_groups.len() {
        return Err(corrupt(format!(
            "the export has {} objects but the snapshot {} node groups ({})",
            objects.len(),
            node_groups.len(),
            describe(node_groups)
        )));
    }
    let owned: Vec<SlotRanges> = node_groups
        .iter()
        .map(|g| {
            SlotRanges::parse(g.slots.as_deref().unwrap_or_default()).map_err(|e| {
                corrupt(format!(
                    "node group {} of the snapshot has unreadable Slots: {e}",
                    g.node_group_id
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let mut assigned: Vec<Option<usize>> = vec![None; objects.len()];
    let mut claimed: Vec<Option<&str>> = vec![None; node_groups.len()];
    for (i, o) in objects.iter().enumerate() {
        let found = SlotRanges::parse(o.slots.unwrap_or_default())
            .map_err(|e| corrupt(format!("{}: unreadable key slots: {e}", o.key)))?;
        if found.is_empty() {
            continue;
        }
        let owners: Vec<usize> = (0..owned.len())
            .filter(|&g| found.is_subset(&owned[g]))
            .collect();
        let [g] = owners[..] else {
            return Err(corrupt(format!(
                "{} holds keys in slots {found} that no single node group of the snapshot owns ({}): the object is \
                 not one shard's data",
                o.key,
                describe(node_groups)
            )));
        };
        if let Some(other) = claimed[g] {
            return Err(corrupt(format!(
                "{other} and {} both hold keys of node group {} (slots {})",
                o.key, node_groups[g].node_group_id, owned[g]
            )));
        }
        claimed[g] = Some(o.key);
        assigned[i] = Some(g);
    }
    let mut free = (0..node_groups.len()).filter(|g| claimed[*g].is_none());
    assigned
        .into_iter()
        .zip(objects)
        .map(|(a, o)| {
            // Counts are equal, so a free node group is left for every object without keys.
            a.or_else(|| free.next())
                .map(|g| node_groups[g].clone())
                .ok_or_else(|| corrupt(format!("{}: no node group is left for it", o.key)))
        })
        .collect()
}

/// `0001 0-5460, 0002 5461-10922` for messages.
fn describe(node_groups: &[ShardInfo]) -> String {
    node_groups
        .iter()
        .map(|g| format!("{} {}", g.node_group_id, g.slots.as_deref().unwrap_or("?")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn group(id: &str, slots: &str) -> ShardInfo {
        ShardInfo {
            node_group_id: id.into(),
            slots: Some(slots.into()),
        }
    }

    fn three() -> Vec<ShardInfo> {
        vec![
            group("0001", "0-5460"),
            group("0002", "5461-10922"),
            group("0003", "10923-16383"),
        ]
    }

    #[test]
    fn ranges_parse_merge_and_print() {
        let r = SlotRanges::parse("10923-16383, 0-5460,5461-5461").unwrap();
        assert_eq!(r.to_string(), "0-5461,10923-16383");
        assert_eq!(r.len(), 5462 + 5461);
        assert!(SlotRanges::parse("").unwrap().is_empty());
        assert_eq!(SlotRanges::parse("5, 7-9").unwrap().to_string(), "5-5,7-9");
        for bad in ["5-4", "0-16384", "a-b", "-1-3", "1-2-3", "16384"] {
            assert!(SlotRanges::parse(bad).is_err(), "{bad}");
        }
        let a = SlotRanges::parse("0-10,20-30").unwrap();
        assert!(SlotRanges::parse("3-4,25-25").unwrap().is_subset(&a));
        assert!(!SlotRanges::parse("3-4,15-15").unwrap().is_subset(&a));
        assert!(a.overlaps(&SlotRanges::parse("10-12").unwrap()));
        assert!(!a.overlaps(&SlotRanges::parse("11-19").unwrap()));
    }

    #[test]
    fn objects_are_mapped_by_their_data_whatever_their_names_say() {
        // The export named the objects in another order than NodeGroupId: -0001 holds node group 0003's keys.
        let objects = [
            ObjectSlots {
                key: "e-0001.rdb",
                slots: Some("11000-12000,16000-16383"),
            },
            ObjectSlots {
                key: "e-0002.rdb",
                slots: Some("0-5460"),
            },
            ObjectSlots {
                key: "e-0003.rdb",
                slots: Some("6000-6000"),
            },
        ];
        let got: Vec<String> = assign_node_groups(&objects, &three())
            .unwrap()
            .into_iter()
            .map(|g| g.node_group_id)
            .collect();
        assert_eq!(got, ["0003", "0001", "0002"]);
    }

    #[test]
    fn empty_objects_take_the_node_groups_left() {
        let objects = [
            ObjectSlots {
                key: "e-0001.rdb",
                slots: Some(""),
            },
            ObjectSlots {
                key: "e-0002.rdb",
                slots: Some("0-3"),
            },
            ObjectSlots {
                key: "e-0003.rdb",
                slots: None,
            },
        ];
        let got: Vec<String> = assign_node_groups(&objects, &three())
            .unwrap()
            .into_iter()
            .map(|g| g.node_group_id)
            .collect();
        assert_eq!(got, ["0002", "0001", "0003"]);
    }

    #[test]
    fn keys_of_another_node_group_or_of_two_are_corrupt() {
        let across = [
            ObjectSlots {
                key: "e-0001.rdb",
                slots: Some("5000-6000"),
            },
            ObjectSlots {
                key: "e-0002.rdb",
                slots: Some(""),
            },
            ObjectSlots {
                key: "e-0003.rdb",
                slots: Some(""),
            },
        ];
        let err = assign_node_groups(&across, &three()).unwrap_err();
        assert_eq!(err.error_type(), "ExportCorrupt");
        assert!(
            err.to_string()
                .contains("e-0001.rdb holds keys in slots 5000-6000"),
            "{err}"
        );
        let twice = [
            ObjectSlots {
                key: "e-0001.rdb",
                slots: Some("1-1"),
            },
            ObjectSlots {
                key: "e-0002.rdb",
                slots: Some("2-2"),
            },
            ObjectSlots {
                key: "e-0003.rdb",
                slots: Some(""),
            },
        ];
        let err = assign_node_groups(&twice, &three()).unwrap_err();
        assert!(
            err.to_string()
                .contains("both hold keys of node group 0001"),
            "{err}"
        );
        let err = assign_node_groups(&twice[..2], &three()).unwrap_err();
        assert!(
            err.to_string()
                .contains("2 objects but the snapshot 3 node groups"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn printing_and_parsing_agree(ranges in proptest::collection::vec((0u16..16384, 0u16..200), 0..20)) {
            let text: Vec<String> = ranges.iter().map(|(a, n)| format!("{a}-{}", (a + n).min(16383))).collect();
            let parsed = SlotRanges::parse(&text.join(",")).unwrap();
            prop_assert_eq!(SlotRanges::parse(&parsed.to_string()).unwrap(), parsed.clone());
            for (a, n) in ranges {
                let one = SlotRanges::parse(&format!("{a}-{}", (a + n).min(16383))).unwrap();
                prop_assert!(one.is_subset(&parsed));
            }
        }
    }
}
