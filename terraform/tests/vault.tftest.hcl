# Issue 28: the vault. The vault module (modules/vault, its runs name it with a module block) and the source side
# (the root module's vault input), planned with mocked providers (no credentials, no network).

mock_provider "aws" {
  source = "./tests/mocks/aws"
}

mock_provider "aws" {
  alias  = "dr"
  source = "./tests/mocks/aws-dr"
}

variables {
  account_id           = "123456789012"
  lambda_artifacts_dir = "tests/fixtures/lambda"
  schedules = {
    orders = {
      replication_group_id = "orders"
      schedule_expression  = "cron(0 3 * * ? *)"
      timezone             = "Asia/Seoul"
    }
  }
  # The vault module's inputs besides bucket_name, which each module run gives (the root module has one too).
  source_account_id    = "123456789012"
  replication_role_arn = "arn:aws:iam::123456789012:role/elasticache-backup-vault-replication"
  reader_role_arns     = ["arn:aws:iam::123456789012:role/elasticache-backup-resolve-backup-ap-northeast-2"]
  # The root module's vault (the vault module's output vault).
  vault = {
    account_id  = "210987654321"
    bucket      = "acme-cache-vault"
    region      = "ap-northeast-1"
    kms_key_arn = "arn:aws:kms:ap-northeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

# ---- the vault module ----

run "the_vault_locks_every_replica_in_compliance_mode_for_the_default_retention" {
  command = plan
  module {
    source = "./modules/vault"
  }
  variables {
    bucket_name = "acme-cache-vault"
  }
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "210987654321" }
  }

  assert {
    condition     = aws_s3_bucket.this.object_lock_enabled == true && aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "The vault bucket is created with Object Lock, and versioned."
  }
  assert {
    condition     = one(one(aws_s3_bucket_object_lock_configuration.this.rule).default_retention).mode == "COMPLIANCE" && one(one(aws_s3_bucket_object_lock_configuration.this.rule).default_retention).days == 35 && one(one(aws_s3_bucket_object_lock_configuration.this.rule).default_retention).years == null
    error_message = "Default retention: COMPLIANCE, retention_days (35 by default)."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced" && aws_s3_bucket_public_access_block.this.block_public_policy && aws_s3_bucket_public_access_block.this.restrict_public_buckets && aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.ignore_public_acls
    error_message = "The vault account owns every replica (BucketOwnerEnforced); public access is blocked."
  }
  assert {
    condition     = length(aws_s3_bucket_lifecycle_configuration.this) == 0
    error_message = "No lifecycle unless noncurrent_version_retention_days is set."
  }
}

run "the_vault_encrypts_by_default_with_its_own_rotating_key" {
  command = plan
  module {
    source = "./modules/vault"
  }
  variables {
    bucket_name = "acme-cache-vault"
  }
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "210987654321" }
  }
  override_resource {
    target          = aws_kms_key.this
    override_during = plan
    values          = { arn = "arn:aws:kms:ap-northeast-2:210987654321:key/vault-key" }
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:ap-northeast-2:210987654321:key/vault-key" && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "Default SSE-KMS with the module's key, S3 Bucket Keys on."
  }
  assert {
    condition     = aws_kms_key.this.enable_key_rotation && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "The key rotates; a destroy waits 30 days."
  }
  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:ap-northeast-2:210987654321:key/vault-key" && output.vault == { account_id = "210987654321", bucket = "acme-cache-vault", region = "ap-northeast-2", kms_key_arn = "arn:aws:kms:ap-northeast-2:210987654321:key/vault-key" }
    error_message = "Output vault is the source module's vault input: this account, the bucket, its region, the key."
  }
  assert {
    condition = [for st in data.aws_iam_policy_document.key.statement : [st.sid, st.actions, st.principals]] == [
      ["VaultAccountAdministers", toset(["kms:*"]), toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::210987654321:root"]) }])],
      ["SourceReplicationEncryptsReplicas", toset(["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]), toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::123456789012:root"]) }])],
      ["ReadersDecrypt", toset(["kms:Decrypt"]), toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::123456789012:root"]) }])],
    ]
    error_message = "Key policy: the vault account administers; the source's replication role encrypts; readers decrypt; nobody else."
  }
  assert {
    condition = alltrue([for st in data.aws_iam_policy_document.key.statement : st.sid == "VaultAccountAdministers" || (
      contains([for c in st.condition : c.variable], "aws:PrincipalArn") && toset(one([for c in st.condition : c.values if c.variable == "kms:ViaService"])) == toset(["s3.ap-northeast-2.amazonaws.com"])
    )])
    error_message = "The source account's roles use the key only as the named roles (aws:PrincipalArn) and only through S3 in the vault's region."
  }
  assert {
    condition     = toset(one([for st in data.aws_iam_policy_document.key.statement : one([for c in st.condition : c.values if c.variable == "aws:PrincipalArn"]) if st.sid == "SourceReplicationEncryptsReplicas"])) == toset(["arn:aws:iam::123456789012:role/elasticache-backup-vault-replication"])
    error_message = "Only the replication role encrypts replicas."
  }
}

run "the_vault_policy_admits_only_the_replication_role_and_read_only_readers_and_denies_deletes_to_the_source_account" {
  command = plan
  module {
    source = "./modules/vault"
  }
  variables {
    bucket_name = "acme-cache-vault"
  }
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "210987654321" }
  }
  override_resource {
    target          = aws_kms_key.this
    override_during = plan
    values          = { arn = "arn:aws:kms:ap-northeast-2:210987654321:key/vault-key" }
  }

  assert {
    condition = { for st in data.aws_iam_policy_document.bucket.statement : st.sid => st.actions if st.effect == "Allow" } == {
      SourceReplicationWritesReplicas   = toset(["s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"])
      SourceReplicationChecksVersioning = toset(["s3:GetBucketVersioning", "s3:PutBucketVersioning"])
      ReadersReadObjects                = toset(["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"])
      ReadersListBucket                 = toset(["s3:ListBucket"])
    }
    error_message = "The bucket policy allows replication (objects, tags, owner override, versioning) and read-only restores, nothing else: no s3:ReplicateDelete."
  }
  assert {
    condition = alltrue([for st in data.aws_iam_policy_document.bucket.statement : toset(one([for c in st.condition : c.values if c.variable == "aws:PrincipalArn"])) == toset(
      startswith(st.sid, "SourceReplication") ? ["arn:aws:iam::123456789012:role/elasticache-backup-vault-replication"] : ["arn:aws:iam::123456789012:role/elasticache-backup-resolve-backup-ap-northeast-2"]
    ) if st.effect == "Allow"])
    error_message = "Each Allow names its one role (aws:PrincipalArn): the replication role writes, the reader roles read."
  }
  assert {
    condition     = alltrue([for st in data.aws_iam_policy_document.bucket.statement : st.principals == toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::123456789012:root"]) }]) if st.effect == "Allow"])
    error_message = "No Allow has a wildcard principal."
  }
  assert {
    condition = anytrue([for st in data.aws_iam_policy_document.bucket.statement : st.effect == "Deny" && st.principals == toset([{ type = "*", identifiers = toset(["*"]) }]) && toset(one([for c in st.condition : c.values if c.variable == "aws:PrincipalAccount"])) == toset(["123456789012"]) && alltrue([
      for a in ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutBucketObjectLockConfiguration", "s3:PutEncryptionConfiguration", "s3:BypassGovernanceRetention", "s3:DeleteBucket"] : contains(st.actions, a)
    ]) && st.resources == toset(["arn:aws:s3:::acme-cache-vault", "arn:aws:s3:::acme-cache-vault/*"])])
    error_message = "Every principal of the source account is denied deleting objects and versions and changing the bucket's policy, lifecycle, lock and encryption."
  }
  assert {
    condition     = anytrue([for st in data.aws_iam_policy_document.bucket.statement : st.effect == "Deny" && st.actions == toset(["s3:*"]) && toset(one([for c in st.condition : c.values if c.variable == "aws:SecureTransport"])) == toset(["false"])])
    error_message = "TLS only."
  }
  assert {
    condition     = output.restore_read_grant.object_actions == ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"] && output.restore_read_grant.bucket_actions == ["s3:ListBucket"] && output.restore_read_grant.kms_actions == ["kms:Decrypt"] && length(jsondecode(output.restore_read_grant.identity_policy_json).Statement) == 3
    error_message = "restore_read_grant documents the readers' grant and the identity policy they need."
  }
}

run "a_vault_without_readers_grants_no_reads" {
  command = plan
  module {
    source = "./modules/vault"
  }
  variables {
    bucket_name                       = "acme-cache-vault"
    reader_role_arns                  = []
    retention_days                    = 400
    noncurrent_version_retention_days = 30
  }
  assert {
    condition     = !anytrue([for st in data.aws_iam_policy_document.bucket.statement : startswith(st.sid, "Readers")]) && !anytrue([for st in data.aws_iam_policy_document.key.statement : st.sid == "ReadersDecrypt"])
    error_message = "No reader roles: no read grant in the bucket or the key policy."
  }
  assert {
    condition     = one(one(aws_s3_bucket_object_lock_configuration.this.rule).default_retention).days == 400 && one(aws_s3_bucket_lifecycle_configuration.this[0].rule).noncurrent_version_expiration[0].noncurrent_days == 30 && length(one(aws_s3_bucket_lifecycle_configuration.this[0].rule).expiration) == 0
    error_message = "retention_days sets the default retention; the lifecycle expires noncurrent versions only."
  }
}

run "a_vault_retention_of_zero_days_is_refused" {
  command = plan
  module {
    source = "./modules/vault"
  }
  variables {
    bucket_name    = "acme-cache-vault"
    retention_days = 0
  }
  expect_failures = [var.retention_days]
}

run "a_replication_role_of_another_account_is_refused" {
  command = plan
  module {
    source = "./modules/vault"
  }
  variables {
    bucket_name          = "acme-cache-vault"
    replication_role_arn = "arn:aws:iam::999999999999:role/elasticache-backup-vault-replication"
  }
  expect_failures = [var.replication_role_arn]
}

run "a_bad_vault_bucket_name_is_refused" {
  command = plan
  module {
    source = "./modules/vault"
  }
  variables {
    bucket_name = "Acme_Vault"
  }
  expect_failures = [var.bucket_name]
}

# ---- the source side ----

run "the_source_replicates_only_verified_objects_to_the_vault_never_deletions" {
  command = plan
  variables {
    dr_region = null
  }
  assert {
    condition     = length(aws_s3_bucket_replication_configuration.exports[0].rule) == 1
    error_message = "One rule: to the vault."
  }
  assert {
    condition     = one(aws_s3_bucket_replication_configuration.exports[0].rule).filter[0].tag[0] == { key = "elasticache-backup:verified", value = "true" } && one(aws_s3_bucket_replication_configuration.exports[0].rule).filter[0].prefix == null
    error_message = "The rule takes only objects tagged elasticache-backup:verified=true."
  }
  assert {
    condition     = one(aws_s3_bucket_replication_configuration.exports[0].rule).delete_marker_replication[0].status == "Disabled" && one(aws_s3_bucket_replication_configuration.exports[0].rule).status == "Enabled"
    error_message = "Delete markers never reach the vault."
  }
  assert {
    condition = (
      one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).bucket == "arn:aws:s3:::acme-cache-vault"
      && one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).account == "210987654321"
      && one(one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).access_control_translation).owner == "Destination"
      && one(one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).encryption_configuration).replica_kms_key_id == "arn:aws:kms:ap-northeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      && one(one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).replication_time).status == "Enabled"
      && one(one(one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).replication_time).time).minutes == 15
      && one(one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).metrics).status == "Enabled"
      && one(one(one(one(aws_s3_bucket_replication_configuration.exports[0].rule).destination).metrics).event_threshold).minutes == 15
    )
    error_message = "Destination: the vault bucket in the vault account, owner override to it, the vault's key for replicas, RTC (15 minutes) and its metrics."
  }
  assert {
    condition     = aws_iam_role.vault_replication[0].name == "elasticache-backup-vault-replication" && output.vault_replication_role_arn == "arn:aws:iam::123456789012:role/elasticache-backup-vault-replication" && output.vault == var.vault && length(aws_iam_role.replication) == 0
    error_message = "The replication role has the deterministic name the vault module is given; outputs echo it and the vault."
  }
  assert {
    condition     = toset(flatten([for st in data.aws_iam_policy_document.vault_replication.statement : st.actions])) == toset(["s3:GetReplicationConfiguration", "s3:ListBucket", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold", "s3:ReplicateObject", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner", "kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"])
    error_message = "The replication role may read the source for replication, write replicas and tags with owner override, and use the vault's key: no s3:ReplicateDelete, nothing else."
  }
  assert {
    condition = alltrue([for sid, r in {
      VaultReadSource        = ["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2"]
      VaultReadSourceObjects = ["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2/*"]
      VaultWriteReplicas     = ["arn:aws:s3:::acme-cache-vault/*"]
      VaultEncryptReplicas   = ["arn:aws:kms:ap-northeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    } : toset(one([for st in data.aws_iam_policy_document.vault_replication.statement : st.resources if st.sid == sid])) == toset(r)]) && length(data.aws_iam_policy_document.vault_replication.statement) == 4
    error_message = "Each grant names the export bucket, the vault bucket's objects or the vault's key."
  }
  assert {
    condition     = toset(flatten([for st in data.aws_iam_policy_document.vault_batch.statement : st.actions])) == toset(["s3:InitiateReplication", "s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"]) && aws_iam_role.vault_batch[0].name == "elasticache-backup-vault-batch"
    error_message = "The Batch Replication role may only start replication of the export bucket's objects and generate its manifest."
  }
}

run "with_a_dr_region_one_configuration_replicates_to_both_as_the_vault_role" {
  command = plan
  variables {
    dr_region = "ap-northeast-1"
  }
  assert {
    condition     = [for r in aws_s3_bucket_replication_configuration.exports[0].rule : [r.id, r.priority]] == [["to-dr-region", 1], ["to-vault", 2]]
    error_message = "Both rules, with priorities, in the bucket's one configuration."
  }
  assert {
    condition     = length(aws_iam_role.replication) == 0 && length(aws_iam_role.vault_replication) == 1 && length(data.aws_iam_policy_document.vault_replication.source_policy_documents) == 1
    error_message = "The configuration runs as the vault role, which also gets the DR grants."
  }
  assert {
    condition     = local.vault_reader_role_arns == ["arn:aws:iam::123456789012:role/elasticache-backup-resolve-backup-ap-northeast-2", "arn:aws:iam::123456789012:role/elasticache-backup-resolve-backup-ap-northeast-1", "arn:aws:iam::123456789012:role/elasticache-backup-evidence-ap-northeast-2"] && [for s in local.dr_functions["resolve-backup"].statements : s.resources if s.sid == "DecryptVaultObjects"] == [["arn:aws:kms:ap-northeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"]]
    error_message = "Both regions' resolve-backup read the vault (the key ARN is not rewritten for the DR region)."
  }
}

run "resolve_backup_reads_the_vault_across_accounts_only_with_a_vault" {
  command = plan
  assert {
    condition = { for s in local.function_statements["resolve-backup"] : s.sid => [s.actions, s.resources] if contains(["ListVault", "ReadVaultObjects", "DecryptVaultObjects"], s.sid) } == {
      ListVault           = [["s3:ListBucket"], ["arn:aws:s3:::acme-cache-vault"]]
      ReadVaultObjects    = [["s3:GetObject"], ["arn:aws:s3:::acme-cache-vault/*"]]
      DecryptVaultObjects = [["kms:Decrypt"], ["arn:aws:kms:ap-northeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"]]
    }
    error_message = "resolve-backup may list and read the vault and decrypt with its key."
  }
  assert {
    condition     = alltrue([for k in ["resolve-backup", "verify-export", "evidence"] : module.primary.functions[k].environment[0].variables.VAULT_BUCKET == "acme-cache-vault" && module.primary.functions[k].environment[0].variables.VAULT_REGION == "ap-northeast-1"])
    error_message = "resolve-backup, verify-export and evidence are told VAULT_BUCKET and VAULT_REGION."
  }
  assert {
    condition     = module.primary.functions["verify-export"].environment[0].variables.VAULT_REPLICATION_ROLE_ARN == "arn:aws:iam::123456789012:role/elasticache-backup-vault-batch" && module.primary.functions["verify-export"].environment[0].variables.ACCOUNT_ID == "123456789012"
    error_message = "verify-export is told the Batch Replication role and the account CreateJob names."
  }
  assert {
    condition = { for s in local.function_statements["verify-export"] : s.sid => [s.actions, s.resources, try(s.conditions, [])] if contains(["TagVerifiedBackups", "StartVaultBatchReplication", "PassVaultBatchRole"], s.sid) } == {
      TagVerifiedBackups         = [["s3:PutObjectTagging"], ["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2/*"], []]
      StartVaultBatchReplication = [["s3:CreateJob"], ["*"], [{ test = "StringEquals", variable = "s3:RequestJobOperation", values = ["S3ReplicateObject"] }]]
      PassVaultBatchRole         = [["iam:PassRole"], ["arn:aws:iam::123456789012:role/elasticache-backup-vault-batch"], []]
    }
    error_message = "verify-export may tag the verified objects, start only replication jobs, and pass only the Batch Replication role."
  }
}

run "without_a_vault_nothing_reads_or_replicates_to_one" {
  command = plan
  variables {
    vault = null
  }
  assert {
    condition     = length(aws_s3_bucket_replication_configuration.exports) == 0 && length(aws_iam_role.vault_replication) == 0 && length(aws_iam_role.vault_batch) == 0 && output.vault_replication_role_arn == null && output.vault == null
    error_message = "No vault: no replication, no vault roles, null outputs."
  }
  assert {
    condition     = !anytrue(flatten([for f in local.function_statements : [for s in f : [for r in s.resources : strcontains(r, "acme-cache-vault") || startswith(r, "arn:aws:kms:")]]])) && !anytrue([for f in local.function_statements : anytrue([for s in f : contains(s.actions, "s3:CreateJob") || contains(s.actions, "iam:PassRole") || contains(s.actions, "kms:Decrypt")])]) && !anytrue([for s in local.function_statements["verify-export"] : contains(s.actions, "s3:PutObjectTagging")])
    error_message = "No vault: no function may read a vault, decrypt, tag objects or start a replication job."
  }
  assert {
    condition     = !anytrue([for k in ["resolve-backup", "verify-export", "evidence"] : contains(keys(try(module.primary.functions[k].environment[0].variables, {})), "VAULT_BUCKET")])
    error_message = "No vault: no VAULT_* variables."
  }
}

run "a_vault_in_this_account_is_refused" {
  command = plan
  variables {
    vault = { account_id = "123456789012", bucket = "acme-cache-vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/k" }
  }
  expect_failures = [var.vault]
}

run "a_vault_account_id_of_eleven_digits_is_refused" {
  command = plan
  variables {
    vault = { account_id = "21098765432", bucket = "acme-cache-vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:ap-northeast-1:21098765432:key/k" }
  }
  expect_failures = [var.vault]
}

run "a_vault_bucket_with_capitals_is_refused" {
  command = plan
  variables {
    vault = { account_id = "210987654321", bucket = "Acme-Vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:ap-northeast-1:210987654321:key/k" }
  }
  expect_failures = [var.vault]
}

run "a_vault_key_in_another_region_is_refused" {
  command = plan
  variables {
    vault = { account_id = "210987654321", bucket = "acme-cache-vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:us-east-1:210987654321:key/k" }
  }
  expect_failures = [var.vault]
}

run "a_vault_with_an_existing_bucket_is_refused" {
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "my-own-bucket"
  }
  expect_failures = [var.vault]
}

# ---- RPO, RTO, vault drills and the evidence policy ----

run "a_vault_drill_restores_the_newest_backup_from_the_vault_bucket" {
  command = plan
  variables {
    verify_restore_vpc = { subnet_ids = ["subnet-1"], security_group_ids = ["sg-1"] }
    drills = {
      weekly = { replication_group_id = "orders", schedule_expression = "cron(0 5 ? * SUN *)", vault = true, rto_minutes = 90 }
      local  = { replication_group_id = "orders", schedule_expression = "cron(0 6 ? * SUN *)" }
    }
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.drill["weekly"].target[0].input) == { replicationGroupId = "orders", bucket = "acme-cache-vault", latest = true, drill = true }
    error_message = "A vault drill's input names the vault bucket, latest: true."
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.drill["local"].target[0].input) == { replicationGroupId = "orders", latest = true, drill = true }
    error_message = "Other drills name no bucket (the export bucket)."
  }
}

run "a_vault_drill_without_a_vault_is_refused" {
  command = plan
  variables {
    vault              = null
    verify_restore_vpc = { subnet_ids = ["subnet-1"], security_group_ids = ["sg-1"] }
    drills = {
      weekly = { replication_group_id = "orders", schedule_expression = "cron(0 5 ? * SUN *)", vault = true }
    }
  }
  expect_failures = [var.drills]
}

run "an_rpo_of_zero_hours_is_refused" {
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", rpo_hours = 0 } }
  }
  expect_failures = [var.schedules]
}

run "an_rpo_past_a_year_is_refused" {
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", rpo_hours = 8761 } }
  }
  expect_failures = [var.schedules]
}

run "an_rto_past_a_week_is_refused" {
  command = plan
  variables {
    verify_restore_vpc = { subnet_ids = ["subnet-1"], security_group_ids = ["sg-1"] }
    drills             = { weekly = { replication_group_id = "orders", schedule_expression = "cron(0 5 ? * SUN *)", rto_minutes = 10081 } }
  }
  expect_failures = [var.drills]
}

run "the_evidence_policy_is_the_documented_json" {
  command = plan
  variables {
    vault = null
    schedules = {
      nightly = { replication_group_id = "Orders", schedule_expression = "cron(0 3 * * ? *)" }
      fleet   = { selector = { backup = "daily" }, schedule_expression = "cron(0 2 * * ? *)", timezone = "Asia/Seoul", rpo_hours = 49 }
      listed  = { targets = [{ serverless_cache_name = "Sessions" }, { cache_cluster_id = "solo" }], schedule_expression = "rate(12 hours)", rpo_hours = 13 }
    }
    verify_restore_vpc = { subnet_ids = ["subnet-1"], security_group_ids = ["sg-1"] }
    drills = {
      weekly = { replication_group_id = "orders", schedule_expression = "cron(0 5 ? * SUN *)", rto_minutes = 90 }
    }
  }
  assert {
    condition = jsondecode(output.evidence_policy) == {
      schedules = [
        { name = "fleet", scheduleExpression = "cron(0 2 * * ? *)", timezone = "Asia/Seoul", rpoHours = 49, targets = [], selector = { backup = "daily" } },
        { name = "listed", scheduleExpression = "rate(12 hours)", timezone = "UTC", rpoHours = 13, targets = ["sessions", "solo"], selector = null },
        { name = "nightly", scheduleExpression = "cron(0 3 * * ? *)", timezone = "UTC", rpoHours = 25, targets = ["orders"], selector = null },
      ]
      drills      = [{ name = "weekly", scheduleExpression = "cron(0 5 ? * SUN *)", timezone = "UTC", target = "orders", rtoMinutes = 90, vault = false }]
      bucket      = "elasticache-backup-123456789012-ap-northeast-2"
      drBucket    = null
      vaultBucket = null
    }
    error_message = "evidence_policy: ${output.evidence_policy}"
  }
}

run "the_evidence_policy_names_the_dr_and_vault_buckets" {
  command = plan
  variables {
    dr_region = "ap-northeast-1"
  }
  assert {
    condition     = jsondecode(output.evidence_policy).drBucket == "elasticache-backup-123456789012-ap-northeast-1" && jsondecode(output.evidence_policy).vaultBucket == "acme-cache-vault"
    error_message = "With dr_region and a vault, the policy names both buckets."
  }
}

run "seeding_by_bucket_policy_copies_a_vault_backup_into_restore_seeds_which_expire" {
  command = plan
  variables {
    seeding_mode = "bucket-policy"
  }
  assert {
    condition     = jsonencode([for s in local.function_statements["resolve-backup"] : [s.actions, s.resources] if s.sid == "VaultSeedCopies"]) == jsonencode([[["s3:PutObject", "s3:AbortMultipartUpload"], ["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2/restore-seeds/*"]]])
    error_message = "resolve-backup may write its copies of a vault backup under restore-seeds/ only."
  }
  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule : r.expiration[0].days if r.id == "expire-restore-seeds"]) == 1 && one([for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule : r.filter[0].prefix if r.id == "expire-restore-seeds"]) == "restore-seeds/"
    error_message = "The copies expire after a day."
  }
}

run "seeding_by_object_acl_needs_no_copies_in_the_export_bucket" {
  command = plan
  assert {
    condition     = !anytrue([for s in local.function_statements["resolve-backup"] : s.sid == "VaultSeedCopies"]) && !anytrue([for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule : r.id == "expire-restore-seeds"])
    error_message = "object-acl mode copies into the seed bucket (its own one-day lifecycle): nothing under restore-seeds/."
  }
}
