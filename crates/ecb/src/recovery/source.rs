//! The BACKUP argument of `ecb keys`, `ecb report` and `ecb diff`: where the RDB data is, as a list of shards walked
//! one after the other with the checker's key walk ([`rdb_check::keys::walk`]).
//!
//! - a local path: one shard, the file (no AWS configuration is read);
//! - `s3://bucket/key.rdb` (any key not ending in `.manifest.json`): one shard, the object;
//! - `s3://bucket/<export>.manifest.json`: the backup's manifest (read as `ecb show` reads it,
//!   [`Manifest::from_json`]), one shard per object it lists (`objects[].key`, in the manifest's bucket as the URL
//!   names it: the manifest lies next to its objects).
//!
//! Objects are read with rdb-check's S3 reader ([`rdb_check::s3`]: `HeadObject`, then parallel ranged `GetObject`s
//! with `If-Match`), with an S3 client built from `--region` / `--profile` and the usual AWS sources only when an
//! `s3://` argument is given.

use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use backup_core::backup::manifest::Manifest;
use rdb_check::keys::{KeyVisitor, WalkEnd, WalkOptions};
use rdb_check::{RdbError, Report};

use super::Env;
use crate::error::{CliError, CliResult};

/// One RDB stream of a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// The file path or the object key.
    pub name: String,
    /// Its size, bytes, when known before reading (a local file; a manifest's `sizeBytes`).
    pub size_bytes: Option<u64>,
    location: Location,
    /// What the first walk read (an object's `ETag`; a file's device, inode, size and modification time): a later
    /// walk of a shard that changed since is refused, so `restore-keys` never writes from data it did not check.
    seen: OnceLock<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

/// A backup: what the argument named and its shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The argument as given.
    pub label: String,
    /// Its shards, in order (a manifest's objects in its order).
    pub shards: Vec<Shard>,
}

/// What a BACKUP argument is, before anything is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A local file.
    Local(PathBuf),
    /// One S3 object holding an RDB file.
    Object {
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
    },
    /// A backup manifest in S3.
    Manifest {
        /// Bucket.
        bucket: String,
        /// Key (`….manifest.json`).
        key: String,
    },
}

impl Spec {
    /// Reads `arg`.
    ///
    /// # Errors
    /// `Usage` for an `s3://` URL without a bucket or a key, or an empty argument.
    pub fn parse(arg: &str) -> CliResult<Self> {
        let Some(rest) = arg.strip_prefix("s3://") else {
            if arg.contains("://") {
                return Err(CliError::Usage(format!(
                    "BACKUP {}: a backup is a local .rdb file, s3://bucket/key.rdb or \
                     s3://bucket/<export>.manifest.json (a live server can only be diff's second argument)",
                    super::target::redact_userinfo(arg)
                )));
            }
            if arg.is_empty() {
                return Err(CliError::Usage(
                    "BACKUP: empty (a local .rdb file, s3://bucket/key.rdb or s3://bucket/<export>.manifest.json)"
                        .into(),
                ));
            }
            return Ok(Self::Local(PathBuf::from(arg)));
        };
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| CliError::Usage(format!("BACKUP {arg}: expected s3://bucket/key")))?;
        let (bucket, key) = (bucket.to_string(), key.to_string());
        Ok(if key.ends_with(".manifest.json") {
            Self::Manifest { bucket, key }
        } else {
            Self::Object { bucket, key }
        })
    }
}

impl Backup {
    /// Finds the shards of `arg`: for a manifest, reads it; for a local file, checks that it is there.
    ///
    /// # Errors
    /// `Usage` (a bad argument, a manifest that does not parse or lists no object), `NotFound` (no such file,
    /// object or manifest), `Aws`.
    pub fn open(arg: &str, env: &Env) -> CliResult<Self> {
        let shards = match Spec::parse(arg)? {
            Spec::Local(path) => {
                let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => {
                        CliError::NotFound(format!("BACKUP {arg}: no such file"))
                    }
                    _ => CliError::Usage(format!("BACKUP {arg}: {e}")),
                })?;
                if meta.is_dir() {
                    return Err(CliError::Usage(format!(
                        "BACKUP {arg}: a directory, not an RDB file"
                    )));
                }
                vec![Shard {
                    name: arg.to_string(),
                    size_bytes: Some(meta.len()),
                    location: Location::File(path),
                    seen: OnceLock::new(),
                }]
            }
            Spec::Object { bucket, key } => vec![Shard {
                name: key.clone(),
                size_bytes: None,
                location: Location::S3 { bucket, key },
                seen: OnceLock::new(),
            }],
            Spec::Manifest { bucket, key } => {
                let s3 = env.s3()?;
                let raw = env
                    .runtime
                    .block_on(crate::backups::get(&s3, &bucket, &key))?;
                let m = Manifest::from_json(&raw).map_err(|e| {
                    CliError::Usage(format!("BACKUP {arg}: not a readable manifest: {e}"))
                })?;
                shards_of_manifest(&m, &bucket)
                    .map_err(|e| CliError::Usage(format!("BACKUP {arg}: {e}")))?
            }
        };
        Ok(Self {
            label: arg.to_string(),
            shards,
        })
    }

    /// Bytes of all shards whose size is known.
    pub fn known_bytes(&self) -> u64 {
        self.shards.iter().filter_map(|s| s.size_bytes).sum()
    }

    /// Walks shard `index` with `visitor`: its [`Report`] when read to the end, `None` when the visitor stopped.
    ///
    /// # Errors
    /// `Usage` when the shard is not a sound RDB file (the checker's finding, naming the shard); `NotFound` for a
    /// missing object; `Aws` when S3 refuses or fails a read.
    pub fn walk(
        &self,
        index: usize,
        env: &Env,
        options: &WalkOptions,
        visitor: &mut dyn KeyVisitor,
    ) -> CliResult<Option<Report>> {
        let Some(shard) = self.shards.get(index) else {
            return Ok(None);
        };
        let result = match &shard.location {
            Location::File(path) => {
                let file = File::open(path)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
                let m = file
                    .metadata()
                    .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
                let mtime = m
                    .modified()
                    .ok()
                    .map(|t| format!("{t:?}"))
                    .unwrap_or_default();
                shard.pin(&format!(
                    "{}:{} {} bytes {mtime}",
                    m.dev(),
                    m.ino(),
                    m.len()
                ))?;
                rdb_check::keys::walk(BufReader::with_capacity(1 << 20, file), options, visitor)
            }
            Location::S3 { bucket, key } => {
                let s3 = env.s3()?;
                let (reader, info) = env
                    .runtime
                    .block_on(rdb_check::s3::open(&s3, bucket, key, env.range))
                    .map_err(|e| {
                        CliError::aws(
                            &format!("HeadObject s3://{bucket}/{key}"),
                            e,
                            &["NotFound", "NoSuchKey", "NoSuchBucket"],
                        )
                    })?;
                // Every part is read with If-Match on this ETag: pinning it pins the bytes.
                shard.pin(&format!(
                    "ETag {} ({} bytes)",
                    info.etag.as_deref().unwrap_or("none"),
                    info.size_bytes
                ))?;
                // The reader blocks on the runtime's download task: read here, outside the runtime.
                rdb_check::keys::walk(reader, options, visitor)
            }
        };
        match result {
            Ok(WalkEnd::Finished(report)) => Ok(Some(*report)),
            Ok(WalkEnd::Stopped) => Ok(None),
            Err(e) => Err(walk_error(shard, &e)),
        }
    }
}

impl Shard {
    /// Records what this walk reads (`identity`) the first time; refuses a later walk of something else.
    fn pin(&self, identity: &str) -> CliResult<()> {
        let first = self.seen.get_or_init(|| identity.to_string());
        if first == identity {
            Ok(())
        } else {
            Err(CliError::Failed(format!(
                "{} changed since it was checked (then {first}, now {identity}): stopped before reading it again",
                self.name
            )))
        }
    }
}

/// A walk's failure: reading an S3 object is `Aws`; anything else says the data is not a sound RDB (`Usage`).
fn walk_error(shard: &Shard, e: &RdbError) -> CliError {
    match (&shard.location, e) {
        (Location::S3 { .. }, RdbError::Io { .. }) => CliError::Aws(format!("{}: {e}", shard.name)),
        _ => CliError::Usage(format!("{}: not a sound RDB file: {e}", shard.name)),
    }
}

/// The shards a manifest lists, in `bucket`.
fn shards_of_manifest(m: &Manifest, bucket: &str) -> Result<Vec<Shard>, String> {
    if m.objects.is_empty() {
        return Err("the manifest lists no objects".into());
    }
    Ok(m.objects
        .iter()
        .map(|o| Shard {
            seen: OnceLock::new(),
            name: o.key.clone(),
            size_bytes: Some(o.size_bytes),
            location: Location::S3 {
                bucket: bucket.to_string(),
                key: o.key.clone(),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_files_objects_or_manifests() {
        assert_eq!(
            Spec::parse("dump.rdb").unwrap(),
            Spec::Local("dump.rdb".into())
        );
        assert_eq!(
            Spec::parse("s3://b/dir/ecb-x-0001.rdb").unwrap(),
            Spec::Object {
                bucket: "b".into(),
                key: "dir/ecb-x-0001.rdb".into()
            }
        );
        assert_eq!(
            Spec::parse("s3://b/ecb-x.manifest.json").unwrap(),
            Spec::Manifest {
                bucket: "b".into(),
                key: "ecb-x.manifest.json".into()
            }
        );
        for bad in ["", "s3://", "s3://b", "s3://b/", "s3:///k"] {
            assert!(matches!(Spec::parse(bad), Err(CliError::Usage(_))), "{bad}");
        }
    }

    #[test]
    fn a_manifest_gives_one_shard_per_object_in_the_urls_bucket() {
        let doc = serde_json::json!({
            "manifestVersion": 4, "tool": "elasticache-backup", "exportName": "ecb-x", "bucket": "elsewhere",
            "verifiedAt": "2026-11-22T03:06:05Z",
            "totals": {"objects": 2, "keys": 3, "keysWithExpiry": 0, "bytes": 30},
            "objects": [
                {"key": "ecb-x-0001.rdb", "sizeBytes": 10, "sha256": "00", "rdb": {"magic": "REDIS", "version": 11, "keys": 1, "keysWithExpiry": 0}},
                {"key": "ecb-x-0002.rdb", "sizeBytes": 20, "sha256": "00", "rdb": {"magic": "REDIS", "version": 11, "keys": 1, "keysWithExpiry": 0}}
            ]
        });
        let m = Manifest::from_json(doc.to_string().as_bytes()).unwrap();
        let shards = shards_of_manifest(&m, "b").unwrap();
        assert_eq!(shards.len(), 2);
        assert_eq!(shards[1].name, "ecb-x-0002.rdb");
        assert_eq!(shards[1].size_bytes, Some(20));
        assert_eq!(
            shards[0].location,
            Location::S3 {
                bucket: "b".into(),
                key: "ecb-x-0001.rdb".into()
            }
        );
        let mut empty = m.clone();
        empty.objects.clear();
        assert!(shards_of_manifest(&empty, "b").is_err());
    }

    #[test]
    fn a_shard_that_changed_since_the_first_walk_is_refused_and_urls_are_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dump.rdb");
        std::fs::write(&path, b"REDIS0011\xff\0\0\0\0\0\0\0\0").unwrap();
        let backup = Backup {
            label: "dump.rdb".into(),
            shards: vec![Shard {
                name: "dump.rdb".into(),
                size_bytes: None,
                location: Location::File(path.clone()),
                seen: OnceLock::new(),
            }],
        };
        let env = Env::new(
            &crate::cli::Global::default(),
            &crate::cli::S3ReadArgs {
                part_mib: 8,
                parallel: 4,
            },
        )
        .unwrap();
        struct Nothing;
        impl KeyVisitor for Nothing {
            fn want(&mut self, _: u64, _: &[u8], _: u8) -> Option<rdb_check::keys::Want> {
                None
            }
            fn key(&mut self, _: &rdb_check::keys::KeyEntry<'_>) -> bool {
                true
            }
        }
        let options = WalkOptions::default();
        assert!(
            backup
                .walk(0, &env, &options, &mut Nothing)
                .unwrap()
                .is_some()
        );
        assert!(
            backup
                .walk(0, &env, &options, &mut Nothing)
                .unwrap()
                .is_some()
        );
        // Replaced by another file (a new BGSAVE renames its temporary file over the old one).
        let other = dir.path().join("temp.rdb");
        std::fs::write(&other, b"REDIS0011\xff\0\0\0\0\0\0\0\0").unwrap();
        std::fs::rename(&other, &path).unwrap();
        let e = backup.walk(0, &env, &options, &mut Nothing).unwrap_err();
        assert!(
            e.to_string().contains("changed since it was checked"),
            "{e}"
        );
        // Only s3:// URLs are backups; any other is refused without its credentials.
        let e = Spec::parse("redis://app:s3cret@cache:6379")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[redacted]") && !e.contains("s3cret"), "{e}");
    }

    #[test]
    fn a_corrupt_file_is_bad_input_and_a_failed_s3_read_is_aws() {
        let file = Shard {
            name: "f.rdb".into(),
            size_bytes: None,
            location: Location::File("f.rdb".into()),
            seen: OnceLock::new(),
        };
        let object = Shard {
            name: "k.rdb".into(),
            size_bytes: None,
            location: Location::S3 {
                bucket: "b".into(),
                key: "k.rdb".into(),
            },
            seen: OnceLock::new(),
        };
        let corrupt = RdbError::Corrupt {
            offset: 9,
            what: "bad".into(),
        };
        let io = || RdbError::Io {
            offset: 0,
            source: std::io::Error::other("GetObject failed"),
        };
        assert!(
            matches!(walk_error(&file, &corrupt), CliError::Usage(m) if m.contains("f.rdb") && m.contains("offset 9"))
        );
        assert!(matches!(walk_error(&object, &corrupt), CliError::Usage(_)));
        assert!(matches!(walk_error(&object, &io()), CliError::Aws(_)));
        assert!(matches!(walk_error(&file, &io()), CliError::Usage(_)));
    }
}
