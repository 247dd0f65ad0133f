//! Parameter and subnet groups: DescribeCacheParameters and DescribeCacheSubnetGroups answer from the topology's
//! `[[cache_parameter_group]]` and `[[cache_subnet_group]]` entries, and a cluster's description names its group's
//! parameter group, subnet group and notification topic ([`write_cluster_settings`]). Nothing here changes how a
//! node runs: the emulator reports these settings, it does not apply them.

use crate::app::App;
use crate::params::{Params, page, param, required};
use crate::state::ApiError;
use crate::topology::{DEFAULT_PARAMETER_GROUP, GroupSpec};
use crate::xml::{self, Xml};

/// What [`DEFAULT_PARAMETER_GROUP`] holds (a few of AWS's; `reserved-memory-percent` 25 as in AWS's default groups
/// since Redis OSS 3.2.4, ElastiCache User Guide "Managing reserved memory"): name, value, data type, allowed values.
const DEFAULTS: &[(&str, &str, &str, &str)] = &[
    (
        "maxmemory-policy",
        "volatile-lru",
        "string",
        "volatile-lru,allkeys-lru,volatile-lfu,allkeys-lfu,volatile-random,allkeys-random,volatile-ttl,noeviction",
    ),
    ("reserved-memory-percent", "25", "integer", "0-100"),
];

/// `DescribeCacheParameters` (API Reference: DescribeCacheParameters): the group's parameters, those the topology
/// sets with `Source` `user`, the rest `system`; `Source` filters; `MaxRecords` 20-100, `Marker`. Refusals:
/// `CacheParameterGroupNotFound` (404) for an unknown group, `InvalidParameterValue` for a missing name, a bad
/// `MaxRecords` or `Marker`.
pub fn describe_cache_parameters(app: &App, p: &Params, rid: &str) -> Result<String, ApiError> {
    let name = required(p, "CacheParameterGroupName")?;
    let st = app.lock();
    let set = match st.parameter_groups.get(name) {
        Some(g) => &g.parameters,
        None if name == DEFAULT_PARAMETER_GROUP => &Default::default(),
        None => {
            return Err(ApiError::new(
                "CacheParameterGroupNotFound",
                format!("CacheParameterGroup {name} not found."),
            ));
        }
    };
    let mut all: Vec<(String, String, &str, &str, &str)> = DEFAULTS
        .iter()
        .map(|(n, v, t, allowed)| match set.get(*n) {
            Some(user) => ((*n).to_string(), user.clone(), "user", *t, *allowed),
            None => ((*n).to_string(), (*v).to_string(), "system", *t, *allowed),
        })
        .collect();
    for (n, v) in set {
        if !DEFAULTS.iter().any(|(d, ..)| d == n) {
            all.push((n.clone(), v.clone(), "user", "string", ""));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(source) = param(p, "Source") {
        all.retain(|a| a.2 == source);
    }
    let (items, marker) = page(all, p, 20, 100)?;
    Ok(xml::response("DescribeCacheParameters", rid, |x| {
        x.opt("Marker", marker.as_deref()).open("Parameters");
        for (n, v, source, data_type, allowed) in &items {
            x.open("Parameter")
                .text("ParameterName", n)
                .text("ParameterValue", v)
                .text("Source", source)
                .text("DataType", data_type);
            if !allowed.is_empty() {
                x.text("AllowedValues", allowed);
            }
            x.text("IsModifiable", "true")
                .text("MinimumEngineVersion", "2.8.6")
                .text("ChangeType", "immediate")
                .close("Parameter");
        }
        x.close("Parameters");
    }))
}

/// `DescribeCacheSubnetGroups` (API Reference: DescribeCacheSubnetGroups): one group by `CacheSubnetGroupName`, or
/// all; `MaxRecords` 20-100, `Marker`. Refusal: `CacheSubnetGroupNotFoundFault` (HTTP 400, as the model says).
pub fn describe_cache_subnet_groups(app: &App, p: &Params, rid: &str) -> Result<String, ApiError> {
    let st = app.lock();
    let groups: Vec<_> = match param(p, "CacheSubnetGroupName") {
        Some(name) => vec![st.subnet_groups.get(name).ok_or_else(|| {
            ApiError::new(
                "CacheSubnetGroupNotFoundFault",
                format!("Cache subnet group {name} not found."),
            )
        })?],
        None => st.subnet_groups.values().collect(),
    };
    let (groups, marker) = page(groups, p, 20, 100)?;
    let region = st.settings.region.clone();
    let arn = |name: &str| st.arn("subnetgroup", name);
    Ok(xml::paged(
        "DescribeCacheSubnetGroups",
        rid,
        marker.as_deref(),
        "CacheSubnetGroups",
        &groups,
        |x, g| {
            x.open("CacheSubnetGroup")
                .text("CacheSubnetGroupName", &g.name)
                .text(
                    "CacheSubnetGroupDescription",
                    format!("emulated subnet group {}", g.name),
                )
                .text("VpcId", &g.vpc_id)
                .open("Subnets");
            for s in &g.subnets {
                x.open("Subnet")
                    .text("SubnetIdentifier", s)
                    .open("SubnetAvailabilityZone")
                    .text("Name", format!("{region}a"))
                    .close("SubnetAvailabilityZone")
                    .close("Subnet");
            }
            x.close("Subnets")
                .text("ARN", arn(&g.name))
                .close("CacheSubnetGroup");
        },
    ))
}

/// The members of a `CacheCluster` that come from its group's settings: `NotificationConfiguration` (topic
/// `active`), `CacheParameterGroup` (`in-sync`) and `CacheSubnetGroupName` (API Reference: CacheCluster).
pub fn write_cluster_settings(x: &mut Xml, g: &GroupSpec) {
    if let Some(topic) = &g.notification_topic_arn {
        x.open("NotificationConfiguration")
            .text("TopicArn", topic)
            .text("TopicStatus", "active")
            .close("NotificationConfiguration");
    }
    x.open("CacheParameterGroup")
        .text("CacheParameterGroupName", g.parameter_group())
        .text("ParameterApplyStatus", "in-sync")
        .open("CacheNodeIdsToReboot")
        .close("CacheNodeIdsToReboot")
        .close("CacheParameterGroup");
    x.opt("CacheSubnetGroupName", g.cache_subnet_group.as_deref());
}
