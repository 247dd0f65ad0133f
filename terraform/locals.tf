data "aws_region" "current" {}
data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}
data "aws_partition" "current" {}

locals {
  # `id` is the region name in provider v5 and v6 (v6 deprecates `name` for `region`, which v5 lacks).
  region     = data.aws_region.current.id
  account_id = coalesce(var.account_id, try(data.aws_caller_identity.current[0].account_id, null))
  partition  = data.aws_partition.current.partition

  default_artifacts_dir = "${path.module}/../target/lambda"
  artifacts_dir         = coalesce(var.lambda_artifacts_dir, local.default_artifacts_dir)
  # Zips from S3 (`make publish-artifacts`): <prefix><function>/bootstrap.zip with its base64 SHA-256 beside it.
  artifacts_from_s3 = var.artifacts_s3_bucket != null
  artifact_zip      = { for k in keys(local.functions) : k => "${local.artifacts_dir}/${k}/bootstrap.zip" }
  artifact_key      = { for k in keys(local.functions) : k => "${var.artifacts_s3_key_prefix}${k}/bootstrap.zip" }
  artifact_hash = { for k in keys(local.functions) : k => (local.artifacts_from_s3
    ? trimspace(data.aws_s3_object.artifact_hash[k].body)
  : try(filebase64sha256(local.artifact_zip[k]), null)) }
  artifact_missing = "is missing: run `make build ARCH=${var.architecture}` in a clone of elasticache-backup (it writes target/lambda/<function>/bootstrap.zip) and point lambda_artifacts_dir at that target/lambda, or upload the zips with `make publish-artifacts BUCKET=<bucket>` and set artifacts_s3_bucket"
  bucket_name      = coalesce(var.bucket_name, "${var.name}-${local.account_id}-${local.region}")
  bucket_arn       = "arn:${local.partition}:s3:::${local.bucket_name}"

  # The snapshots this tool creates are all named ecb-… (crates/backup-core/src/naming.rs).
  ec_arn        = "arn:${local.partition}:elasticache:${local.region}:${local.account_id}"
  our_snapshots = "${local.ec_arn}:snapshot:ecb-*"
  # ElastiCache Serverless: snapshots of this project are named ecb-… as node-based ones (Service Authorization
  # Reference, Amazon ElastiCache, resource types serverlesscache and serverlesscachesnapshot).
  our_serverless_snapshots = "${local.ec_arn}:serverlesscachesnapshot:ecb-*"
  serverless_caches        = "${local.ec_arn}:serverlesscache:*"
  # The targets the schedules name, lower-cased as the backup names them in its metrics: single-target schedules and
  # the explicit lists of fleet schedules (a selector's targets are known only when it runs).
  # A serverless cache counts by its name (ElastiCache stores it lower-cased).
  scheduled_targets = toset(concat(
    [for k, s in var.schedules : lower(coalesce(s.replication_group_id, s.cache_cluster_id, s.serverless_cache_name)) if s.selector == null && s.targets == null],
    flatten([for k, s in var.schedules : [for t in coalesce(s.targets, []) : lower(coalesce(t.replication_group_id, t.cache_cluster_id, t.serverless_cache_name))]]),
  ))
  # The scheduled serverless caches: no member nodes, so their ElastiCache events name the cache or its snapshot only.
  scheduled_serverless_caches = toset(concat(
    [for k, s in var.schedules : lower(s.serverless_cache_name) if s.serverless_cache_name != null],
    flatten([for k, s in var.schedules : [for t in coalesce(s.targets, []) : lower(t.serverless_cache_name) if t.serverless_cache_name != null]]),
  ))
  # The scheduled node-based targets (replication groups and clusters), whose events may name a member node.
  scheduled_node_targets = toset(concat(
    [for k, s in var.schedules : lower(coalesce(s.replication_group_id, s.cache_cluster_id)) if s.replication_group_id != null || s.cache_cluster_id != null],
    flatten([for k, s in var.schedules : [for t in coalesce(s.targets, []) : lower(coalesce(t.replication_group_id, t.cache_cluster_id)) if t.replication_group_id != null || t.cache_cluster_id != null]]),
  ))
  # Schedules that back up a fleet (a tag selector or a list) through the fleet state machine.
  fleet_schedules = { for k, s in var.schedules : k => s if s.selector != null || s.targets != null }
  # CloudWatch namespace of the backup's embedded metrics (backup_core::restore::METRIC_NAMESPACE).
  metric_namespace = "ElastiCacheBackup"
  state_machine    = var.name
  restore_machine  = "${var.name}-restore"
  fleet_machine    = "${var.name}-fleet"
  # Where a Distributed Map fleet keeps its target list and results in the bucket (backup_core::fleet::FLEET_RUNS_PREFIX).
  fleet_runs_prefix = "fleet-runs"
  # Where a restore from the vault copies its seed objects in seeding mode bucket-policy (RESTORE_SEEDS_PREFIX).
  restore_seeds_prefix   = "restore-seeds"
  fleet_executions_arn   = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.fleet_machine}:*"
  restore_executions_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.restore_machine}:*"
  # The restore state machine in dr_region (dr.tf), whose status changes reach notify through the primary bus.
  dr_restore_machine_arn    = local.dr ? "arn:${local.partition}:states:${var.dr_region}:${local.account_id}:stateMachine:${local.restore_machine}" : ""
  dr_restore_executions_arn = local.dr ? "arn:${local.partition}:states:${var.dr_region}:${local.account_id}:execution:${local.restore_machine}:*" : null
  # ElastiCache's canonical user id, per partition: the grantee of the object ACL that seeding asks for in the
  # default regions (seeding_mode "object-acl").
  # - aws: ElastiCache User Guide, "Seeding a new self-designed cluster with an externally created backup";
  # - aws-us-gov: AWS GovCloud (US) User Guide, "Amazon ElastiCache";
  # - aws-cn: Amazon Web Services in China, "Amazon ElastiCache", Feature Availability and Implementation
  #   Differences (https://docs.amazonaws.cn/en_us/aws/latest/userguide/elasticache.html).
  elasticache_canonical_users = {
    aws        = "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353"
    aws-us-gov = "40fa568277ad703bd160f66ae4f83fc9dfdfd06c2f1b5060ca22442ac3ef8be6"
    aws-cn     = "b14d6a125bdf69854ed8ef2e71d8a20b7c490f252229b806e514966e490b8d83"
  }
  elasticache_canonical_user = lookup(local.elasticache_canonical_users, local.partition, null)
  executions_arn             = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.state_machine}:*"
  # The backup state machine's ARN as AWS forms it (Step Functions API Reference, "CreateStateMachine": arn:…:stateMachine:
  # name), for the policies that let others start it: known at plan time, so a change of its definition does not make
  # those policies unknown until the apply.
  state_machine_arn    = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine}"
  restore_auth_secrets = coalesce(var.restore_auth_token_secret_arns, ["arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${var.name}-restore-auth-*"])

  # The DR region: a replica bucket and the restore steps there.
  dr             = var.dr_region != null && var.create_bucket
  dr_bucket_name = local.dr ? "${var.name}-${local.account_id}-${var.dr_region}" : ""
  dr_bucket_arn  = "arn:${local.partition}:s3:::${local.dr_bucket_name}"
  # Where the DR region's alerts are forwarded: this region's default event bus.
  primary_event_bus_arn = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/default"

  # The ASL files spell Step Functions' service integrations (startExecution.sync:2, s3:getObject…) in the commercial
  # partition, as asl-validator and the local stack read them; each state machine gets them in its own partition
  # (GovCloud: arn:aws-us-gov:states:::…, China: arn:aws-cn:states:::…). The module spells no other ARN in one partition.
  asl_integration_prefix    = "arn:aws:states:::"
  states_integration_prefix = "arn:${local.partition}:states:::"

  # The regional service principal that writes exports into the bucket (ElastiCache User Guide, "Exporting a backup").
  elasticache_export_principal = "${local.region}.elasticache-snapshot.amazonaws.com"

  # How ElastiCache reads the .rdb objects a restore seeds a group from (seeding_mode), per region where restores run.
  # The seeding guide (ElastiCache User Guide, "Seeding a new self-designed cluster with an externally created
  # backup") documents two routes: in the opt-in regions a bucket policy for <region>.elasticache-snapshot.amazonaws.com
  # (s3:GetObject, s3:ListBucket, s3:GetBucketAcl), which the export bucket's policy already grants; in the default
  # regions an object ACL granting ElastiCache's canonical user READ and READ_ACP, which a bucket with ACLs disabled
  # cannot hold, so restores copy the shard objects into a small seed bucket with ACLs enabled (bucket.tf).
  # Opt-in regions are those launched after March 20, 2019, disabled until the account enables them (AWS Account
  # Management Reference Guide, "Specify which AWS Regions your account can use",
  # https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html). GovCloud and China have no
  # opt-in regions and their own canonical ids (above).
  opt_in_regions = toset([
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1",
  ])
  seeding_mode    = coalesce(var.seeding_mode, contains(local.opt_in_regions, local.region) ? "bucket-policy" : "object-acl")
  dr_seeding_mode = local.dr ? coalesce(var.seeding_mode, contains(local.opt_in_regions, var.dr_region) ? "bucket-policy" : "object-acl") : null
  # The seed bucket of a region: <bucket>-seed, or, when that exceeds S3's 63 characters, the bucket name cut to 49
  # characters, -seed- and 8 hex digits of its SHA-256 (still unique per export bucket).
  seed_bucket_names = { for b in distinct(compact([local.bucket_name, local.dr_bucket_name])) : b => (
    length("${b}-seed") <= 63 ? "${b}-seed" : "${trim(substr(b, 0, 49), "-.")}-seed-${substr(sha256(b), 0, 8)}"
  ) }
  seed_bucket_name    = local.seeding_mode == "object-acl" ? coalesce(var.seed_bucket_name, local.seed_bucket_names[local.bucket_name]) : null
  seed_bucket_arn     = "arn:${local.partition}:s3:::${coalesce(local.seed_bucket_name, "none")}"
  dr_seed_bucket_name = local.dr_seeding_mode == "object-acl" ? local.seed_bucket_names[local.dr_bucket_name] : null
  dr_seed_bucket_arn  = "arn:${local.partition}:s3:::${coalesce(local.dr_seed_bucket_name, "none")}"
  # Each region's seeding: the mode, the export (or replica) bucket and the seed bucket; the restore functions' seeding
  # grants and environment are built per region from it (functions below, dr.tf).
  seed_contexts = merge(
    { primary = { mode = local.seeding_mode, bucket_arn = local.bucket_arn, seed_bucket = local.seed_bucket_name, seed_bucket_arn = local.seed_bucket_arn } },
    local.dr ? { dr = { mode = local.dr_seeding_mode, bucket_arn = local.dr_bucket_arn, seed_bucket = local.dr_seed_bucket_name, seed_bucket_arn = local.dr_seed_bucket_arn } } : {},
  )
  # SEEDING_MODE tells resolve-backup and create-group which route to take; SEED_BUCKET is where resolve-backup copies
  # the shard objects (object-acl only).
  seeding_env = { for r, c in local.seed_contexts : r => merge(
    { SEEDING_MODE = c.mode },
    c.mode == "object-acl" ? { SEED_BUCKET = c.seed_bucket } : {},
  ) }

  step_env = {
    BACKUP_BUCKET            = local.bucket_name
    SNAPSHOT_TIMEOUT_SECONDS = tostring(var.snapshot_timeout_seconds)
    EXPORT_TIMEOUT_SECONDS   = tostring(var.export_timeout_seconds)
  }

  # One entry per crate under functions/ (every one is a Lambda; libraries live in crates/).
  # `statements` is exactly what the handler calls (see docs/operations.md, "Configuration", and the consistency test).
  functions = {
    create-snapshot = {
      description = "Validates the input, picks a replica (or the group) and calls CreateSnapshot"
      timeout     = 60
      memory      = 256
      env         = local.step_env
      statements = [
        { sid = "Describe", actions = ["elasticache:DescribeReplicationGroups"], resources = ["${local.ec_arn}:replicationgroup:*"] },
        { sid = "DescribeNodes", actions = ["elasticache:DescribeCacheClusters"], resources = ["${local.ec_arn}:cluster:*"] },
        { sid = "DescribeServerless", actions = ["elasticache:DescribeServerlessCaches"], resources = [local.serverless_caches] },
        # A snapshot of this run's name is resumed only when its tags say it is this execution's.
        { sid = "DescribeOurSnapshots", actions = ["elasticache:DescribeSnapshots", "elasticache:ListTagsForResource"], resources = [local.our_snapshots, local.our_serverless_snapshots] },
        { sid = "DescribeOurServerlessSnapshots", actions = ["elasticache:DescribeServerlessCacheSnapshots"], resources = [local.our_serverless_snapshots] },
        # CreateSnapshot tags the snapshot as this execution's (the sweeper's proof), which needs AddTagsToResource.
        {
          sid       = "CreateOurSnapshots"
          actions   = ["elasticache:CreateSnapshot", "elasticache:AddTagsToResource"]
          resources = [local.our_snapshots, "${local.ec_arn}:cluster:*", "${local.ec_arn}:replicationgroup:*"]
        },
        # The same for a serverless cache (CreateServerlessCacheSnapshot with Tags).
        {
          sid       = "CreateOurServerlessSnapshots"
          actions   = ["elasticache:CreateServerlessCacheSnapshot", "elasticache:AddTagsToResource"]
          resources = [local.our_serverless_snapshots, local.serverless_caches]
        },
        # The preflight before anything is created: HeadBucket (s3:ListBucket), region, policy and ACL of the bucket.
        { sid = "PreflightBucket", actions = ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketAcl"], resources = [local.bucket_arn] },
        # The target's previous verified backup (its manifest's timings) plans the polling.
        { sid = "ReadManifests", actions = ["s3:GetObject"], resources = ["${local.bucket_arn}/ecb-*.manifest.json"] },
      ]
    }
    check-snapshot = {
      description = "Reads the snapshot's status and sets the next wait"
      timeout     = 30
      memory      = 128
      env         = {}
      statements = [
        { sid = "DescribeOurSnapshots", actions = ["elasticache:DescribeSnapshots"], resources = [local.our_snapshots] },
        { sid = "DescribeOurServerlessSnapshots", actions = ["elasticache:DescribeServerlessCacheSnapshots"], resources = [local.our_serverless_snapshots] },
        { sid = "ListExports", actions = ["s3:ListBucket"], resources = [local.bucket_arn] },
      ]
    }
    export-snapshot = {
      description = "Exports the snapshot to S3 with CopySnapshot and TargetBucket"
      timeout     = 60
      memory      = 128
      env         = {}
      statements = [
        { sid = "ExportOurSnapshots", actions = ["elasticache:CopySnapshot"], resources = [local.our_snapshots] },
        # A serverless snapshot: ExportServerlessCacheSnapshot; a refused call reads the snapshot's status.
        { sid = "ExportOurServerlessSnapshots", actions = ["elasticache:ExportServerlessCacheSnapshot", "elasticache:DescribeServerlessCacheSnapshots"], resources = [local.our_serverless_snapshots] },
        # ElastiCache checks the caller's own access to the bucket (User Guide, "Exporting a backup", step 2).
        { sid = "BucketAccess", actions = ["s3:ListBucket", "s3:GetBucketLocation"], resources = [local.bucket_arn] },
        # Only the export's own objects (`<snapshot name>-NNNN.rdb`, every snapshot name starts `ecb-`).
        { sid = "ObjectAccess", actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], resources = ["${local.bucket_arn}/ecb-*"] },
        # Scoping this to a bucket breaks the export ("unable to validate the authenticated user has access").
        { sid = "ValidateBucketOwner", actions = ["s3:ListAllMyBuckets"], resources = ["arn:${local.partition}:s3:::*"] },
      ]
    }
    check-export = {
      description = "Checks that every shard's .rdb is in S3 and non-empty"
      timeout     = 30
      memory      = 128
      env         = {}
      statements = [
        { sid = "ListExports", actions = ["s3:ListBucket"], resources = [local.bucket_arn] },
        # A refused export is seen in the source's events (ElastiCache User Guide, "Viewing ElastiCache events")
        # instead of at the deadline. DescribeEvents has no resource type (Service Authorization Reference,
        # "Actions, resources, and condition keys for Amazon ElastiCache"), so its resource can only be "*".
        { sid = "ExportEvents", actions = ["elasticache:DescribeEvents"], resources = ["*"] },
        # A serverless export is complete once its snapshot no longer reports it exporting (CheckExport).
        { sid = "DescribeOurServerlessSnapshots", actions = ["elasticache:DescribeServerlessCacheSnapshots"], resources = [local.our_serverless_snapshots] },
      ]
    }
    verify-export = {
      description = "Reads every exported .rdb end to end, checks it and writes the manifest"
      timeout     = 900
      # Lambda gives CPU in proportion to memory: 1,769 MB is one vCPU, 3,538 MB two. The check is CPU-bound and
      # hashes on a second thread when it has a second vCPU (rdb_check::check_and_hash; `make bench`: 1,140 MB/s
      # on small collections, 616 on one vCPU); the ranged reads hold 4 x 8 MiB at most, the check 11 x 256 KiB.
      memory = 3538
      # object_lock_days: a backup is locked once it is proven (WriteManifest), object by object, for that many days.
      # vault: where the vault is, and what WriteManifest needs to start the Batch Replication of a verified backup
      # (VAULT_REPLICATION_ROLE_ARN, the job's role; ACCOUNT_ID, which S3 Control's CreateJob names).
      env = merge(
        var.object_lock_days == null ? {} : {
          OBJECT_LOCK_MODE = var.object_lock_mode
          OBJECT_LOCK_DAYS = tostring(var.object_lock_days)
        },
        local.vault_env,
        local.vault ? { VAULT_REPLICATION_ROLE_ARN = local.vault_batch_role_arn, ACCOUNT_ID = local.account_id } : {},
      )
      statements = concat([
        { sid = "ListExports", actions = ["s3:ListBucket"], resources = [local.bucket_arn] },
        { sid = "ReadExports", actions = ["s3:GetObject"], resources = ["${local.bucket_arn}/ecb-*"] },
        { sid = "WriteManifests", actions = ["s3:PutObject"], resources = ["${local.bucket_arn}/ecb-*.manifest.json"] },
        ], var.object_lock_days == null ? [] : [
        # PutObjectRetention on the shard objects and the manifest of a verified backup (S3 User Guide, "Configuring
        # S3 Object Lock": retention set on an object version; no s3:BypassGovernanceRetention, so it can only lock).
        { sid = "LockVerifiedBackups", actions = ["s3:PutObjectRetention"], resources = ["${local.bucket_arn}/ecb-*"] },
        ], [for st in [
          # With a vault, WriteManifest tags the shard objects and the manifest of a verified backup
          # elasticache-backup:verified=true (PutObjectTagging, and PutObject with x-amz-tagging: S3 API Reference,
          # "PutObjectTagging" and "PutObject", Permissions: s3:PutObjectTagging), the tag the vault's replication
          # rule filters on.
          { sid = "TagVerifiedBackups", actions = ["s3:PutObjectTagging"], resources = ["${local.bucket_arn}/*"] },
          # The Batch Replication job of a verified backup (S3 User Guide, "Granting permissions for Batch
          # Operations": s3:CreateJob, and iam:PassRole on the job's role). CreateJob has no resource type (Service
          # Authorization Reference, Amazon S3), so its resource is "*", held to replication jobs by
          # s3:RequestJobOperation.
          {
            sid        = "StartVaultBatchReplication"
            actions    = ["s3:CreateJob"]
            resources  = ["*"]
            conditions = [{ test = "StringEquals", variable = "s3:RequestJobOperation", values = ["S3ReplicateObject"] }]
          },
          { sid = "PassVaultBatchRole", actions = ["iam:PassRole"], resources = [local.vault_batch_role_arn] },
      ] : st if local.vault])
    }
    delete-snapshot = {
      description = "Re-checks the export in S3, then deletes the source snapshot"
      timeout     = 30
      memory      = 128
      env         = {}
      statements = [
        { sid = "ListExports", actions = ["s3:ListBucket"], resources = [local.bucket_arn] },
        # The snapshot is deleted only when its tags say it is this execution's.
        { sid = "ReadOurSnapshots", actions = ["elasticache:DescribeSnapshots", "elasticache:ListTagsForResource"], resources = [local.our_snapshots, local.our_serverless_snapshots] },
        { sid = "ReadOurServerlessSnapshots", actions = ["elasticache:DescribeServerlessCacheSnapshots"], resources = [local.our_serverless_snapshots] },
        # Only the snapshots the backup tagged as an execution's at CreateSnapshot (as the retention sweeper's grant):
        # an ecb-… name alone is not proof (ElastiCache authorizes on aws:ResourceTag, Service Authorization Reference).
        {
          sid        = "DeleteOurSnapshots"
          actions    = ["elasticache:DeleteSnapshot", "elasticache:DeleteServerlessCacheSnapshot"]
          resources  = [local.our_snapshots, local.our_serverless_snapshots]
          conditions = [{ test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:execution", values = [local.executions_arn] }]
        },
      ]
    }
    resolve-backup = {
      description = "Restore: finds and checks the backup (manifest, objects, SHA-256) and refuses an existing target"
      timeout     = 900
      memory      = 1769
      env         = merge(local.step_env, local.seeding_env.primary, local.vault_env)
      statements = [
        { sid = "ReadBackups", actions = ["s3:ListBucket"], resources = [local.bucket_arn] },
        # The manifests and objects, also the source of the seed copies (CopyObject and UploadPartCopy read it with
        # s3:GetObject: S3 API Reference, "CopyObject", "UploadPartCopy").
        { sid = "ReadManifestsAndObjects", actions = ["s3:GetObject"], resources = ["${local.bucket_arn}/*"] },
        { sid = "DescribeTarget", actions = ["elasticache:DescribeReplicationGroups"], resources = ["${local.ec_arn}:replicationgroup:*"] },
        # A serverless target (targetServerlessCacheName) must not exist either.
        { sid = "DescribeServerlessTarget", actions = ["elasticache:DescribeServerlessCaches"], resources = [local.serverless_caches] },
        { sid = "DescribeKeptSnapshot", actions = ["elasticache:DescribeSnapshots"], resources = [local.our_snapshots] },
        # A serverless backup's kept snapshot is a serverless snapshot.
        { sid = "DescribeKeptServerlessSnapshot", actions = ["elasticache:DescribeServerlessCacheSnapshots"], resources = [local.our_serverless_snapshots] },
      ]
      # Per region (seed_contexts), object-acl only: server-side copies of the verified shard objects into the seed
      # bucket, <execution>/<key>, readable by ElastiCache through x-amz-grant-read and x-amz-grant-read-acp
      # (CopyObject; objects over 5 GiB: CreateMultipartUpload, UploadPartCopy, CompleteMultipartUpload, and
      # AbortMultipartUpload on failure). Grant headers need s3:PutObjectAcl besides s3:PutObject (S3 API Reference,
      # "PutObject" and "CopyObject", Permissions).
      seeding = { for r, c in local.seed_contexts : r => [for g in [
        { on = c.mode == "object-acl", grant = { sid = "SeedCopies", actions = ["s3:PutObject", "s3:PutObjectAcl", "s3:AbortMultipartUpload"], resources = ["${c.seed_bucket_arn}/*"] } },
        # bucket-policy mode with a vault: a backup in the vault is copied into this region's bucket, under
        # restore-seeds/<execution>/<key> (backup_core::restore::resolve::RESTORE_SEEDS_PREFIX), where ElastiCache
        # reads it through the bucket policy.
        { on = c.mode == "bucket-policy" && local.vault, grant = { sid = "VaultSeedCopies", actions = ["s3:PutObject", "s3:AbortMultipartUpload"], resources = ["${c.bucket_arn}/${local.restore_seeds_prefix}/*"] } },
      ] : g.grant if g.on] }
      # With a vault, in both regions: a restore from the vault reads its manifest and objects across accounts (the
      # vault module grants the same in its bucket and key policies: output restore_read_grant; cross-account access
      # needs both sides, IAM User Guide, "Cross account resource access in IAM"), and copies the shard objects
      # from there into the seeding location (CopyObject reads its source with s3:GetObject).
      vault = [for st in [
        { sid = "ListVault", actions = ["s3:ListBucket"], resources = [local.vault_bucket_arn] },
        { sid = "ReadVaultObjects", actions = ["s3:GetObject"], resources = ["${local.vault_bucket_arn}/*"] },
        # Objects encrypted with the vault's key (SSE-KMS replicas, anything written there directly), through S3.
        {
          sid        = "DecryptVaultObjects"
          actions    = ["kms:Decrypt"]
          resources  = [local.vault_kms_key_arn]
          conditions = [{ test = "StringEquals", variable = "kms:ViaService", values = ["s3.${local.vault_region}.amazonaws.com"] }]
        },
      ] : st if local.vault]
    }
    create-group = {
      description = "Restore: CreateReplicationGroup from the backup's S3 objects (or its kept snapshot), tagged as this restore's"
      timeout     = 60
      memory      = 128
      env         = { SEEDING_MODE = local.seeding_mode }
      statements = [
        {
          sid       = "CreateTaggedGroup"
          actions   = ["elasticache:CreateReplicationGroup", "elasticache:AddTagsToResource"]
          resources = ["${local.ec_arn}:replicationgroup:*", "${local.ec_arn}:cluster:*", "${local.ec_arn}:parametergroup:*", "${local.ec_arn}:subnetgroup:*", "${local.ec_arn}:securitygroup:*", local.our_snapshots]
        },
        { sid = "DescribeOwnGroup", actions = ["elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource"], resources = ["${local.ec_arn}:replicationgroup:*"] },
        # A serverless target: CreateServerlessCache with Tags (AddTagsToResource, a dependent action in the Service
        # Authorization Reference); its optional resource types are the kept snapshot it restores from (a node-based
        # or serverless one, both ecb-…) and the user group it may be given.
        {
          sid       = "CreateTaggedServerlessCache"
          actions   = ["elasticache:CreateServerlessCache", "elasticache:AddTagsToResource"]
          resources = [local.serverless_caches, local.our_serverless_snapshots, local.our_snapshots, "${local.ec_arn}:usergroup:*"]
        },
        { sid = "DescribeOwnServerlessCache", actions = ["elasticache:DescribeServerlessCaches", "elasticache:ListTagsForResource"], resources = [local.serverless_caches] },
        { sid = "ReadAuthToken", actions = ["secretsmanager:GetSecretValue"], resources = local.restore_auth_secrets },
      ]
      # Restore IAM (ElastiCache API Reference, "CreateReplicationGroup"): the caller must be able to read each
      # SnapshotArns object: the export's own objects (bucket-policy) or their copies in the seed bucket (object-acl).
      # The same objects seed a serverless cache (SnapshotArnsToRestore; s3:GetObject is a dependent action of
      # CreateServerlessCache in the Service Authorization Reference).
      seeding = { for r, c in local.seed_contexts : r => [
        { sid = "ReadSeeds", actions = ["s3:GetObject"], resources = [c.mode == "object-acl" ? "${c.seed_bucket_arn}/*" : "${c.bucket_arn}/*"] },
      ] }
    }
    check-group = {
      description = "Restore: reads the new group's status and sets the next wait"
      timeout     = 30
      memory      = 128
      env         = {}
      statements = [
        { sid = "DescribeGroup", actions = ["elasticache:DescribeReplicationGroups"], resources = ["${local.ec_arn}:replicationgroup:*"] },
        { sid = "DescribeNodes", actions = ["elasticache:DescribeCacheClusters"], resources = ["${local.ec_arn}:cluster:*"] },
        { sid = "DescribeServerlessCache", actions = ["elasticache:DescribeServerlessCaches"], resources = [local.serverless_caches] },
      ]
    }
    verify-restore = {
      description = "Restore: compares the restored data with the manifest over the Redis protocol and writes the report"
      timeout     = 300
      memory      = 256
      # VAULT_BUCKET: the report of a backup restored from the vault goes to this deployment's bucket.
      env = local.vault_env
      statements = [
        { sid = "DescribeGroup", actions = ["elasticache:DescribeReplicationGroups"], resources = ["${local.ec_arn}:replicationgroup:*"] },
        { sid = "DescribeNodes", actions = ["elasticache:DescribeCacheClusters"], resources = ["${local.ec_arn}:cluster:*"] },
        { sid = "DescribeServerlessCache", actions = ["elasticache:DescribeServerlessCaches"], resources = [local.serverless_caches] },
        { sid = "WriteReports", actions = ["s3:PutObject"], resources = ["${local.bucket_arn}/*.restore-*.json"] },
        { sid = "ReadAuthToken", actions = ["secretsmanager:GetSecretValue"], resources = local.restore_auth_secrets },
        # Lambda in a VPC (Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC").
        {
          sid       = "VpcNetworkInterfaces"
          actions   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
          resources = ["*"] # These EC2 actions do not support resource-level permissions for Lambda's ENIs.
        },
      ]
    }
    delete-group = {
      description = "Restore: deletes a drill's group or a create-failed one, keeps and tags any other, only if this execution created it"
      timeout     = 60
      memory      = 128
      env         = {}
      statements = [
        { sid = "DescribeOwnGroup", actions = ["elasticache:DescribeReplicationGroups", "elasticache:ListTagsForResource"], resources = ["${local.ec_arn}:replicationgroup:*"] },
        { sid = "DescribeOwnServerlessCache", actions = ["elasticache:DescribeServerlessCaches", "elasticache:ListTagsForResource"], resources = [local.serverless_caches] },
        # Only groups a restore execution tagged as its own (see the handler, which also compares the tag's value).
        {
          sid        = "DeleteOwnGroups"
          actions    = ["elasticache:DeleteReplicationGroup"]
          resources  = ["${local.ec_arn}:replicationgroup:*", "${local.ec_arn}:cluster:*"]
          conditions = [{ test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:restore-execution", values = [local.restore_executions_arn] }]
        },
        # The same for serverless caches (DeleteServerlessCache without FinalSnapshotName: no snapshot resource).
        {
          sid        = "DeleteOwnServerlessCaches"
          actions    = ["elasticache:DeleteServerlessCache"]
          resources  = [local.serverless_caches]
          conditions = [{ test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:restore-execution", values = [local.restore_executions_arn] }]
        },
        # A kept group or cache gets its verdict (elasticache-backup:restore-verdict); again only one a restore tagged.
        {
          sid       = "TagOwnKeptGroups"
          actions   = ["elasticache:AddTagsToResource"]
          resources = ["${local.ec_arn}:replicationgroup:*", local.serverless_caches]
          conditions = [
            { test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:restore-execution", values = [local.restore_executions_arn] },
            { test = "ForAllValues:StringEquals", variable = "aws:TagKeys", values = ["elasticache-backup:restore-verdict"] },
          ]
        },
      ]
    }
    fleet = {
      description = "Fleet runs: finds the replication groups and standalone clusters whose tags match a selector (or takes a list), and summarizes the child backups"
      timeout     = 300
      memory      = 256
      env         = local.step_env
      statements = [
        { sid = "ListGroups", actions = ["elasticache:DescribeReplicationGroups"], resources = ["${local.ec_arn}:replicationgroup:*"] },
        { sid = "ListClusters", actions = ["elasticache:DescribeCacheClusters"], resources = ["${local.ec_arn}:cluster:*"] },
        { sid = "ListServerlessCaches", actions = ["elasticache:DescribeServerlessCaches"], resources = [local.serverless_caches] },
        { sid = "ReadTags", actions = ["elasticache:ListTagsForResource"], resources = ["${local.ec_arn}:replicationgroup:*", "${local.ec_arn}:cluster:*", local.serverless_caches] },
        # A fleet larger than an inline Map: its targets (Discover) and results (Summarize) under fleet-runs/.
        { sid = "FleetLists", actions = ["s3:GetObject", "s3:PutObject"], resources = ["${local.bucket_arn}/${local.fleet_runs_prefix}/*"] },
      ]
    }
    retention = {
      description = "Deletes verified backups beyond keepLast / keepDays per target (whole sets) and exports without a manifest after a grace period"
      timeout     = 900
      memory      = 256
      env         = { BACKUP_BUCKET = local.bucket_name }
      statements = [
        { sid = "ListExports", actions = ["s3:ListBucket"], resources = [local.bucket_arn] },
        { sid = "ReadManifests", actions = ["s3:GetObject"], resources = ["${local.bucket_arn}/ecb-*.manifest.json"] },
        # Whole backup sets and exports without a manifest: only this project's objects.
        { sid = "DeleteBackups", actions = ["s3:DeleteObject"], resources = ["${local.bucket_arn}/ecb-*"] },
        { sid = "WriteReports", actions = ["s3:PutObject"], resources = ["${local.bucket_arn}/retention-reports/*"] },
        # The sweeper: list the manual snapshots, read their tags, delete only those the backup tagged as its own.
        { sid = "ListSnapshots", actions = ["elasticache:DescribeSnapshots"], resources = ["${local.ec_arn}:snapshot:*"] },
        { sid = "ReadSnapshotTags", actions = ["elasticache:ListTagsForResource"], resources = [local.our_snapshots] },
        {
          sid        = "DeleteOurKeptSnapshots"
          actions    = ["elasticache:DeleteSnapshot"]
          resources  = [local.our_snapshots]
          conditions = [{ test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:execution", values = [local.executions_arn] }]
        },
      ]
    }
    evidence = {
      description = "Writes the previous calendar month's audit evidence (evidence/<yyyy-mm>.html and .json, tagged verified) from the manifests, drill and retention reports and the executions"
      timeout     = 300
      memory      = 256
      # VAULT_BUCKET and VAULT_REGION with a vault (the report says which backups are in it from the policy).
      env = merge({
        BACKUP_BUCKET             = local.bucket_name
        EVIDENCE_POLICY           = local.evidence_policy
        STATE_MACHINE_ARN         = local.state_machine_arn
        RESTORE_STATE_MACHINE_ARN = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.restore_machine}"
      }, local.vault_env)
      statements = [
        # The backups' manifests and restore reports (ecb-*), the retention reports, and the manifests' copies in the
        # DR bucket and the vault (the vault module admits this role read-only: output vault_reader_role_arns).
        { sid = "ListBackups", actions = ["s3:ListBucket"], resources = compact([local.bucket_arn, local.dr ? local.dr_bucket_arn : "", local.vault ? local.vault_bucket_arn : ""]) },
        { sid = "ReadBackupDocuments", actions = ["s3:GetObject"], resources = ["${local.bucket_arn}/ecb-*", "${local.bucket_arn}/retention-reports/*"] },
        # The report, with the verified tag on upload (PutObject with x-amz-tagging also needs s3:PutObjectTagging:
        # S3 User Guide, "Categorizing your storage using tags").
        { sid = "WriteEvidence", actions = ["s3:PutObject", "s3:PutObjectTagging"], resources = ["${local.bucket_arn}/evidence/*"] },
        { sid = "ListRuns", actions = ["states:ListExecutions"], resources = [local.state_machine_arn, "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.restore_machine}"] },
        { sid = "DescribeRuns", actions = ["states:DescribeExecution"], resources = [local.executions_arn, local.restore_executions_arn] },
      ]
    }
    notify = {
      description = "Sends failed runs and ElastiCache snapshot events to Slack and PagerDuty"
      timeout     = 60
      memory      = 128
      env = {
        SLACK_WEBHOOK_SECRET_ARN         = aws_secretsmanager_secret.slack_webhook.arn
        PAGERDUTY_ROUTING_KEY_SECRET_ARN = aws_secretsmanager_secret.pagerduty_routing_key.arn
        STATE_MACHINE_ARN                = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.state_machine}"
        RESTORE_STATE_MACHINE_ARN        = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.restore_machine}"
        FLEET_STATE_MACHINE_ARN          = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.fleet_machine}"
        SLACK_NOTIFY_SUCCESS             = tostring(var.slack_notify_success)
        DELIVERY_LEDGER_BUCKET           = local.bucket_name
        # The restore state machine in dr_region, "" without one (its executions' history is in that region).
        DR_RESTORE_STATE_MACHINE_ARN = local.dr_restore_machine_arn
      }
      statements = [
        { sid = "ReadHistory", actions = ["states:GetExecutionHistory"], resources = compact([local.executions_arn, local.restore_executions_arn, local.fleet_executions_arn, local.dr_restore_executions_arn]) },
        # One incident per group: a node or one of our snapshots is mapped to its replication group.
        { sid = "NodeToGroup", actions = ["elasticache:DescribeCacheClusters"], resources = ["${local.ec_arn}:cluster:*"] },
        { sid = "SnapshotToGroup", actions = ["elasticache:DescribeSnapshots"], resources = [local.our_snapshots] },
        # A serverless snapshot's event is keyed by its cache (DescribeServerlessCacheSnapshots).
        { sid = "SnapshotToServerlessCache", actions = ["elasticache:DescribeServerlessCacheSnapshots"], resources = [local.our_serverless_snapshots] },
        # The delivery ledger (marker objects; ListBucket so that an absent marker reads 404, not 403).
        { sid = "LedgerMarkers", actions = ["s3:GetObject", "s3:PutObject"], resources = ["${local.bucket_arn}/notify-ledger/*"] },
        {
          sid        = "LedgerListing"
          actions    = ["s3:ListBucket"]
          resources  = [local.bucket_arn]
          conditions = [{ test = "StringLike", variable = "s3:prefix", values = ["notify-ledger/*"] }]
        },
        # Lambda sends undeliverable events to the dead-letter queue with the function's role.
        { sid = "DeadLetters", actions = ["sqs:SendMessage"], resources = [aws_sqs_queue.notify_dlq.arn] },
        {
          sid       = "ReadAlertSecrets"
          actions   = ["secretsmanager:GetSecretValue"]
          resources = [aws_secretsmanager_secret.slack_webhook.arn, aws_secretsmanager_secret.pagerduty_routing_key.arn]
        },
      ]
    }
  }

  # What each role is granted: its statements, plus the seeding grants of this region (seed_contexts.primary).
  # With a vault, resolve-backup's cross-account read grant (f.vault).
  function_statements = { for k, f in local.functions : k => concat(f.statements, try(f.seeding.primary, []), try(f.vault, [])) }

  # Roles: the module's own, or the caller's (existing_role_arns, which must grant what output role_policies_json says).
  role_keys   = concat(keys(local.functions), ["state-machine", "restore-machine", "fleet-machine", "scheduler"])
  create_role = { for k in local.role_keys : k => lookup(var.existing_role_arns, k, null) == null }
  scheduled   = length(var.schedules) + length(var.drills) > 0 || var.retention != null
  role_arns = merge(
    module.primary.role_arns,
    {
      state-machine   = local.create_role["state-machine"] ? aws_iam_role.state_machine[0].arn : var.existing_role_arns["state-machine"]
      restore-machine = local.create_role["restore-machine"] ? aws_iam_role.restore_machine[0].arn : var.existing_role_arns["restore-machine"]
      fleet-machine   = local.create_role["fleet-machine"] ? aws_iam_role.fleet_machine[0].arn : var.existing_role_arns["fleet-machine"]
      scheduler       = !local.scheduled ? null : local.create_role["scheduler"] ? aws_iam_role.scheduler[0].arn : var.existing_role_arns["scheduler"]
    },
  )

  # The steps of each state machine (their ASL placeholders `${<name>_arn}`); notify, retention and evidence are
  # invoked by events and schedules, not by a state machine.
  step_functions    = [for k in keys(local.functions) : k if !contains(["notify", "retention", "evidence"], k)]
  restore_functions = ["resolve-backup", "create-group", "check-group", "verify-restore", "delete-group"]
  fleet_functions   = ["fleet"]
  backup_functions  = [for k in local.step_functions : k if !contains(concat(local.restore_functions, local.fleet_functions), k)]
}
