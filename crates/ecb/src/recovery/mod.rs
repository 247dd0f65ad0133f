//! Key-level recovery from backups (issue 25). STAND-IN module file of the restore-keys branch: the keys-read branch
//! owns this file (with `glob`, `source`, `keys`, `report`, `diff`, `live`); the lead merges the two module lists.

pub mod target;
pub mod write;
