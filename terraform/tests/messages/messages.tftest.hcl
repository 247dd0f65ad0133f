# The messages users see for input that cannot work. These runs are meant to FAIL: they are not part of
# `terraform test` (tests/), but of local/checks/test_terraform_messages.py, which runs
# `terraform test -test-directory=tests/messages` and checks that each run failed with the text in its
# `# message:` comments. (tests/module.tftest.hcl proves which check refuses each input, with expect_failures.)

mock_provider "aws" {
  source = "./tests/mocks/aws"
}

# The DR region's provider (dr_region).
mock_provider "aws" {
  alias  = "dr"
  source = "./tests/mocks/aws-dr"
}

variables {
  account_id           = "123456789012"
  lambda_artifacts_dir = "tests/fixtures/lambda"
}

run "missing_zip" {
  # message: /nonexistent/create-snapshot/bootstrap.zip is missing: run `make build ARCH=arm64`
  # message: set artifacts_s3_bucket
  command = plan
  variables {
    lambda_artifacts_dir = "/nonexistent"
  }
}

run "dr_with_s3_zips_and_no_dr_bucket" {
  # message: dr_region with artifacts_s3_bucket needs dr_artifacts_s3_bucket
  command = plan
  variables {
    artifacts_s3_bucket = "my-artifacts"
    dr_region           = "ap-northeast-1"
  }
}

run "schedule_bucket" {
  # message: A schedule's bucket is not supported
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", bucket = "other" } }
  }
}

run "cron_day_fields" {
  # message: must have ? in exactly one of day-of-month (3rd field) and day-of-week (5th field)
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * * *)" } }
  }
}

run "cron_five_fields" {
  # message: schedule_expression must be cron(minutes hours day-of-month month day-of-week year) with six fields
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ?)" } }
  }
}

run "schedule_key_with_space" {
  # message: Each schedule key must be letters, digits, _ or -
  command = plan
  variables {
    schedules = { "nightly orders" = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "time_zone" {
  # message: timezone must be an IANA time zone name
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", timezone = "KST" } }
  }
}

run "deadline_past_the_execution" {
  # message: snapshot_timeout_seconds and export_timeout_seconds must be whole seconds from 60 to 79200
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", export_timeout_seconds = 90000 } }
  }
}

run "verify_budget_past_verify_shard" {
  # message: verify_budget_seconds must be whole seconds from 1 to 840
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", verify_budget_seconds = 900 } }
  }
}

run "drill_cron_day_fields" {
  # message: A drill's cron(...) must have ? in exactly one of day-of-month
  command = plan
  variables {
    drills = { weekly = { replication_group_id = "orders", schedule_expression = "cron(0 4 1 * SUN *)" } }
  }
}

run "drill_with_two_sources" {
  # message: Each drill needs exactly one of replication_group_id and serverless_cache_name
  command = plan
  variables {
    drills             = { weekly = { replication_group_id = "orders", serverless_cache_name = "sessions", schedule_expression = "cron(0 4 ? * SUN *)" } }
    verify_restore_vpc = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }
}

run "serverless_drill_with_node_type" {
  # message: A serverless drill (serverless_cache_name) restores into a serverless cache, which has no node_type
  command = plan
  variables {
    drills             = { weekly = { serverless_cache_name = "sessions", node_type = "cache.t4g.small", schedule_expression = "cron(0 4 ? * SUN *)" } }
    verify_restore_vpc = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }
}

run "group_drill_with_subnet_ids" {
  # message: subnet_ids is for a serverless drill (serverless_cache_name)
  command = plan
  variables {
    drills             = { weekly = { replication_group_id = "orders", subnet_ids = ["subnet-1"], schedule_expression = "cron(0 4 ? * SUN *)" } }
    verify_restore_vpc = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }
}

run "name_too_long" {
  # message: name must be 3-33 characters
  command = plan
  variables {
    name = "elasticache-backup-for-the-payments-team"
  }
}

run "existing_bucket_with_retention" {
  # message: backup_retention_days configures the module's bucket: with create_bucket = false
  # message: object_lock_days configures the module's bucket
  # message: dr_region replicates the module's bucket: it needs create_bucket = true
  command = plan
  variables {
    create_bucket         = false
    bucket_name           = "my-existing-bucket"
    backup_retention_days = 30
    object_lock_days      = 30
    dr_region             = "ap-northeast-1"
  }
}

run "override_timeout" {
  # message: function_overrides timeout must be whole seconds from 1 to 900
  command = plan
  variables {
    function_overrides = { verify-export = { timeout = 1200 } }
  }
}

run "override_unknown_function" {
  # message: function_overrides keys must be function names
  command = plan
  variables {
    function_overrides = { verify = { memory_size = 2048 } }
  }
}

run "existing_role_key" {
  # message: existing_role_arns keys must be a function name
  command = plan
  variables {
    existing_role_arns = { states = "arn:aws:iam::123456789012:role/x" }
  }
}

run "recovery_window" {
  # message: secret_recovery_window_days must be 0 or from 7 to 30
  command = plan
  variables {
    secret_recovery_window_days = 3
  }
}

run "role_path" {
  # message: role_path must start and end with /
  command = plan
  variables {
    role_path = "service-roles"
  }
}

run "artifacts_prefix" {
  # message: artifacts_s3_key_prefix must be empty or end with /
  command = plan
  variables {
    artifacts_s3_bucket     = "my-artifacts"
    artifacts_s3_key_prefix = "releases"
  }
}

run "retention_keep_days_past_ten_years" {
  # message: retention.keep_days must be a whole number of days from 0 to 3650
  command = plan
  variables {
    retention = { keep_last = 3, keep_days = 4000 }
  }
}

run "lifecycle_shorter_than_two_weeks" {
  # message: backup_retention_days must be a whole number of days from 14 to 3650: without retention the lifecycle also expires a target's last backup
  command = plan
  variables {
    backup_retention_days = 7
  }
}

run "drill_without_verify_restore_vpc" {
  # message: drills need verify_restore_vpc: VerifyRestore reaches a restored group only from inside its VPC
  # message: every drill would fail as RestoreUnreachable
  command = plan
  variables {
    drills = { weekly = { replication_group_id = "orders", schedule_expression = "cron(0 4 ? * SUN *)" } }
  }
}

run "retention_grace" {
  # message: retention.grace_hours must be from 48 to 8760
  command = plan
  variables {
    retention = { keep_last = 3, grace_hours = 12 }
  }
}

run "schedule_with_two_targets" {
  # message: Each schedule needs exactly one of replication_group_id, cache_cluster_id, serverless_cache_name, selector and targets.
  command = plan
  variables {
    schedules = { daily = { replication_group_id = "orders", selector = { backup = "daily" }, schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "schedule_with_a_group_and_a_serverless_cache" {
  # message: Each schedule needs exactly one of replication_group_id, cache_cluster_id, serverless_cache_name, selector and targets.
  command = plan
  variables {
    schedules = { sessions = { replication_group_id = "sessions", serverless_cache_name = "sessions", schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "serverless_cache_name" {
  # message: serverless_cache_name must name a serverless cache by the ElastiCache id rule: 1-40 letters, digits or hyphens, starting with a letter, with no double or trailing hyphen
  command = plan
  variables {
    schedules = { sessions = { serverless_cache_name = "sessions_cache", schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "fleet_concurrency" {
  # message: max_concurrency is for fleet schedules (selector or targets) and must be a whole number from 1 to 40
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", max_concurrency = 5, schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "fleet_target_list" {
  # message: A schedule's targets must list 1-150 entries, each with exactly one of replication_group_id (1-40)
  command = plan
  variables {
    schedules = { listed = { targets = [{ replication_group_id = "orders", cache_cluster_id = "solo" }], schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "fleet_target_with_two_kinds" {
  # message: each with exactly one of replication_group_id (1-40), cache_cluster_id (1-50) and serverless_cache_name (1-40)
  command = plan
  variables {
    schedules = { listed = { targets = [{ replication_group_id = "sessions", serverless_cache_name = "sessions" }], schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "fleet_selector" {
  # message: A schedule's selector must name 1-10 ElastiCache tags
  command = plan
  variables {
    schedules = { daily = { selector = {}, schedule_expression = "cron(0 3 * * ? *)" } }
  }
}

run "seeding_mode" {
  # message: seeding_mode must be null (by region: opt-in regions bucket-policy, others object-acl), "bucket-policy" or "object-acl"
  command = plan
  variables {
    seeding_mode = "canonical-user"
  }
}

run "seeding_in_an_unknown_partition" {
  # message: seeding_mode object-acl grants ElastiCache's canonical user, whose id in partition aws-iso this module does not know
  # message: set seeding_mode = "bucket-policy"
  command = plan
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-iso" }
  }
}

run "object_lock_mode" {
  # message: object_lock_mode must be GOVERNANCE or COMPLIANCE
  command = plan
  variables {
    object_lock_mode = "governance"
  }
}

run "vault_in_the_same_account" {
  # message: vault.account_id is this deployment's own account: a vault must be in another account
  command = plan
  variables {
    vault = { account_id = "123456789012", bucket = "acme-cache-vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/k" }
  }
}

run "vault_account_id_not_12_digits" {
  # message: vault.account_id must be the vault account's 12-digit id
  command = plan
  variables {
    vault = { account_id = "2109876543", bucket = "acme-cache-vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:ap-northeast-1:2109876543:key/k" }
  }
}

run "vault_bucket_name" {
  # message: vault.bucket must follow the S3 bucket naming rules
  command = plan
  variables {
    vault = { account_id = "210987654321", bucket = "Acme_Vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:ap-northeast-1:210987654321:key/k" }
  }
}

run "vault_key_in_another_region" {
  # message: vault.kms_key_arn must be the vault's KMS key ARN
  # message: in the vault's account and region
  command = plan
  variables {
    vault = { account_id = "210987654321", bucket = "acme-cache-vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:us-east-1:210987654321:key/k" }
  }
}

run "vault_with_an_existing_bucket" {
  # message: vault replicates the module's bucket: it needs create_bucket = true
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "my-own-bucket"
    vault         = { account_id = "210987654321", bucket = "acme-cache-vault", region = "ap-northeast-1", kms_key_arn = "arn:aws:kms:ap-northeast-1:210987654321:key/k" }
  }
}

run "vault_drill_without_a_vault" {
  # message: A drill with vault = true restores from the vault bucket: set the module's vault input
  command = plan
  variables {
    verify_restore_vpc = { subnet_ids = ["subnet-1"], security_group_ids = ["sg-1"] }
    drills             = { weekly = { replication_group_id = "orders", schedule_expression = "cron(0 5 ? * SUN *)", vault = true } }
  }
}

run "rpo_hours_zero" {
  # message: A schedule's rpo_hours
  # message: must be whole hours from 1 to 8760
  command = plan
  variables {
    schedules = { orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", rpo_hours = 0 } }
  }
}

run "rto_minutes_past_a_week" {
  # message: A drill's rto_minutes
  # message: must be whole minutes from 1 to 10080 (a week)
  command = plan
  variables {
    verify_restore_vpc = { subnet_ids = ["subnet-1"], security_group_ids = ["sg-1"] }
    drills             = { weekly = { replication_group_id = "orders", schedule_expression = "cron(0 5 ? * SUN *)", rto_minutes = 20000 } }
  }
}
