//! The parameters of a Query protocol request (`Action=...&Name=value&List.Member.1=...`, form-encoded): single
//! values, lists, lists of structures, tags.

use std::collections::{BTreeMap, HashMap};

use crate::state::ApiError;

/// A request's parameters, by name.
pub type Params = HashMap<String, String>;

/// A parameter's value; an empty one counts as absent.
pub fn param<'a>(p: &'a Params, name: &str) -> Option<&'a str> {
    p.get(name).map(String::as_str).filter(|s| !s.is_empty())
}

/// A parameter that must be given (`InvalidParameterValue` otherwise).
pub fn required<'a>(p: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    param(p, name).ok_or_else(|| {
        ApiError::new(
            "InvalidParameterValue",
            format!("The parameter {name} must be provided."),
        )
    })
}

/// The members of a query-protocol list `<name>.<member>.<N>` (any member name), in index order.
pub fn list_param(p: &Params, name: &str) -> Vec<String> {
    let prefix = format!("{name}.");
    let mut items: BTreeMap<u32, String> = BTreeMap::new();
    for (k, v) in p {
        if let Some(rest) = k.strip_prefix(&prefix)
            && let Some(idx) = rest.rsplit('.').next().and_then(|i| i.parse().ok())
            && rest.split('.').count() <= 2
        {
            items.insert(idx, v.clone());
        }
    }
    items.into_values().collect()
}

/// The `Tags.Tag.N.Key` / `Tags.Tag.N.Value` pairs of a request (CreateSnapshot, CreateReplicationGroup,
/// AddTagsToResource), in order; a tag without a `Value` has an empty one.
pub fn tags_param(p: &Params) -> Vec<(String, String)> {
    struct_list_param(p, "Tags")
        .into_iter()
        .filter_map(|t| {
            Some((
                t.get("Key")?.clone(),
                t.get("Value").cloned().unwrap_or_default(),
            ))
        })
        .collect()
}

/// The fields of a query-protocol list of structures `<name>.<member>.<N>.<Field>`, in index order.
pub fn struct_list_param(p: &Params, name: &str) -> Vec<BTreeMap<String, String>> {
    let prefix = format!("{name}.");
    let mut items: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    for (k, v) in p {
        let Some(rest) = k.strip_prefix(&prefix) else {
            continue;
        };
        let parts: Vec<&str> = rest.split('.').collect();
        if let [_, idx, field] = parts.as_slice()
            && let Ok(idx) = idx.parse::<u32>()
        {
            items
                .entry(idx)
                .or_default()
                .insert((*field).to_string(), v.clone());
        }
    }
    items.into_values().collect()
}

/// An integer parameter, if given.
pub fn int_param(p: &Params, name: &str) -> Result<Option<u32>, ApiError> {
    param(p, name)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                ApiError::new(
                    "InvalidParameterValue",
                    format!("The parameter {name} must be an integer."),
                )
            })
        })
        .transpose()
}

/// `MaxRecords` within `min..=max` (default `max`); else `InvalidParameterValue`.
pub fn max_records(p: &Params, min: usize, max: usize) -> Result<usize, ApiError> {
    match param(p, "MaxRecords") {
        None => Ok(max),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::new(
                "InvalidParameterValue",
                format!("The parameter MaxRecords must be between {min} and {max}."),
            )),
        },
    }
}

/// Slices `items` at the opaque `Marker` (a start index) and returns the next marker, if any.
pub fn page<T>(
    items: Vec<T>,
    p: &Params,
    min: usize,
    max: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = max_records(p, min, max)?;
    let start = match param(p, "Marker") {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| ApiError::new("InvalidParameterValue", "Invalid Marker."))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let next = (start + size < total).then(|| (start + size).to_string());
    Ok((page, next))
}

/// Slices `items` at the opaque `NextToken` (a start index) in pages of `MaxResults` (`min..=max`, default
/// `default`), the paging of the serverless actions (botocore `elasticache/2015-02-02`, DescribeServerlessCaches and
/// DescribeServerlessCacheSnapshots: "The default is 50"); returns the page and the next token, if any.
///
/// # Errors
/// `InvalidParameterValue` for a `MaxResults` out of range or a `NextToken` this emulator did not give.
pub fn page_tokens<T>(
    items: Vec<T>,
    p: &Params,
    (min, max, default): (usize, usize, usize),
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let size = match param(p, "MaxResults") {
        None => default,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    format!("The parameter MaxResults must be between {min} and {max}."),
                ));
            }
        },
    };
    let start = match param(p, "NextToken") {
        None => 0,
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| ApiError::new("InvalidParameterValue", "Invalid NextToken."))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let next = (start + size < total).then(|| (start + size).to_string());
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_lists_are_read_in_index_order() {
        let p: Params = [
            ("SnapshotArns.SnapshotArn.2", "b"),
            ("SnapshotArns.SnapshotArn.1", "a"),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.Slots",
                "0-8191",
            ),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.2.Slots",
                "8192-16383",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(list_param(&p, "SnapshotArns"), vec!["a", "b"]);
        let ngs = struct_list_param(&p, "NodeGroupConfiguration");
        assert_eq!(ngs[1]["Slots"], "8192-16383");
    }
}
