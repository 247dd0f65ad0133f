//! The engine-versions table is written twice, in the crate documentation and in the README: they must not drift.

/// The table rows of `text` (lines starting with `|`, after an optional `//! `), rustdoc links made plain code.
fn table(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.strip_prefix("//! ").unwrap_or(l))
        .filter(|l| {
            l.starts_with("| Engine")
                || l.starts_with("| Redis")
                || l.starts_with("| Valkey")
                || l.starts_with("| a later")
                || l.starts_with("|---|---|---|---|---|")
        })
        .map(|l| l.replace("[`", "`").replace("`]", "`"))
        .collect()
}

#[test]
fn the_readme_and_the_crate_documentation_show_the_same_engine_versions_table() {
    let lib = table(include_str!("../src/lib.rs"));
    let readme = table(include_str!("../README.md"));
    assert!(lib.len() >= 10, "{lib:#?}");
    assert_eq!(lib, readme);
}
