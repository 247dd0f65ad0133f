"""The vault on the local stack: a second bucket standing in for the vault account's (terraform/modules/vault:
Object Lock in COMPLIANCE mode with a default retention), and the replication S3 would do into it.

moto does not replicate (it stores a replication configuration and does nothing with it), and S3's Batch Replication
(S3 Control `CreateJob`) is not in moto either, so `replicate` is the local replication step: it applies the backup
bucket's replication rule as terraform/vault.tf writes it — only the current version of objects tagged
`elasticache-backup:verified=true`, never a delete marker, the tags carried over — once per source version. What it
stands for in AWS: live replication of objects written with the tag (the manifest, the evidence reports) and the
Batch Replication job WriteManifest starts for the shard objects it tagged after ElastiCache wrote them."""

from __future__ import annotations

import urllib.parse

VAULT_BUCKET = "ecb-local-vault"
VERIFIED_TAG_KEY = "elasticache-backup:verified"
# The metadata key a replica carries its source version under (S3 keeps the version id itself; moto cannot).
SOURCE_VERSION = "source-version-id"


def create_vault(s3, bucket: str = VAULT_BUCKET, retention_days: int = 1) -> None:
    """The vault bucket: versioned by Object Lock, COMPLIANCE default retention of `retention_days`."""
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": retention_days}}})


def is_verified(tags: list[dict]) -> bool:
    """The replication rule's filter: the tag `elasticache-backup:verified` with the value `true` (exactly, as S3
    matches tag filters)."""
    return any(t["Key"] == VERIFIED_TAG_KEY and t["Value"] == "true" for t in tags)


def replicate(s3, source: str, vault: str = VAULT_BUCKET) -> list[str]:
    """One pass of the local replication from `source` to `vault`: answers the keys copied. A key whose newest
    version is a delete marker is skipped (delete markers are not replicated: the vault keeps what it has); an
    untagged object (an export that failed verification, or not yet verified) is skipped; a version already in the
    vault is not copied again. The copy is written with a SHA-256 checksum (the vault's default retention requires an
    integrity header on every PUT: S3 User Guide, "Object Lock considerations"; S3's own replication needs none)."""
    copied = []
    in_vault = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=vault):
        for v in page.get("Versions", []):
            in_vault.setdefault(v["Key"], set())
    for key in list(in_vault):
        head = s3.head_object(Bucket=vault, Key=key)
        in_vault[key] = head.get("Metadata", {}).get(SOURCE_VERSION)
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=source):
        latest_markers = {m["Key"] for m in page.get("DeleteMarkers", []) if m["IsLatest"]}
        for v in page.get("Versions", []):
            key = v["Key"]
            if not v["IsLatest"] or key in latest_markers:
                continue
            version = v.get("VersionId") or "null"
            if in_vault.get(key) == version:
                continue
            tags = s3.get_object_tagging(Bucket=source, Key=key, VersionId=version)["TagSet"] \
                if version != "null" else s3.get_object_tagging(Bucket=source, Key=key)["TagSet"]
            if not is_verified(tags):
                continue
            body = s3.get_object(Bucket=source, Key=key)["Body"].read()
            s3.put_object(Bucket=vault, Key=key, Body=body, ChecksumAlgorithm="SHA256",
                          Tagging=urllib.parse.urlencode([(t["Key"], t["Value"]) for t in tags]),
                          Metadata={SOURCE_VERSION: version})
            copied.append(key)
    return copied
