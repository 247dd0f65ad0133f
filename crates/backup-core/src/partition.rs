//! AWS partitions and how ElastiCache reads a seed `.rdb` in each region: every ARN is built from the region's
//! partition (`arn:aws:…`, `arn:aws-us-gov:…`, `arn:aws-cn:…`), and the seeding grant follows the documented route
//! for the kind of region.
//!
//! Sources:
//! - ElastiCache User Guide, "Seeding a new self-designed cluster with an externally created backup": in the default
//!   regions, grant ElastiCache's canonical user read on the object and on its ACL (an **object ACL**); in the opt-in
//!   regions, a **bucket policy** for `<region>.elasticache-snapshot.amazonaws.com` (`s3:GetObject`,
//!   `s3:ListBucket`, `s3:GetBucketAcl`).
//! - Canonical ids: `aws` `540804c3…` (same page); `aws-us-gov` `40fa5682…` (AWS GovCloud (US) User Guide,
//!   ElastiCache); `aws-cn` `b14d6a12…` (Getting Started with Amazon Web Services in China, "Amazon ElastiCache",
//!   feature differences: "type the canonical ID … in the Grantee field").
//! - Opt-in regions: AWS Account Management Reference Guide, "Specify which AWS Regions your account can use".
//! - ARN partitions: AWS General Reference, "Amazon Resource Names (ARNs)"; China: "ARNs for Amazon Web Services in
//!   China".

/// An AWS partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// `aws`: the commercial regions.
    Aws,
    /// `aws-us-gov`: AWS GovCloud (US).
    AwsUsGov,
    /// `aws-cn`: Beijing and Ningxia.
    AwsCn,
}

impl Partition {
    /// The partition of `region` (`cn-*` → `aws-cn`, `us-gov-*` → `aws-us-gov`, otherwise `aws`).
    pub fn of_region(region: &str) -> Self {
        if region.starts_with("cn-") {
            Self::AwsCn
        } else if region.starts_with("us-gov-") {
            Self::AwsUsGov
        } else {
            Self::Aws
        }
    }

    /// The partition's name, as in ARNs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::AwsUsGov => "aws-us-gov",
            Self::AwsCn => "aws-cn",
        }
    }

    /// ElastiCache's canonical user id in this partition: the grantee of the object-ACL seeding grant.
    pub fn elasticache_canonical_id(self) -> &'static str {
        match self {
            Self::Aws => "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353",
            Self::AwsUsGov => "40fa568277ad703bd160f66ae4f83fc9dfdfd06c2f1b5060ca22442ac3ef8be6",
            Self::AwsCn => "b14d6a125bdf69854ed8ef2e71d8a20b7c490f252229b806e514966e490b8d83",
        }
    }

    /// The ARN of S3 object `key` in `bucket` (what `CreateReplicationGroup.SnapshotArns` takes).
    pub fn s3_object_arn(self, bucket: &str, key: &str) -> String {
        format!("arn:{}:s3:::{bucket}/{key}", self.name())
    }
}

/// Regions an account must opt in to (AWS Account Management Reference Guide). Their seeding route is the bucket
/// policy; every other region's is the object ACL.
pub const OPT_IN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// How ElastiCache is given read access to the `.rdb` objects a restore seeds from (`SEEDING_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedingMode {
    /// `bucket-policy`: the export bucket's policy grants the regional service principal read access (documented
    /// for the opt-in regions); the restore seeds from the export bucket itself.
    BucketPolicy,
    /// `object-acl`: ResolveBackup copies each object into the seed bucket (ACLs enabled) with an object ACL
    /// granting ElastiCache's canonical user `READ` and `READ_ACP` (documented for the default regions); the
    /// restore seeds from the copies.
    ObjectAcl,
}

impl SeedingMode {
    /// The documented route for `region`.
    pub fn for_region(region: &str) -> Self {
        if OPT_IN_REGIONS.contains(&region) {
            Self::BucketPolicy
        } else {
            Self::ObjectAcl
        }
    }

    /// Reads `bucket-policy` or `object-acl`.
    ///
    /// # Errors
    /// The rule, when `text` is neither.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "bucket-policy" => Ok(Self::BucketPolicy),
            "object-acl" => Ok(Self::ObjectAcl),
            _ => Err("must be bucket-policy or object-acl".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_canonical_ids_and_arns_follow_the_region() {
        assert_eq!(Partition::of_region("eu-west-1"), Partition::Aws);
        assert_eq!(Partition::of_region("us-gov-west-1"), Partition::AwsUsGov);
        assert_eq!(Partition::of_region("cn-northwest-1"), Partition::AwsCn);
        assert_eq!(
            Partition::of_region("cn-north-1").s3_object_arn("b", "e-0001.rdb"),
            "arn:aws-cn:s3:::b/e-0001.rdb"
        );
        assert_eq!(
            Partition::of_region("us-gov-east-1").s3_object_arn("b", "k"),
            "arn:aws-us-gov:s3:::b/k"
        );
        assert!(
            Partition::AwsCn
                .elasticache_canonical_id()
                .starts_with("b14d6a12")
        );
        assert!(
            Partition::AwsUsGov
                .elasticache_canonical_id()
                .starts_with("40fa5682")
        );
    }

    #[test]
    fn the_seeding_route_follows_the_kind_of_region() {
        assert_eq!(SeedingMode::for_region("us-east-1"), SeedingMode::ObjectAcl);
        assert_eq!(
            SeedingMode::for_region("cn-north-1"),
            SeedingMode::ObjectAcl
        );
        assert_eq!(
            SeedingMode::for_region("ap-east-1"),
            SeedingMode::BucketPolicy
        );
        assert_eq!(SeedingMode::parse("object-acl"), Ok(SeedingMode::ObjectAcl));
        assert!(SeedingMode::parse("acl").is_err());
    }
}
