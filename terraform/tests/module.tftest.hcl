# terraform test: plans the module with a mocked AWS provider (no credentials, no network).

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
  schedules = {
    orders = {
      replication_group_id = "orders"
      schedule_expression  = "cron(0 3 * * ? *)"
      timezone             = "Asia/Seoul"
    }
    sessions = {
      replication_group_id     = "sessions"
      schedule_expression      = "cron(30 18 ? * MON-FRI *)"
      timezone                 = "UTC"
      snapshot_timeout_seconds = 7200
    }
  }
}

run "plans_every_function_with_its_own_role" {
  command = plan

  assert {
    condition     = toset(keys(module.primary.functions)) == toset(["create-snapshot", "check-snapshot", "export-snapshot", "check-export", "verify-export", "delete-snapshot", "notify", "resolve-backup", "create-group", "check-group", "verify-restore", "delete-group", "retention", "fleet", "evidence"])
    error_message = "Every function crate needs a Lambda."
  }
  assert {
    condition     = alltrue([for f in module.primary.functions : f.runtime == "provided.al2023" && f.handler == "bootstrap" && f.architectures == tolist(["arm64"])])
    error_message = "Functions are provided.al2023 / arm64 / bootstrap."
  }
  assert {
    condition     = alltrue([for k, f in module.primary.functions : f.filename == "tests/fixtures/lambda/${k}/bootstrap.zip" && f.source_code_hash == filebase64sha256("tests/fixtures/lambda/${k}/bootstrap.zip") && f.s3_bucket == null])
    error_message = "Each function uses its cargo-lambda zip and its hash."
  }
  assert {
    condition     = alltrue([for f in module.primary.functions : f.logging_config[0].log_format == "JSON"])
    error_message = "JSON logging."
  }
  assert {
    condition     = length(module.primary.roles) == 15
    error_message = "One role per function."
  }
  assert {
    condition     = length(module.primary.functions["notify"].dead_letter_config) == 1 && length(module.primary.functions["check-export"].dead_letter_config) == 0
    error_message = "notify keeps undeliverable alerts in a dead-letter queue."
  }
  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "The state machine is a Standard workflow (Express emits no EventBridge status events)."
  }
}

run "each_function_policy_allows_exactly_its_calls" {
  command = plan

  assert {
    condition = toset(flatten([for s in local.functions["create-snapshot"].statements : s.actions])) == toset([
      "elasticache:DescribeReplicationGroups", "elasticache:DescribeCacheClusters", "elasticache:DescribeSnapshots",
      "elasticache:CreateSnapshot", "elasticache:AddTagsToResource", "elasticache:ListTagsForResource",
      "elasticache:DescribeServerlessCaches", "elasticache:DescribeServerlessCacheSnapshots",
      "elasticache:CreateServerlessCacheSnapshot", "s3:ListBucket", "s3:GetBucketLocation",
      "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetObject",
    ])
    error_message = "create-snapshot actions (AddTagsToResource: CreateSnapshot tags the snapshot as the execution's)."
  }
  assert {
    condition     = toset(flatten([for s in local.functions["check-snapshot"].statements : s.actions])) == toset(["elasticache:DescribeSnapshots", "elasticache:DescribeServerlessCacheSnapshots", "s3:ListBucket"])
    error_message = "check-snapshot actions."
  }
  assert {
    condition = toset(flatten([for s in local.functions["export-snapshot"].statements : s.actions])) == toset([
      "elasticache:CopySnapshot", "elasticache:ExportServerlessCacheSnapshot", "elasticache:DescribeServerlessCacheSnapshots",
      "s3:ListBucket", "s3:GetBucketLocation", "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:ListAllMyBuckets",
    ])
    error_message = "export-snapshot actions."
  }
  assert {
    condition     = toset(flatten([for s in local.functions["check-export"].statements : s.actions])) == toset(["s3:ListBucket", "elasticache:DescribeEvents", "elasticache:DescribeServerlessCacheSnapshots"])
    error_message = "check-export actions (DescribeEvents: a refused export is seen in the source's events)."
  }
  assert {
    condition     = toset(flatten([for s in local.functions["verify-export"].statements : s.actions])) == toset(["s3:ListBucket", "s3:GetObject", "s3:PutObject"])
    error_message = "verify-export actions."
  }
  assert {
    condition     = toset(flatten([for s in local.functions["delete-snapshot"].statements : s.actions])) == toset(["s3:ListBucket", "elasticache:DescribeSnapshots", "elasticache:ListTagsForResource", "elasticache:DeleteSnapshot", "elasticache:DescribeServerlessCacheSnapshots", "elasticache:DeleteServerlessCacheSnapshot"])
    error_message = "delete-snapshot actions."
  }
  assert {
    condition = toset(flatten([for s in local.functions["notify"].statements : s.actions])) == toset([
      "states:GetExecutionHistory", "secretsmanager:GetSecretValue", "sqs:SendMessage",
      "elasticache:DescribeCacheClusters", "elasticache:DescribeSnapshots", "elasticache:DescribeServerlessCacheSnapshots",
      "s3:GetObject", "s3:PutObject", "s3:ListBucket",
    ])
    error_message = "notify actions."
  }
  assert {
    condition = alltrue([
      for f, prefix in { "export-snapshot" = "ObjectAccess", "verify-export" = "ReadExports" } :
      alltrue([for s in local.functions[f].statements : s.sid != prefix || s.resources == ["arn:aws:s3:::${local.bucket_name}/ecb-*"]])
    ])
    error_message = "The export's object grants reach only this project's export objects (ecb-*)."
  }
  assert {
    condition     = one([for s in local.functions["verify-export"].statements : s.resources if contains(s.actions, "s3:PutObject")]) == ["arn:aws:s3:::${local.bucket_name}/ecb-*.manifest.json"]
    error_message = "verify-export may write only manifests."
  }
  assert {
    condition     = one([for s in local.functions["notify"].statements : s.resources if contains(s.actions, "s3:PutObject")]) == ["arn:aws:s3:::${local.bucket_name}/notify-ledger/*"]
    error_message = "notify may write only its delivery ledger."
  }
  assert {
    condition     = alltrue(flatten([for f in local.functions : [for s in f.statements : [for a in s.actions : !strcontains(a, "*")]]]))
    error_message = "No wildcard actions."
  }
  assert {
    condition = alltrue(flatten([for f in local.function_statements : [for s in f : [
      for r in s.resources : (r != "*" || alltrue([for a in s.actions : startswith(a, "ec2:") || a == "elasticache:DescribeEvents"])) && (r != "arn:aws:s3:::*" || s.actions == ["s3:ListAllMyBuckets"])
    ]]]))
    error_message = "Only s3:ListAllMyBuckets may use a bucket wildcard; only Lambda's VPC network-interface actions and DescribeEvents (no resource type) use a bare *."
  }
  assert {
    condition = alltrue(flatten([for f in local.functions : [for s in f.statements : [
      for r in s.resources : strcontains(r, ":snapshot:ecb-*") || s.actions == ["elasticache:DescribeSnapshots"] if strcontains(r, ":snapshot:")
    ]]]))
    error_message = "Snapshot permissions are scoped to this tool's snapshots (ecb-*); only listing (DescribeSnapshots) reads all."
  }
  assert {
    condition = alltrue(flatten([for f in local.function_statements : [for s in f : [
      for r in s.resources : r == "arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2" || startswith(r, "arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2/") || r == "arn:aws:s3:::*" || startswith(r, "arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2-seed/")
    ] if anytrue([for a in s.actions : startswith(a, "s3:")])]]))
    error_message = "S3 permissions name the export bucket (or, seeding by object ACL, the seed bucket's objects)."
  }
}

run "bucket_policy_names_the_regional_elasticache_principal" {
  command = plan

  assert {
    condition     = local.elasticache_export_principal == "ap-northeast-2.elasticache-snapshot.amazonaws.com"
    error_message = "The export principal is regional."
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.exports.statement : s if s.sid == "ElastiCacheSnapshotExport"]).principals == toset([{ type = "Service", identifiers = toset(["ap-northeast-2.elasticache-snapshot.amazonaws.com"]) }])
    error_message = "The bucket policy lets the regional principal write the export."
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.exports.statement : s if s.sid == "DenyInsecureTransport"]).effect == "Deny"
    error_message = "TLS only."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.exports[0].rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs disabled."
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.exports[0].rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "SSE-S3: exports cannot use a customer KMS key."
  }
  assert {
    condition     = length(aws_s3_bucket_object_lock_configuration.exports) == 0
    error_message = "Object Lock is off by default."
  }
}

run "state_machine_definition_contains_every_function_arn" {
  command = plan

  override_resource {
    target          = module.primary.aws_lambda_function.this["create-snapshot"]
    override_during = plan
    values = {
      arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-create-snapshot"
    }
  }

  override_resource {
    target          = module.primary.aws_lambda_function.this["check-snapshot"]
    override_during = plan
    values = {
      arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-check-snapshot"
    }
  }

  override_resource {
    target          = module.primary.aws_lambda_function.this["export-snapshot"]
    override_during = plan
    values = {
      arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-export-snapshot"
    }
  }

  override_resource {
    target          = module.primary.aws_lambda_function.this["check-export"]
    override_during = plan
    values = {
      arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-check-export"
    }
  }

  override_resource {
    target          = module.primary.aws_lambda_function.this["verify-export"]
    override_during = plan
    values = {
      arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-verify-export"
    }
  }

  override_resource {
    target          = module.primary.aws_lambda_function.this["delete-snapshot"]
    override_during = plan
    values = {
      arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-delete-snapshot"
    }
  }

  assert {
    condition     = !strcontains(aws_sfn_state_machine.this.definition, "$${")
    error_message = "Every placeholder of backup.asl.json is supplied."
  }
  assert {
    condition = alltrue([for state, fn in {
      CreateSnapshot = "create-snapshot", CheckSnapshot = "check-snapshot", ExportSnapshot = "export-snapshot",
      CheckExport = "check-export", WriteManifest = "verify-export", DeleteSnapshot = "delete-snapshot" } :
      jsondecode(aws_sfn_state_machine.this.definition).States[state].Resource == "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-${fn}"
    ])
    error_message = "Each Task state invokes its own function's ARN."
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.this.definition).States["VerifyExport"].ItemProcessor.States["VerifyShard"].Resource == "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-verify-export"
    error_message = "VerifyExport's Map invokes verify-export once per shard object."
  }
}

run "schedules_carry_the_input_and_time_zone" {
  command = plan

  assert {
    condition     = aws_scheduler_schedule.backup["orders"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "Time zone."
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["sessions"].target[0].input) == { replicationGroupId = "sessions", snapshotTimeoutSeconds = 7200, keepSourceSnapshot = false }
    error_message = "The schedule's input is the execution input, unset fields left out."
  }
}

run "a_schedule_passes_its_verify_budget" {
  command = plan
  variables {
    schedules = {
      big = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", verify_budget_seconds = 600 }
    }
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["big"].target[0].input) == { replicationGroupId = "orders", verifyBudgetSeconds = 600, keepSourceSnapshot = false }
    error_message = "verify_budget_seconds becomes the execution input's verifyBudgetSeconds."
  }
}

run "a_verify_budget_past_verify_shard_is_rejected" {
  command = plan
  variables {
    schedules = {
      big = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", verify_budget_seconds = 0 }
    }
  }
  expect_failures = [var.schedules]
}

run "bad_cron_is_rejected" {
  command = plan
  variables {
    schedules = {
      bad = { replication_group_id = "orders", schedule_expression = "0 3 * * *" }
    }
  }
  expect_failures = [var.schedules]
}

run "bad_time_zone_is_rejected" {
  command = plan
  variables {
    schedules = {
      bad = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", timezone = "KST+9" }
    }
  }
  expect_failures = [var.schedules]
}

run "bad_id_is_rejected" {
  command = plan
  variables {
    schedules = {
      bad = { replication_group_id = "9-orders--", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "both_ids_are_rejected" {
  command = plan
  variables {
    schedules = {
      bad = { replication_group_id = "orders", cache_cluster_id = "orders-001", schedule_expression = "rate(1 day)" }
    }
  }
  expect_failures = [var.schedules]
}

run "functions_take_the_architecture" {
  command = plan

  variables {
    architecture = "x86_64"
  }

  assert {
    condition     = alltrue([for f in module.primary.functions : one(f.architectures) == "x86_64"])
    error_message = "every function must be deployed for the architecture the zips were built for"
  }
}

run "functions_default_to_arm64" {
  command = plan

  assert {
    condition     = alltrue([for f in module.primary.functions : one(f.architectures) == "arm64"])
    error_message = "arm64 is the default architecture"
  }
}

run "unknown_architecture_is_rejected" {
  command = plan

  variables {
    architecture = "aarch64"
  }

  expect_failures = [var.architecture]
}

run "the_restore_may_only_delete_groups_it_tagged" {
  command = plan

  assert {
    condition = alltrue(flatten([for f in local.functions : [for s in f.statements : [
      length(try(s.conditions, [])) == 1 && s.conditions[0].variable == "aws:ResourceTag/elasticache-backup:restore-execution"
      ] if contains(s.actions, "elasticache:DeleteReplicationGroup")
    ]]))
    error_message = "DeleteReplicationGroup is allowed only on groups tagged with a restore execution."
  }
  assert {
    condition     = length([for k, f in local.functions : k if anytrue([for s in f.statements : contains(s.actions, "elasticache:DeleteReplicationGroup")])]) == 1
    error_message = "Only delete-group may delete a replication group."
  }
  assert {
    condition = alltrue([for s in local.functions["delete-group"].statements : (
      toset([for c in try(s.conditions, []) : c.variable]) == toset(["aws:ResourceTag/elasticache-backup:restore-execution", "aws:TagKeys"])
      && contains([for c in s.conditions : c.values if c.variable == "aws:TagKeys"], ["elasticache-backup:restore-verdict"])
    ) if contains(s.actions, "elasticache:AddTagsToResource")]) && anytrue([for s in local.functions["delete-group"].statements : contains(s.actions, "elasticache:AddTagsToResource")])
    error_message = "delete-group may tag a kept group with its verdict only (aws:TagKeys), and only a group a restore execution tagged as its own."
  }
  assert {
    condition = toset(flatten([for s in local.function_statements["create-group"] : s.actions])) == toset([
      "elasticache:CreateReplicationGroup", "elasticache:AddTagsToResource", "elasticache:DescribeReplicationGroups",
      "elasticache:ListTagsForResource", "s3:GetObject", "secretsmanager:GetSecretValue",
      "elasticache:CreateServerlessCache", "elasticache:DescribeServerlessCaches",
    ])
    error_message = "create-group actions (CreateServerlessCache and DescribeServerlessCaches: a serverless target)."
  }
  assert {
    condition = alltrue(flatten([for f in local.functions : [for s in f.statements : [
      try(s.conditions, []) == [{ test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:restore-execution", values = [local.restore_executions_arn] }]
      && s.resources == [local.serverless_caches]
      ] if contains(s.actions, "elasticache:DeleteServerlessCache")
    ]])) && [for k, f in local.functions : k if anytrue([for s in f.statements : contains(s.actions, "elasticache:DeleteServerlessCache")])] == ["delete-group"]
    error_message = "Only delete-group may delete a serverless cache, and only one tagged with a restore execution."
  }
  assert {
    condition = [for s in local.function_statements["create-group"] : s.resources if contains(s.actions, "elasticache:CreateServerlessCache")] == [[
      local.serverless_caches, local.our_serverless_snapshots, local.our_snapshots, "${local.ec_arn}:usergroup:*",
    ]]
    error_message = "create-group may create serverless caches from this project's (ecb-) kept snapshots only."
  }
  assert {
    condition     = aws_sfn_state_machine.restore.type == "STANDARD"
    error_message = "The restore state machine is a Standard workflow."
  }
  assert {
    condition     = toset(local.restore_functions) == toset(["resolve-backup", "create-group", "check-group", "verify-restore", "delete-group"]) && length(setintersection(toset(local.backup_functions), toset(local.restore_functions))) == 0
    error_message = "Each state machine invokes only its own steps."
  }
  assert {
    condition     = !anytrue([for st in data.aws_iam_policy_document.exports.statement : anytrue([for p in st.principals : p.type == "CanonicalUser"])])
    error_message = "The bucket policy grants no canonical user (the undocumented route): default regions seed through object ACLs in the seed bucket."
  }
}

run "drills_start_the_restore_state_machine_with_drill_input" {
  command = plan

  variables {
    drills = {
      weekly = {
        replication_group_id = "orders"
        schedule_expression  = "cron(0 4 ? * SUN *)"
        timezone             = "Asia/Seoul"
        node_type            = "cache.t4g.small"
      }
    }
    verify_restore_vpc = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  assert {
    condition     = jsondecode(aws_scheduler_schedule.drill["weekly"].target[0].input) == { replicationGroupId = "orders", latest = true, drill = true, nodeType = "cache.t4g.small" }
    error_message = "A drill restores the newest verified backup of its source with drill: true."
  }
  assert {
    condition     = aws_scheduler_schedule.drill["weekly"].schedule_expression_timezone == "Asia/Seoul"
    error_message = "The drill keeps its time zone."
  }
  assert {
    condition     = anytrue([for st in data.aws_iam_policy_document.scheduler.statement : st.sid == "StartDrills"])
    error_message = "The scheduler may start the restore state machine when drills exist."
  }
}

run "a_serverless_drill_restores_the_caches_newest_backup_into_a_new_serverless_cache" {
  command = plan

  variables {
    drills = {
      sessions = {
        serverless_cache_name = "sessions"
        schedule_expression   = "cron(0 5 ? * SUN *)"
        subnet_ids            = ["subnet-0a1", "subnet-0b2"]
        security_group_ids    = ["sg-0123456789abcdef0"]
      }
    }
    verify_restore_vpc = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  assert {
    condition = jsondecode(aws_scheduler_schedule.drill["sessions"].target[0].input) == {
      serverlessCacheName = "sessions", serverless = true, latest = true, drill = true,
      subnetIds           = ["subnet-0a1", "subnet-0b2"], securityGroupIds = ["sg-0123456789abcdef0"]
    }
    error_message = "A serverless drill restores the cache's newest verified backup into a new serverless cache (serverless: true)."
  }
  assert {
    condition     = strcontains(aws_scheduler_schedule.drill["sessions"].description, "the serverless cache sessions")
    error_message = "The schedule's description names the serverless cache."
  }
}

run "a_drill_naming_both_or_neither_source_is_rejected" {
  command = plan

  variables {
    drills = {
      both    = { replication_group_id = "orders", serverless_cache_name = "sessions", schedule_expression = "cron(0 4 ? * SUN *)" }
      neither = { schedule_expression = "cron(0 4 ? * SUN *)" }
    }
    verify_restore_vpc = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  expect_failures = [var.drills]
}

run "node_options_on_a_serverless_drill_are_rejected" {
  command = plan

  variables {
    drills = {
      sessions = { serverless_cache_name = "sessions", node_type = "cache.t4g.small", schedule_expression = "cron(0 4 ? * SUN *)" }
    }
    verify_restore_vpc = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  expect_failures = [var.drills]
}

run "a_bad_drill_schedule_is_rejected" {
  command = plan

  variables {
    drills = {
      weekly = { replication_group_id = "orders", schedule_expression = "every sunday" }
    }
  }

  expect_failures = [var.drills]
}

run "a_dr_region_gets_a_seedable_replica_bucket_and_the_restore_state_machine" {
  command = plan

  variables {
    dr_region = "ap-northeast-1"
  }

  assert {
    condition     = aws_s3_bucket.dr[0].bucket == "elasticache-backup-123456789012-ap-northeast-1"
    error_message = "The DR bucket is named for its region."
  }
  assert {
    condition     = aws_s3_bucket.dr_seed[0].bucket == "elasticache-backup-123456789012-ap-northeast-1-seed" && local.dr_seeding_mode == "object-acl" && !anytrue([for st in data.aws_iam_policy_document.dr.statement : st.effect == "Allow"])
    error_message = "ElastiCache in the DR region (a default region) seeds from the DR seed bucket; the replica bucket's policy grants no one."
  }
  assert {
    condition     = aws_s3_bucket_replication_configuration.exports[0].rule[0].delete_marker_replication[0].status == "Disabled"
    error_message = "Deletions in the primary bucket never reach the DR copies."
  }
  assert {
    condition     = toset(keys(module.dr[0].functions)) == toset(local.restore_functions)
    error_message = "Every restore step runs in the DR region."
  }
  assert {
    condition     = alltrue([for k, f in local.dr_functions : alltrue([for s in f.statements : alltrue([for r in s.resources : !strcontains(r, ":ap-northeast-2:") && !strcontains(r, "elasticache-backup-123456789012-ap-northeast-2")])])])
    error_message = "The DR functions' permissions name the DR region and the DR bucket only."
  }
  assert {
    condition     = module.dr[0].functions["resolve-backup"].environment[0].variables.BACKUP_BUCKET == "elasticache-backup-123456789012-ap-northeast-1"
    error_message = "Restores in the DR region read the DR bucket."
  }
  assert {
    condition     = length(aws_sfn_state_machine.dr_restore) == 1
    error_message = "The restore state machine is deployed in the DR region."
  }
}

run "no_dr_region_creates_nothing_there" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket.dr) == 0 && length(module.dr) == 0 && length(aws_sfn_state_machine.dr_restore) == 0
    error_message = "Without dr_region nothing is created in another region."
  }
}

run "a_50_character_cache_cluster_id_is_accepted" {
  command = plan

  variables {
    schedules = {
      long = { cache_cluster_id = "a123456789-123456789-123456789-123456789-123456789", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }

  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["long"].target[0].input).cacheClusterId == "a123456789-123456789-123456789-123456789-123456789"
    error_message = "A valid 50-character CacheClusterId is scheduled."
  }
}

run "a_too_long_deadline_is_rejected" {
  command = plan

  variables {
    schedules = {
      slow = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", export_timeout_seconds = 604800 }
    }
  }

  expect_failures = [var.schedules]
}

run "alerts_are_scoped_to_the_targets_and_notify_is_watched" {
  command = plan

  variables {
    ops_alert_email = "oncall@example.com"
  }

  assert {
    condition = jsondecode(one(aws_cloudwatch_event_rule.snapshot_events).event_pattern).detail.SourceIdentifier == [
      { prefix = "ecb-" }, "orders", { prefix = "orders-00" }, "sessions", { prefix = "sessions-00" },
    ]
    error_message = "ElastiCache events: only this project's snapshots and the scheduled targets and their nodes."
  }
  assert {
    condition = alltrue([for st in data.aws_iam_policy_document.events_topic.statement : alltrue([
      for c in st.condition : c.variable == (st.sid == "ElastiCacheNotifications" ? "AWS:SourceOwner" : "aws:SourceAccount")
    ])])
    error_message = "ElastiCache's SNS statement tests AWS:SourceOwner."
  }
  assert {
    condition     = keys(aws_cloudwatch_composite_alarm.stale) == ["orders", "sessions"] && strcontains(aws_cloudwatch_composite_alarm.stale["orders"].alarm_rule, "AND ALARM(")
    error_message = "One staleness alarm per scheduled target, gated on a started run."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.no_verified_backup["orders"].treat_missing_data == "breaching" && aws_cloudwatch_metric_alarm.runs_started["orders"].treat_missing_data == "notBreaching"
    error_message = "No verified backup counts missing data as breaching; a started run does not."
  }
  assert {
    condition     = try(length(aws_cloudwatch_composite_alarm.stale["orders"].ok_actions), 0) == 0
    error_message = "Only the next successful run resolves a staleness page."
  }
  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.dead_letters)) == toset(["notify", "schedule"]) && alltrue([for a in aws_cloudwatch_metric_alarm.dead_letters : length(a.alarm_actions) == 1])
    error_message = "Both dead-letter queues alarm to the ops topic."
  }
  assert {
    condition     = aws_sns_topic_subscription.ops_email[0].protocol == "email" && aws_sns_topic_subscription.ops_email[0].endpoint == "oncall@example.com"
    error_message = "The ops e-mail subscription."
  }
}

run "a_bad_ops_email_is_rejected" {
  command = plan
  variables {
    ops_alert_email = "not-an-address"
  }
  expect_failures = [var.ops_alert_email]
}

run "roles_carry_the_region_path_and_boundary" {
  command = plan

  variables {
    role_path                 = "/service-roles/"
    role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary"
  }

  assert {
    condition = alltrue(concat(
      [for r in module.primary.roles : endswith(r.name, "-ap-northeast-2") && r.path == "/service-roles/" && r.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"],
      [for r in [aws_iam_role.state_machine[0], aws_iam_role.restore_machine[0], aws_iam_role.scheduler[0]] : endswith(r.name, "-ap-northeast-2") && r.path == "/service-roles/" && r.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"],
    ))
    error_message = "Every role is named with its region (IAM names are account-wide) and carries the path and boundary."
  }
}

run "a_bad_role_path_is_rejected" {
  command = plan
  variables {
    role_path = "service-roles"
  }
  expect_failures = [var.role_path]
}

run "a_name_too_long_for_role_and_bucket_names_is_rejected" {
  command = plan
  variables {
    name = "a-deployment-name-of-34-characters"
  }
  expect_failures = [var.name]
}

run "secrets_take_the_recovery_window" {
  command = plan
  variables {
    secret_recovery_window_days = 0
  }
  assert {
    condition     = aws_secretsmanager_secret.slack_webhook.recovery_window_in_days == 0 && aws_secretsmanager_secret.pagerduty_routing_key.recovery_window_in_days == 0
    error_message = "Both secrets take secret_recovery_window_days."
  }
}

run "a_bad_recovery_window_is_rejected" {
  command = plan
  variables {
    secret_recovery_window_days = 3
  }
  expect_failures = [var.secret_recovery_window_days]
}

run "object_lock_is_a_configuration_not_a_bucket_attribute" {
  command = plan
  variables {
    object_lock_days = 30
  }
  assert {
    condition     = aws_s3_bucket_object_lock_configuration.exports[0].object_lock_enabled == "Enabled" && length(aws_s3_bucket_object_lock_configuration.exports[0].rule) == 0
    error_message = "Object Lock is enabled by the lock configuration (an in-place update), without a default retention."
  }
}

run "a_missing_zip_fails_at_plan_naming_make_build" {
  command = plan

  variables {
    lambda_artifacts_dir = "/nonexistent"
  }

  expect_failures = [var.lambda_artifacts_dir]
}

run "zips_can_come_from_s3_with_their_published_hash" {
  command = plan

  variables {
    lambda_artifacts_dir    = "/nonexistent"
    artifacts_s3_bucket     = "my-artifacts"
    artifacts_s3_key_prefix = "elasticache-backup/v1.4.0/"
  }

  assert {
    condition = alltrue([for k, f in module.primary.functions :
      f.s3_bucket == "my-artifacts" && f.s3_key == "elasticache-backup/v1.4.0/${k}/bootstrap.zip" && f.filename == null
    && f.source_code_hash == "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA="])
    error_message = "From S3, each function takes <prefix><function>/bootstrap.zip and the hash published beside it."
  }
  assert {
    condition     = data.aws_s3_object.artifact_hash["notify"].key == "elasticache-backup/v1.4.0/notify/bootstrap.zip.base64sha256"
    error_message = "The hash is read from <zip key>.base64sha256."
  }
}

run "a_dr_region_with_s3_zips_needs_a_bucket_there" {
  command = plan

  variables {
    lambda_artifacts_dir = "/nonexistent"
    artifacts_s3_bucket  = "my-artifacts"
    dr_region            = "ap-northeast-1"
  }

  expect_failures = [var.dr_artifacts_s3_bucket]
}

run "a_bad_artifacts_prefix_is_rejected" {
  command = plan

  variables {
    artifacts_s3_bucket     = "my-artifacts"
    artifacts_s3_key_prefix = "no-trailing-slash"
  }

  expect_failures = [var.artifacts_s3_key_prefix]
}

run "outputs_give_arns_queues_and_policies" {
  command = plan

  assert {
    condition     = toset(keys(output.function_arns)) == toset(keys(module.primary.functions)) && toset(keys(output.log_group_arns)) == setunion(toset(keys(module.primary.functions)), ["state-machine", "restore-machine", "fleet-machine"])
    error_message = "Function and log group ARNs for every function (and the state machines' log groups)."
  }
  assert {
    condition     = toset(keys(output.role_arns)) == setunion(toset(keys(module.primary.functions)), ["state-machine", "restore-machine", "fleet-machine", "scheduler"]) && toset(keys(output.role_policies_json)) == toset(keys(output.role_arns))
    error_message = "A role ARN and the policy it needs for every function, the three state machines and the scheduler."
  }
  assert {
    condition     = toset(keys(output.dead_letter_queue_urls)) == toset(["notify", "schedule"])
    error_message = "Both dead-letter queues are outputs."
  }
  assert {
    condition     = output.bucket_policy_json == data.aws_iam_policy_document.exports.json
    error_message = "The bucket policy is an output."
  }
}

run "existing_roles_are_used_and_not_created" {
  command = plan

  variables {
    existing_role_arns = {
      verify-export = "arn:aws:iam::123456789012:role/platform/ecb-verify"
      state-machine = "arn:aws:iam::123456789012:role/platform/ecb-states"
      scheduler     = "arn:aws:iam::123456789012:role/platform/ecb-scheduler"
    }
  }

  assert {
    condition     = module.primary.functions["verify-export"].role == "arn:aws:iam::123456789012:role/platform/ecb-verify" && !contains(keys(module.primary.roles), "verify-export") && !contains(keys(module.primary.role_policies), "verify-export") && length(module.primary.roles) == 14
    error_message = "A function given an existing role uses it, and the module creates neither that role nor its policy."
  }
  assert {
    condition     = aws_sfn_state_machine.this.role_arn == "arn:aws:iam::123456789012:role/platform/ecb-states" && length(aws_iam_role.state_machine) == 0 && length(aws_iam_role.restore_machine) == 1
    error_message = "The backup state machine uses the existing role; the restore machine's role is still created."
  }
  assert {
    condition     = alltrue([for s in aws_scheduler_schedule.backup : s.target[0].role_arn == "arn:aws:iam::123456789012:role/platform/ecb-scheduler"]) && length(aws_iam_role.scheduler) == 0
    error_message = "Schedules start executions with the existing scheduler role."
  }
}

run "an_unknown_existing_role_key_is_rejected" {
  command = plan
  variables {
    existing_role_arns = { verify = "arn:aws:iam::123456789012:role/x" }
  }
  expect_failures = [var.existing_role_arns]
}

run "function_sizes_and_log_key_can_be_overridden" {
  command = plan

  variables {
    function_overrides = {
      verify-export = { memory_size = 5307 }
      check-export  = { timeout = 60 }
    }
    logs_kms_key_arn = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = module.primary.functions["verify-export"].memory_size == 5307 && module.primary.functions["verify-export"].timeout == 900 && module.primary.functions["check-export"].timeout == 60 && module.primary.functions["check-export"].memory_size == 128
    error_message = "An override replaces only the value it names."
  }
  assert {
    condition     = alltrue([for g in concat(values(module.primary.log_groups), [aws_cloudwatch_log_group.state_machine, aws_cloudwatch_log_group.restore_machine]) : g.kms_key_id == "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"])
    error_message = "Every log group is encrypted with logs_kms_key_arn."
  }
}

run "an_override_past_lambdas_limit_is_rejected" {
  command = plan
  variables {
    function_overrides = { verify-export = { timeout = 901 } }
  }
  expect_failures = [var.function_overrides]
}

run "a_schedule_bucket_is_refused" {
  command = plan
  variables {
    schedules = {
      orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)", bucket = "another-bucket" }
    }
  }
  expect_failures = [var.schedules]
}

run "cron_needs_a_question_mark_in_one_day_field" {
  command = plan
  variables {
    schedules = {
      orders = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * * *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_schedule_key_with_a_space_is_rejected" {
  command = plan
  variables {
    schedules = {
      "nightly orders" = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_drill_cron_with_both_day_fields_is_rejected" {
  command = plan
  variables {
    drills = {
      weekly = { replication_group_id = "orders", schedule_expression = "cron(0 4 1 * SUN *)" }
    }
  }
  expect_failures = [var.drills]
}

run "an_existing_bucket_refuses_what_only_the_module_bucket_can_do" {
  command = plan
  variables {
    create_bucket         = false
    bucket_name           = "my-existing-bucket"
    backup_retention_days = 30
    object_lock_days      = 30
    dr_region             = "ap-northeast-1"
  }
  expect_failures = [var.backup_retention_days, var.object_lock_days, var.dr_region]
}

run "an_existing_bucket_gets_the_policy_to_add" {
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "my-existing-bucket"
  }
  assert {
    condition     = length(aws_s3_bucket.exports) == 0 && length(aws_s3_bucket_policy.exports) == 0 && output.bucket_policy_json == data.aws_iam_policy_document.exports.json && output.bucket_name == "my-existing-bucket"
    error_message = "With create_bucket = false nothing is created on the bucket and its policy is an output."
  }
}

run "the_dashboard_shows_each_backup_metric_executions_functions_and_queues" {
  command = plan

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "elasticache-backup-ap-northeast-2"
    error_message = "One dashboard per deployment, named with its region (dashboard names are account-wide)."
  }
  # The backup's own metrics (backup_core::metrics), each in a per-target SEARCH.
  assert {
    condition = alltrue([for m in ["BackupDurationSeconds", "ExportBytes", "KeyCount", "VerifiedBackups", "BackupRunsStarted"] :
    strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "SEARCH('{ElastiCacheBackup,Target} MetricName=\\\"${m}\\\"'")])
    error_message = "Every metric the backup publishes is graphed per target."
  }
  assert {
    condition = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets :
      w.type != "metric" || alltrue([for m in try(w.properties.metrics, [null]) :
        try(length(m) == 1 && startswith(m[0].expression, "SEARCH('{ElastiCacheBackup,Target}"), false) || try(contains(["AWS/States", "AWS/Lambda", "AWS/SQS"], m[0]) && length(m) >= 4, false)
    ])])
    error_message = "Every metric widget graphs a SEARCH of the backup's metrics or an AWS service metric."
  }
  assert {
    condition     = length([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w if w.type == "log" && try(strcontains(w.properties.query, "SOURCE '/aws/lambda/elasticache-backup-delete-snapshot'") && strcontains(w.properties.query, "by Target"), false)]) == 1
    error_message = "The last verified backup per target comes from DeleteSnapshot's metric records."
  }
  assert {
    condition = alltrue(concat(
      [for k in keys(module.primary.functions) : strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, "\"elasticache-backup-${k}\"")],
      [for q in ["elasticache-backup-notify-dlq", "elasticache-backup-schedule-dlq", "stateMachine:elasticache-backup\"", "stateMachine:elasticache-backup-restore\"", "ExecutionsFailed", "alarm:elasticache-backup-no-verified-backup-orders"] : strcontains(aws_cloudwatch_dashboard.this[0].dashboard_body, q)],
    ))
    error_message = "Functions, dead-letter queues, both state machines' executions and the staleness alarms are on the dashboard."
  }
}

run "the_dashboard_can_be_left_out" {
  command = plan
  variables {
    dashboard = false
  }
  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null
    error_message = "dashboard = false creates none."
  }
}

run "retention_runs_on_its_schedule_with_its_input_and_may_only_delete_our_objects" {
  command = plan

  variables {
    retention = { keep_last = 7, keep_days = 14, dry_run = false }
  }

  assert {
    condition     = aws_scheduler_schedule.retention[0].target[0].arn == module.primary.functions["retention"].arn && jsondecode(aws_scheduler_schedule.retention[0].target[0].input) == { keepLast = 7, keepDays = 14, dryRun = false, graceHours = 48, snapshotMinAgeHours = 72 }
    error_message = "The retention schedule invokes the retention function with the policy as camelCase input."
  }
  assert {
    condition     = aws_scheduler_schedule.retention[0].schedule_expression == "cron(30 5 * * ? *)" && length(aws_cloudwatch_metric_alarm.retention_errors) == 1
    error_message = "A daily default schedule, and an alarm on the function's errors."
  }
  assert {
    condition = alltrue([for st in local.functions["retention"].statements :
      !contains(st.actions, "s3:DeleteObject") || st.resources == ["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2/ecb-*"]
    ])
    error_message = "Retention deletes only ecb-* objects."
  }
  assert {
    condition = alltrue([for st in local.functions["retention"].statements :
      !contains(st.actions, "elasticache:DeleteSnapshot") || (st.resources == ["arn:aws:elasticache:ap-northeast-2:123456789012:snapshot:ecb-*"] && try(st.conditions, []) == [{ test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:execution", values = ["arn:aws:states:ap-northeast-2:123456789012:execution:elasticache-backup:*"] }])
    ])
    error_message = "The sweeper may delete only ecb-* snapshots that carry the backup's tag."
  }
  assert {
    condition     = !contains(local.backup_functions, "retention") && !contains(local.restore_functions, "retention")
    error_message = "Retention is not a state machine step."
  }
}

run "no_retention_schedule_by_default" {
  command = plan
  assert {
    condition     = length(aws_scheduler_schedule.retention) == 0 && length(aws_cloudwatch_metric_alarm.retention_errors) == 0 && output.retention_schedule_name == null
    error_message = "Retention is opt-in."
  }
}

run "retention_keep_days_past_ten_years_is_refused" {
  command = plan
  variables {
    retention = { keep_last = 3, keep_days = 3651 }
  }
  expect_failures = [var.retention]
}

run "retention_with_a_grace_shorter_than_an_execution_is_refused" {
  command = plan
  variables {
    retention = { keep_last = 3, grace_hours = 24 }
  }
  expect_failures = [var.retention]
}

run "a_fleet_schedule_starts_the_fleet_state_machine_which_may_start_only_backups_and_its_map_runs" {
  command = plan

  override_resource {
    target          = aws_sfn_state_machine.this
    override_during = plan
    values          = { arn = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:elasticache-backup" }
  }
  override_resource {
    target          = aws_sfn_state_machine.fleet
    override_during = plan
    values          = { arn = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:elasticache-backup-fleet" }
  }
  override_resource {
    target          = aws_sfn_state_machine.restore
    override_during = plan
    values          = { arn = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:elasticache-backup-restore" }
  }
  override_resource {
    target          = module.primary.aws_lambda_function.this["fleet"]
    override_during = plan
    values          = { arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:elasticache-backup-fleet" }
  }

  variables {
    schedules = {
      daily = {
        selector            = { backup = "daily", team = "core" }
        max_concurrency     = 5
        schedule_expression = "cron(0 2 * * ? *)"
      }
      listed = {
        targets             = [{ replication_group_id = "orders" }, { cache_cluster_id = "solo" }]
        schedule_expression = "cron(0 4 * * ? *)"
      }
      orders = {
        replication_group_id = "orders"
        schedule_expression  = "cron(0 3 * * ? *)"
      }
    }
  }

  assert {
    condition     = aws_scheduler_schedule.backup["daily"].target[0].arn == aws_sfn_state_machine.fleet.arn && aws_scheduler_schedule.backup["orders"].target[0].arn == aws_sfn_state_machine.this.arn
    error_message = "A selector schedule starts the fleet state machine; a single target the backup one."
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["daily"].target[0].input) == { selector = { tags = { backup = "daily", team = "core" } }, maxConcurrency = 5, name = "daily", keepSourceSnapshot = false }
    error_message = "The fleet input: the selector's tags, maxConcurrency, the schedule's key as the fleet's name, the options."
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["listed"].target[0].input) == { targets = [{ replicationGroupId = "orders" }, { cacheClusterId = "solo" }], name = "listed", keepSourceSnapshot = false }
    error_message = "A list becomes targets with camelCase ids."
  }
  assert {
    condition     = jsondecode(aws_sfn_state_machine.fleet.definition).States["Backups"].ItemProcessor.States["BackupTarget"].Parameters.StateMachineArn == aws_sfn_state_machine.this.arn && jsondecode(aws_sfn_state_machine.fleet.definition).States["BackupsAtScale"].ItemProcessor.States["BackupTargetAtScale"].Parameters.StateMachineArn == aws_sfn_state_machine.this.arn && jsondecode(aws_sfn_state_machine.fleet.definition).States["Discover"].Resource == module.primary.functions["fleet"].arn
    error_message = "The fleet's children, inline or in the Distributed Map, are executions of the backup state machine; Discover is the fleet function."
  }
  assert {
    condition     = [for st in data.aws_iam_policy_document.fleet_machine.statement : toset(st.resources) if contains(st.actions, "states:StartExecution")] == [toset([local.state_machine_arn]), toset([aws_sfn_state_machine.fleet.arn])] && local.state_machine_arn == "arn:aws:states:${local.region}:${local.account_id}:stateMachine:${aws_sfn_state_machine.this.name}"
    error_message = "The fleet role may start only the backup state machine, and its own Distributed Map's child workflows."
  }
  assert {
    condition     = alltrue(flatten([for st in concat(data.aws_iam_policy_document.fleet_machine.statement, module.primary.policies["fleet"].statement) : [for r in st.resources : r == "${local.bucket_arn}/fleet-runs/*"] if anytrue([for a in st.actions : startswith(a, "s3:")])])) && length([for st in module.primary.policies["fleet"].statement : st if contains(st.actions, "s3:PutObject")]) == 1
    error_message = "The fleet state machine and function read and write S3 only under fleet-runs/ of the bucket."
  }
  assert {
    condition     = anytrue([for st in data.aws_iam_policy_document.scheduler.statement : st.sid == "StartFleets"])
    error_message = "The scheduler may start the fleet state machine when a fleet schedule exists."
  }
  assert {
    condition     = local.scheduled_targets == toset(["orders", "solo"])
    error_message = "Staleness alarms cover single targets and listed ones (a selector's are known only at run time)."
  }
  assert {
    condition     = contains(jsondecode(aws_cloudwatch_event_rule.execution_status.event_pattern).detail.stateMachineArn, aws_sfn_state_machine.fleet.arn) && module.primary.functions["notify"].environment[0].variables["FLEET_STATE_MACHINE_ARN"] == aws_sfn_state_machine.fleet.arn
    error_message = "notify hears of fleet executions and keys them fleet/<name>."
  }
}

run "no_fleet_start_permission_without_a_fleet_schedule" {
  command = plan
  assert {
    condition     = !anytrue([for st in data.aws_iam_policy_document.scheduler.statement : st.sid == "StartFleets"])
    error_message = "The scheduler may not start fleets when no schedule is one."
  }
}

run "a_schedule_with_a_selector_and_a_target_is_refused" {
  command = plan
  variables {
    schedules = {
      both = {
        replication_group_id = "orders"
        selector             = { backup = "daily" }
        schedule_expression  = "cron(0 2 * * ? *)"
      }
    }
  }
  expect_failures = [var.schedules]
}

run "max_concurrency_beyond_an_inline_map_is_refused" {
  command = plan
  variables {
    schedules = {
      daily = {
        selector            = { backup = "daily" }
        max_concurrency     = 41
        schedule_expression = "cron(0 2 * * ? *)"
      }
    }
  }
  expect_failures = [var.schedules]
}

# Issue 21: never destroy what should be kept.

run "with_retention_the_lifecycle_expires_no_backup_only_bookkeeping_and_old_versions" {
  command = plan
  variables {
    # keep_days is no longer capped by backup_retention_days (35 by default): the lifecycle does not expire backups.
    retention = { keep_last = 3, keep_days = 90, dry_run = false }
  }
  assert {
    condition     = toset([for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule : r.id if length(r.expiration) > 0]) == toset(["expire-fleet-runs", "expire-retention-reports", "expire-notify-ledger"])
    error_message = "With retention only the bookkeeping prefixes' current objects expire."
  }
  assert {
    condition = alltrue([for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule : length(r.expiration) == 0 ? true :
      contains(["fleet-runs/", "retention-reports/", "notify-ledger/"], one(r.filter).prefix) && !startswith(one(r.filter).prefix, "ecb-")
    ])
    error_message = "No current-version expiration matches ecb-… objects (exports, manifests, restore reports) while retention is deployed."
  }
  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule : one(r.expiration).days if contains(["expire-fleet-runs", "expire-retention-reports"], r.id)] == [35, 35]
    error_message = "The bookkeeping prefixes expire after backup_retention_days."
  }
  assert {
    condition = [for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule :
      [length(r.expiration), one(r.noncurrent_version_expiration).noncurrent_days, one(r.abort_incomplete_multipart_upload).days_after_initiation]
    if r.id == "expire-noncurrent-versions"] == [[0, 7, 7]]
    error_message = "Noncurrent versions and incomplete multipart uploads still expire, in the whole bucket."
  }
}

run "without_retention_the_lifecycle_expires_every_current_object" {
  command = plan
  variables {
    backup_retention_days = 60
  }
  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule : one(r.expiration).days if r.id == "expire-backups"] == [60] && length(aws_s3_bucket_lifecycle_configuration.exports[0].rule) == 3
    error_message = "Without retention one rule expires every current object after backup_retention_days (besides the noncurrent and notify-ledger rules)."
  }
  assert {
    condition = [for r in aws_s3_bucket_lifecycle_configuration.exports[0].rule :
      [length(r.expiration), one(r.noncurrent_version_expiration).noncurrent_days, one(r.abort_incomplete_multipart_upload).days_after_initiation]
    if r.id == "expire-noncurrent-versions"] == [[0, 7, 7]]
    error_message = "Noncurrent versions and incomplete multipart uploads expire."
  }
}

run "a_lifecycle_shorter_than_two_weeks_is_refused" {
  command = plan
  variables {
    backup_retention_days = 13
  }
  expect_failures = [var.backup_retention_days]
}

run "a_dr_region_pages_through_the_primary_regions_bus" {
  command = plan

  variables {
    dr_region = "ap-northeast-1"
  }

  override_resource {
    target          = aws_sfn_state_machine.dr_restore[0]
    override_during = plan
    values          = { arn = "arn:aws:states:ap-northeast-1:123456789012:stateMachine:elasticache-backup-restore" }
  }
  override_resource {
    target          = aws_sfn_state_machine.this
    override_during = plan
    values          = { arn = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:elasticache-backup" }
  }
  override_resource {
    target          = aws_sfn_state_machine.restore
    override_during = plan
    values          = { arn = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:elasticache-backup-restore" }
  }
  override_resource {
    target          = aws_sfn_state_machine.fleet
    override_during = plan
    values          = { arn = "arn:aws:states:ap-northeast-2:123456789012:stateMachine:elasticache-backup-fleet" }
  }
  override_resource {
    target          = aws_iam_role.dr_events[0]
    override_during = plan
    values          = { arn = "arn:aws:iam::123456789012:role/elasticache-backup-dr-events-ap-northeast-1" }
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.dr_execution_status[0].event_pattern) == {
      source        = ["aws.states"]
      "detail-type" = ["Step Functions Execution Status Change"]
      detail = {
        stateMachineArn = ["arn:aws:states:ap-northeast-1:123456789012:stateMachine:elasticache-backup-restore"]
        status          = ["FAILED", "TIMED_OUT", "ABORTED", "SUCCEEDED"]
      }
    }
    error_message = "In the DR region a rule takes the DR restore machine's finished executions."
  }
  assert {
    condition     = aws_cloudwatch_event_target.dr_to_primary_bus[0].rule == aws_cloudwatch_event_rule.dr_execution_status[0].name && aws_cloudwatch_event_target.dr_to_primary_bus[0].arn == "arn:aws:events:ap-northeast-2:123456789012:event-bus/default" && aws_cloudwatch_event_target.dr_to_primary_bus[0].role_arn == "arn:aws:iam::123456789012:role/elasticache-backup-dr-events-ap-northeast-1"
    error_message = "Its target is the primary region's default event bus, through the forwarding role."
  }
  assert {
    condition     = length(data.aws_iam_policy_document.dr_events.statement) == 1 && alltrue([for st in data.aws_iam_policy_document.dr_events.statement : st.effect != "Deny" && st.actions == toset(["events:PutEvents"]) && st.resources == toset(["arn:aws:events:ap-northeast-2:123456789012:event-bus/default"])])
    error_message = "The forwarding role may only PutEvents, and only to the primary region's default bus."
  }
  assert {
    condition     = one(data.aws_iam_policy_document.events_assume.statement).principals == toset([{ type = "Service", identifiers = toset(["events.amazonaws.com"]) }])
    error_message = "The forwarding role is EventBridge's."
  }
  assert {
    condition     = contains(jsondecode(aws_cloudwatch_event_rule.execution_status.event_pattern).detail.stateMachineArn, "arn:aws:states:ap-northeast-1:123456789012:stateMachine:elasticache-backup-restore") && length(jsondecode(aws_cloudwatch_event_rule.execution_status.event_pattern).detail.stateMachineArn) == 4
    error_message = "The primary rule feeding notify lists the DR restore machine too."
  }
  assert {
    condition     = module.primary.functions["notify"].environment[0].variables["DR_RESTORE_STATE_MACHINE_ARN"] == aws_sfn_state_machine.dr_restore[0].arn
    error_message = "notify knows the DR restore machine (DR_RESTORE_STATE_MACHINE_ARN)."
  }
  assert {
    condition     = contains(one([for s in local.functions["notify"].statements : s.resources if s.sid == "ReadHistory"]), "arn:aws:states:ap-northeast-1:123456789012:execution:elasticache-backup-restore:*")
    error_message = "notify may read the history of the DR restore machine's executions."
  }
}

run "without_a_dr_region_notify_has_no_dr_machine" {
  command = plan
  assert {
    condition     = length(aws_cloudwatch_event_rule.dr_execution_status) == 0 && length(aws_cloudwatch_event_target.dr_to_primary_bus) == 0 && length(aws_iam_role.dr_events) == 0
    error_message = "No forwarding rule or role without dr_region."
  }
  assert {
    condition     = module.primary.functions["notify"].environment[0].variables["DR_RESTORE_STATE_MACHINE_ARN"] == "" && length(one([for s in local.functions["notify"].statements : s.resources if s.sid == "ReadHistory"])) == 3
    error_message = "Without dr_region the variable is empty and notify reads the three primary machines' histories only."
  }
}

run "delete_snapshot_may_only_delete_snapshots_the_backup_tagged" {
  command = plan
  assert {
    condition = alltrue(flatten([for f in local.functions : [for s in f.statements :
      try(s.conditions, []) == [{ test = "StringLike", variable = "aws:ResourceTag/elasticache-backup:execution", values = [local.executions_arn] }]
    if contains(s.actions, "elasticache:DeleteSnapshot") || contains(s.actions, "elasticache:DeleteServerlessCacheSnapshot")]]))
    error_message = "Every DeleteSnapshot and DeleteServerlessCacheSnapshot grant requires the backup's elasticache-backup:execution tag on the snapshot, naming an execution of the backup state machine."
  }
  assert {
    condition = [for st in module.primary.policies["delete-snapshot"].statement : [
      st.resources, [for c in st.condition : [c.test, c.variable, tolist(c.values)]]
      ] if contains(st.actions, "elasticache:DeleteSnapshot")] == [[
      toset(["arn:aws:elasticache:ap-northeast-2:123456789012:snapshot:ecb-*", "arn:aws:elasticache:ap-northeast-2:123456789012:serverlesscachesnapshot:ecb-*"]), [["StringLike", "aws:ResourceTag/elasticache-backup:execution", tolist(["arn:aws:states:ap-northeast-2:123456789012:execution:elasticache-backup:*"])]]
    ]]
    error_message = "The delete-snapshot role's policy allows DeleteSnapshot and DeleteServerlessCacheSnapshot only on ecb-* snapshots (node-based and serverless) carrying the backup's tag."
  }
}

run "serverless_snapshot_grants_are_scoped_to_the_projects_snapshot_names" {
  command = plan
  assert {
    condition = alltrue(flatten([for f in local.functions : [for s in f.statements :
      alltrue([for r in s.resources : !strcontains(r, ":serverlesscachesnapshot:") || r == "arn:aws:elasticache:ap-northeast-2:123456789012:serverlesscachesnapshot:ecb-*"])
    ]]))
    error_message = "Every grant on serverless cache snapshots is scoped to the project's ecb-* names."
  }
  assert {
    condition = [for st in module.primary.policies["create-snapshot"].statement : st.resources if contains(st.actions, "elasticache:CreateServerlessCacheSnapshot")] == [toset([
      "arn:aws:elasticache:ap-northeast-2:123456789012:serverlesscachesnapshot:ecb-*",
      "arn:aws:elasticache:ap-northeast-2:123456789012:serverlesscache:*",
    ])]
    error_message = "CreateServerlessCacheSnapshot (with AddTagsToResource) on any serverless cache, creating ecb-* snapshots only."
  }
  assert {
    condition = [for st in module.primary.policies["export-snapshot"].statement : st.resources if contains(st.actions, "elasticache:ExportServerlessCacheSnapshot")] == [toset([
      "arn:aws:elasticache:ap-northeast-2:123456789012:serverlesscachesnapshot:ecb-*",
    ])]
    error_message = "ExportServerlessCacheSnapshot only of ecb-* serverless snapshots."
  }
  assert {
    condition     = anytrue([for st in module.primary.policies["fleet"].statement : contains(st.actions, "elasticache:DescribeServerlessCaches") && st.resources == toset(["arn:aws:elasticache:ap-northeast-2:123456789012:serverlesscache:*"])])
    error_message = "The fleet's discovery lists serverless caches."
  }
}

run "drills_without_verify_restore_vpc_are_refused" {
  command = plan
  variables {
    drills = {
      weekly = { replication_group_id = "orders", schedule_expression = "cron(0 4 ? * SUN *)" }
    }
  }
  expect_failures = [var.drills]
}

run "snapshot_events_match_a_target_and_its_nodes_not_its_namesakes" {
  command = plan
  # Each id against every rule as EventBridge matches: an exact string, a prefix, or a wildcard (* = any run).
  assert {
    condition = alltrue([for id in ["orders", "orders-001", "orders-006", "orders-0001-001", "orders-0099-006", "sessions-002", "ecb-orders-20260101-0001"] :
      anytrue(flatten([for rule in aws_cloudwatch_event_rule.snapshot_events : [for e in jsondecode(rule.event_pattern).detail.SourceIdentifier :
        can(e.prefix) ? startswith(id, e.prefix) : can(e.wildcard) ? can(regex("^${replace(replace(e.wildcard, ".", "\\."), "*", ".*")}$", id)) : e == id
    ]]))])
    error_message = "A target's events match it, its node ids (<t>-00N, <t>-00NN-00N) and the project's snapshots (ecb-…)."
  }
  assert {
    condition = !anytrue([for id in ["orders-eu-001", "orders-eu", "orders-2", "orders-01", "orders-01-001", "orders2-001", "sessions-eu-0001-001", "other-001", "order"] :
      anytrue(flatten([for rule in aws_cloudwatch_event_rule.snapshot_events : [for e in jsondecode(rule.event_pattern).detail.SourceIdentifier :
        can(e.prefix) ? startswith(id, e.prefix) : can(e.wildcard) ? can(regex("^${replace(replace(e.wildcard, ".", "\\."), "*", ".*")}$", id)) : e == id
    ]]))])
    error_message = "Another group's ids, such as orders-eu-001, orders-01 or orders2-001, do not match."
  }
}

run "many_long_targets_are_spread_over_rules_within_eventbridges_pattern_size" {
  command = plan
  variables {
    schedules = {
      fleet = {
        targets             = [for i in range(150) : { cache_cluster_id = format("a%049d", i) }]
        schedule_expression = "cron(0 2 * * ? *)"
      }
    }
  }
  assert {
    condition     = length(aws_cloudwatch_event_rule.snapshot_events) > 1 && alltrue([for r in aws_cloudwatch_event_rule.snapshot_events : length(r.event_pattern) <= 4096])
    error_message = "Each rule's pattern stays within PutRule's 4096 characters."
  }
  assert {
    condition     = sort(flatten([for r in aws_cloudwatch_event_rule.snapshot_events : [for e in jsondecode(r.event_pattern).detail.SourceIdentifier : e if can(tostring(e))]])) == sort([for i in range(150) : format("a%049d", i)])
    error_message = "Every target is in exactly one rule."
  }
  assert {
    condition     = length([for r in aws_cloudwatch_event_rule.snapshot_events : r if strcontains(r.event_pattern, "{\"prefix\":\"ecb-\"}")]) == 1 && length(distinct([for r in aws_cloudwatch_event_rule.snapshot_events : r.name])) == length(aws_cloudwatch_event_rule.snapshot_events)
    error_message = "Only one rule matches the project's snapshots (no duplicate alerts); rule names are distinct."
  }
  assert {
    condition     = toset(keys(aws_cloudwatch_event_target.notify)) == toset(keys(aws_lambda_permission.events)) && length(aws_cloudwatch_event_target.notify) == 1 + length(aws_cloudwatch_event_rule.snapshot_events) && contains(keys(aws_cloudwatch_event_target.notify), "snapshot_events")
    error_message = "Each rule invokes notify, which allows it; the first keeps its key."
  }
}

# Issue 22: right on a real account, every call, policy and event as AWS documents it.

run "no_arn_is_spelled_in_one_partition" {
  command = plan
  assert {
    condition = alltrue([for f in fileset(path.module, "*.tf") :
      length(regexall("arn:aws:", file("${path.module}/${f}"))) == (f == "locals.tf" ? 1 : 0)
    ]) && strcontains(file("${path.module}/locals.tf"), "asl_integration_prefix    = \"arn:aws:states:::\"")
    error_message = "ARNs are built from the partition (data.aws_partition): the only arn:aws: in the module is the ASL files' spelling it renders into each partition."
  }
}

run "a_govcloud_plan_builds_every_arn_in_the_aws_us_gov_partition" {
  command = plan

  variables {
    dr_region = "us-gov-east-1"
    schedules = {
      fleet = { targets = [{ replication_group_id = "orders" }], schedule_expression = "cron(0 2 * * ? *)" }
    }
  }

  override_data {
    target = data.aws_region.current
    values = { id = "us-gov-west-1", name = "us-gov-west-1" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-us-gov" }
  }
  override_resource {
    target          = module.primary.aws_lambda_function.this
    override_during = plan
    values          = { arn = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:mocked" }
  }
  override_resource {
    target          = aws_sfn_state_machine.this
    override_during = plan
    values          = { arn = "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:elasticache-backup" }
  }
  override_resource {
    target          = aws_sfn_state_machine.fleet
    override_during = plan
    values          = { arn = "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:elasticache-backup-fleet" }
  }
  override_resource {
    target          = aws_sfn_state_machine.restore
    override_during = plan
    values          = { arn = "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:elasticache-backup-restore" }
  }
  override_resource {
    target          = aws_sns_topic.events
    override_during = plan
    values          = { arn = "arn:aws-us-gov:sns:us-gov-west-1:123456789012:elasticache-backup-events" }
  }
  override_resource {
    target          = aws_secretsmanager_secret.slack_webhook
    override_during = plan
    values          = { arn = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:slack" }
  }
  override_resource {
    target          = aws_secretsmanager_secret.pagerduty_routing_key
    override_during = plan
    values          = { arn = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:pagerduty" }
  }
  override_resource {
    target          = aws_sqs_queue.notify_dlq
    override_during = plan
    values          = { arn = "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:elasticache-backup-notify-dlq" }
  }
  override_resource {
    target          = aws_sqs_queue.schedule_dlq
    override_during = plan
    values          = { arn = "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:elasticache-backup-schedule-dlq" }
  }

  assert {
    condition = alltrue(flatten([for k, f in merge(local.function_statements, { for k, f in local.dr_functions : "dr-${k}" => f.statements }) : [for s in f : [
      for r in s.resources : r == "*" || startswith(r, "arn:aws-us-gov:")
    ]]]))
    error_message = "Every function role's resources (both regions) are in the aws-us-gov partition."
  }
  assert {
    condition = alltrue(flatten([for d in [
      data.aws_iam_policy_document.exports, data.aws_iam_policy_document.seed, data.aws_iam_policy_document.dr, data.aws_iam_policy_document.dr_seed,
      data.aws_iam_policy_document.fleet_machine, data.aws_iam_policy_document.scheduler, data.aws_iam_policy_document.state_machine,
      data.aws_iam_policy_document.restore_machine, data.aws_iam_policy_document.events_topic, data.aws_iam_policy_document.replication,
      data.aws_iam_policy_document.dr_events,
    ] : [for st in d.statement : [for r in st.resources : r == "*" || startswith(r, "arn:aws-us-gov:")]]]))
    error_message = "Every bucket policy and state machine, scheduler, topic, replication and forwarding policy names aws-us-gov ARNs: ${jsonencode([for d in [
      data.aws_iam_policy_document.exports, data.aws_iam_policy_document.seed, data.aws_iam_policy_document.dr, data.aws_iam_policy_document.dr_seed,
      data.aws_iam_policy_document.fleet_machine, data.aws_iam_policy_document.scheduler, data.aws_iam_policy_document.state_machine,
      data.aws_iam_policy_document.restore_machine, data.aws_iam_policy_document.events_topic, data.aws_iam_policy_document.replication,
      data.aws_iam_policy_document.dr_events,
    ] : [for st in d.statement : [for r in st.resources : r if !(r == "*" || startswith(r, "arn:aws-us-gov:"))]]])}"
  }
  assert {
    condition     = local.elasticache_canonical_user == "40fa568277ad703bd160f66ae4f83fc9dfdfd06c2f1b5060ca22442ac3ef8be6" && output.seeding["us-gov-west-1"].elasticache_canonical_user == "40fa568277ad703bd160f66ae4f83fc9dfdfd06c2f1b5060ca22442ac3ef8be6" && output.seeding["us-gov-east-1"].mode == "object-acl"
    error_message = "GovCloud seeds by object ACL to ElastiCache's GovCloud canonical user, in both regions."
  }
  assert {
    condition = (
      jsondecode(aws_sfn_state_machine.fleet.definition).States["Backups"].ItemProcessor.States["BackupTarget"].Resource == "arn:aws-us-gov:states:::states:startExecution.sync:2"
      && !strcontains(aws_sfn_state_machine.fleet.definition, "arn:aws:")
    )
    error_message = "The fleet's service integrations are rendered in the aws-us-gov partition."
  }
  assert {
    condition     = alltrue([for k in ["STATE_MACHINE_ARN", "RESTORE_STATE_MACHINE_ARN", "FLEET_STATE_MACHINE_ARN", "DR_RESTORE_STATE_MACHINE_ARN"] : startswith(module.primary.functions["notify"].environment[0].variables[k], "arn:aws-us-gov:states:")]) && output.bucket_arn == "arn:aws-us-gov:s3:::elasticache-backup-123456789012-us-gov-west-1"
    error_message = "notify's state machine ARNs and the bucket ARN are GovCloud ARNs."
  }
}

run "a_china_plan_builds_every_arn_in_the_aws_cn_partition" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = { id = "cn-north-1", name = "cn-north-1" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-cn" }
  }
  override_resource {
    target          = module.primary.aws_lambda_function.this
    override_during = plan
    values          = { arn = "arn:aws-cn:lambda:cn-north-1:123456789012:function:mocked" }
  }
  override_resource {
    target          = aws_sfn_state_machine.this
    override_during = plan
    values          = { arn = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:elasticache-backup" }
  }
  override_resource {
    target          = aws_sfn_state_machine.fleet
    override_during = plan
    values          = { arn = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:elasticache-backup-fleet" }
  }
  override_resource {
    target          = aws_sns_topic.events
    override_during = plan
    values          = { arn = "arn:aws-cn:sns:cn-north-1:123456789012:elasticache-backup-events" }
  }
  override_resource {
    target          = aws_secretsmanager_secret.slack_webhook
    override_during = plan
    values          = { arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:slack" }
  }
  override_resource {
    target          = aws_secretsmanager_secret.pagerduty_routing_key
    override_during = plan
    values          = { arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:pagerduty" }
  }
  override_resource {
    target          = aws_sqs_queue.notify_dlq
    override_during = plan
    values          = { arn = "arn:aws-cn:sqs:cn-north-1:123456789012:elasticache-backup-notify-dlq" }
  }
  override_resource {
    target          = aws_sqs_queue.schedule_dlq
    override_during = plan
    values          = { arn = "arn:aws-cn:sqs:cn-north-1:123456789012:elasticache-backup-schedule-dlq" }
  }

  assert {
    condition = alltrue(flatten([for k, f in local.function_statements : [for s in f : [
      for r in s.resources : r == "*" || startswith(r, "arn:aws-cn:")
    ]]]))
    error_message = "Every function role's resources are in the aws-cn partition."
  }
  assert {
    condition = alltrue(flatten([for d in [
      data.aws_iam_policy_document.exports, data.aws_iam_policy_document.seed, data.aws_iam_policy_document.fleet_machine,
      data.aws_iam_policy_document.scheduler, data.aws_iam_policy_document.state_machine, data.aws_iam_policy_document.events_topic,
    ] : [for st in d.statement : [for r in st.resources : r == "*" || startswith(r, "arn:aws-cn:")]]]))
    error_message = "Every bucket policy and state machine, scheduler and topic policy names aws-cn ARNs."
  }
  assert {
    condition     = local.elasticache_canonical_user == "b14d6a125bdf69854ed8ef2e71d8a20b7c490f252229b806e514966e490b8d83" && output.seeding["cn-north-1"] == { mode = "object-acl", seed_bucket_name = "elasticache-backup-123456789012-cn-north-1-seed", elasticache_canonical_user = "b14d6a125bdf69854ed8ef2e71d8a20b7c490f252229b806e514966e490b8d83" }
    error_message = "China seeds by object ACL to ElastiCache's China canonical user."
  }
}

run "a_partition_without_a_known_canonical_user_refuses_object_acl_seeding" {
  command = plan
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws-iso" }
  }
  expect_failures = [aws_s3_bucket.seed]
}

run "a_default_region_seeds_through_object_acls_in_a_seed_bucket" {
  command = plan

  variables {
    tags = { owner = "platform" }
  }
  override_data {
    target = data.aws_region.current
    values = { id = "us-east-1", name = "us-east-1" }
  }

  assert {
    condition     = local.seeding_mode == "object-acl" && aws_s3_bucket.seed[0].bucket == "elasticache-backup-123456789012-us-east-1-seed" && aws_s3_bucket.seed[0].force_destroy == false && aws_s3_bucket.seed[0].tags == tomap({ owner = "platform" })
    error_message = "us-east-1 (a default region) gets the seed bucket <bucket>-seed, never force-destroyed, tagged."
  }
  assert {
    condition = (
      aws_s3_bucket_ownership_controls.seed[0].rule[0].object_ownership == "BucketOwnerPreferred" && aws_s3_bucket_acl.seed[0].acl == "private"
      && aws_s3_bucket_public_access_block.seed[0].block_public_acls && aws_s3_bucket_public_access_block.seed[0].block_public_policy
      && aws_s3_bucket_public_access_block.seed[0].ignore_public_acls && aws_s3_bucket_public_access_block.seed[0].restrict_public_buckets
    )
    error_message = "ACLs enabled (BucketOwnerPreferred) for the per-object grant, the bucket ACL private, public access blocked."
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.seed[0].rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "SSE-S3: seeding reads SSE-S3 objects only."
  }
  assert {
    condition = [for r in aws_s3_bucket_lifecycle_configuration.seed[0].rule : [
      r.status, one(r.expiration).days, one(r.abort_incomplete_multipart_upload).days_after_initiation
    ]] == [["Enabled", 1, 1]]
    error_message = "Every seed copy expires after a day, and unfinished uploads are aborted after a day."
  }
  assert {
    condition     = [for st in data.aws_iam_policy_document.seed.statement : [st.sid, st.effect, [for c in st.condition : [c.variable, tolist(c.values)]]]] == [["DenyInsecureTransport", "Deny", [["aws:SecureTransport", tolist(["false"])]]]] && length(aws_s3_bucket_policy.seed) == 1
    error_message = "The seed bucket is TLS-only."
  }
  assert {
    condition     = !anytrue([for st in data.aws_iam_policy_document.exports.statement : anytrue([for p in st.principals : p.type == "CanonicalUser"])])
    error_message = "The export bucket's policy grants no canonical user."
  }
  assert {
    condition = (
      module.primary.functions["resolve-backup"].environment[0].variables.SEEDING_MODE == "object-acl"
      && module.primary.functions["resolve-backup"].environment[0].variables.SEED_BUCKET == "elasticache-backup-123456789012-us-east-1-seed"
      && module.primary.functions["create-group"].environment[0].variables == tomap({ SEEDING_MODE = "object-acl" })
    )
    error_message = "resolve-backup knows the mode and the seed bucket; create-group the mode."
  }
  assert {
    condition = [for s in local.function_statements["resolve-backup"] : [s.actions, s.resources] if s.sid == "SeedCopies"] == [[
      ["s3:PutObject", "s3:PutObjectAcl", "s3:AbortMultipartUpload"], ["arn:aws:s3:::elasticache-backup-123456789012-us-east-1-seed/*"]
    ]]
    error_message = "resolve-backup may write seed copies with their grant (and abort their uploads), only in the seed bucket."
  }
  assert {
    condition     = [for s in local.function_statements["create-group"] : s.resources if contains(s.actions, "s3:GetObject")] == [["arn:aws:s3:::elasticache-backup-123456789012-us-east-1-seed/*"]]
    error_message = "create-group reads the seed copies its SnapshotArns name, not the export bucket."
  }
  assert {
    condition     = output.seeding == { "us-east-1" = { mode = "object-acl", seed_bucket_name = "elasticache-backup-123456789012-us-east-1-seed", elasticache_canonical_user = "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353" } }
    error_message = "The seeding output names the mode, the seed bucket and the grantee."
  }
}

run "an_opt_in_region_seeds_through_the_bucket_policy" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = { id = "ap-east-1", name = "ap-east-1" }
  }

  assert {
    condition     = local.seeding_mode == "bucket-policy" && length(aws_s3_bucket.seed) == 0 && length(aws_s3_bucket_acl.seed) == 0 && output.seeding["ap-east-1"].mode == "bucket-policy" && output.seeding["ap-east-1"].seed_bucket_name == null && output.seeding["ap-east-1"].elasticache_canonical_user == null
    error_message = "ap-east-1 (an opt-in region) has no seed bucket."
  }
  assert {
    condition = anytrue([for st in data.aws_iam_policy_document.exports.statement :
      st.principals == toset([{ type = "Service", identifiers = toset(["ap-east-1.elasticache-snapshot.amazonaws.com"]) }])
      && length(setsubtract(["s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl"], st.actions)) == 0
      && st.resources == toset(["arn:aws:s3:::elasticache-backup-123456789012-ap-east-1", "arn:aws:s3:::elasticache-backup-123456789012-ap-east-1/*"])
    ])
    error_message = "The regional principal may read the objects, list the bucket and read its ACL (the documented seeding grant for opt-in regions)."
  }
  assert {
    condition = (
      module.primary.functions["resolve-backup"].environment[0].variables.SEEDING_MODE == "bucket-policy"
      && !contains(keys(module.primary.functions["resolve-backup"].environment[0].variables), "SEED_BUCKET")
      && module.primary.functions["create-group"].environment[0].variables == tomap({ SEEDING_MODE = "bucket-policy" })
    )
    error_message = "Without a seed bucket there is no SEED_BUCKET."
  }
  assert {
    condition     = !anytrue([for s in local.function_statements["resolve-backup"] : contains(s.actions, "s3:PutObject") || contains(s.actions, "s3:PutObjectAcl")]) && [for s in local.function_statements["create-group"] : s.resources if contains(s.actions, "s3:GetObject")] == [["arn:aws:s3:::elasticache-backup-123456789012-ap-east-1/*"]]
    error_message = "resolve-backup writes nothing; create-group reads the exports themselves."
  }
}

run "seeding_mode_bucket_policy_overrides_a_default_region" {
  command = plan
  variables {
    seeding_mode = "bucket-policy"
  }
  override_data {
    target = data.aws_region.current
    values = { id = "us-east-1", name = "us-east-1" }
  }
  assert {
    condition     = local.seeding_mode == "bucket-policy" && length(aws_s3_bucket.seed) == 0 && module.primary.functions["resolve-backup"].environment[0].variables.SEEDING_MODE == "bucket-policy"
    error_message = "seeding_mode = bucket-policy: no seed bucket in us-east-1."
  }
}

run "seeding_mode_object_acl_overrides_an_opt_in_region" {
  command = plan
  variables {
    seeding_mode     = "object-acl"
    seed_bucket_name = "my-seeds"
  }
  override_data {
    target = data.aws_region.current
    values = { id = "ap-east-1", name = "ap-east-1" }
  }
  assert {
    condition     = local.seeding_mode == "object-acl" && aws_s3_bucket.seed[0].bucket == "my-seeds" && module.primary.functions["resolve-backup"].environment[0].variables.SEED_BUCKET == "my-seeds"
    error_message = "seeding_mode = object-acl: a seed bucket (named by seed_bucket_name) in ap-east-1."
  }
}

run "an_unknown_seeding_mode_is_refused" {
  command = plan
  variables {
    seeding_mode = "canonical-user"
  }
  expect_failures = [var.seeding_mode]
}

run "a_seed_bucket_name_past_63_characters_is_cut_and_hashed" {
  command = plan
  variables {
    name = "a-deployment-name-of-33-character"
  }
  override_data {
    target = data.aws_region.current
    values = { id = "ap-southeast-2", name = "ap-southeast-2" }
  }
  assert {
    condition     = length(aws_s3_bucket.seed[0].bucket) <= 63 && can(regex("^a-deployment-name-of-33-character-123456789012-ap-seed-[0-9a-f]{8}$", aws_s3_bucket.seed[0].bucket))
    error_message = "A seed bucket name that would pass 63 characters is the bucket name cut to 49, -seed- and a hash."
  }
}

run "an_existing_bucket_gets_the_policy_for_its_seeding_mode" {
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "my-existing-bucket"
  }
  override_data {
    target = data.aws_region.current
    values = { id = "ap-east-1", name = "ap-east-1" }
  }
  assert {
    condition = output.bucket_policy_json == data.aws_iam_policy_document.exports.json && anytrue([for st in data.aws_iam_policy_document.exports.statement :
      contains(flatten([for p in st.principals : p.identifiers]), "ap-east-1.elasticache-snapshot.amazonaws.com") && contains(st.actions, "s3:GetBucketAcl") && contains(st.resources, "arn:aws:s3:::my-existing-bucket/*")
    ]) && length(aws_s3_bucket.seed) == 0
    error_message = "With your own bucket in an opt-in region, bucket_policy_json carries the regional principal's reads."
  }
}

run "an_existing_bucket_in_a_default_region_still_gets_a_seed_bucket" {
  command = plan
  variables {
    create_bucket = false
    bucket_name   = "my-existing-bucket"
  }
  assert {
    condition     = aws_s3_bucket.seed[0].bucket == "my-existing-bucket-seed" && !anytrue([for st in data.aws_iam_policy_document.exports.statement : anytrue([for p in st.principals : p.type == "CanonicalUser"])])
    error_message = "With your own bucket in a default region, the module's seed bucket serves restores and your bucket's policy needs no canonical grant."
  }
}

run "a_dr_region_seeds_by_its_own_region_kind" {
  command = plan
  variables {
    dr_region = "ap-east-1"
  }
  assert {
    condition     = local.seeding_mode == "object-acl" && local.dr_seeding_mode == "bucket-policy" && length(aws_s3_bucket.dr_seed) == 0 && length(aws_s3_bucket.seed) == 1
    error_message = "ap-northeast-2 seeds by object ACL, the opt-in DR region ap-east-1 by bucket policy."
  }
  assert {
    condition = anytrue([for st in data.aws_iam_policy_document.dr.statement :
      st.principals == toset([{ type = "Service", identifiers = toset(["ap-east-1.elasticache-snapshot.amazonaws.com"]) }]) && st.actions == toset(["s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl"])
    ])
    error_message = "ElastiCache in the DR region may read the replicas through its regional principal."
  }
  assert {
    condition = (
      module.dr[0].functions["resolve-backup"].environment[0].variables.SEEDING_MODE == "bucket-policy" && !contains(keys(module.dr[0].functions["resolve-backup"].environment[0].variables), "SEED_BUCKET")
      && module.dr[0].functions["create-group"].environment[0].variables == tomap({ SEEDING_MODE = "bucket-policy" })
      && [for s in local.dr_functions["create-group"].statements : s.resources if contains(s.actions, "s3:GetObject")] == [["arn:aws:s3:::elasticache-backup-123456789012-ap-east-1/*"]]
      && !anytrue([for s in local.dr_functions["resolve-backup"].statements : contains(s.actions, "s3:PutObjectAcl")])
    )
    error_message = "The DR restore functions take the DR region's mode and read the DR replicas."
  }
  assert {
    condition     = output.seeding["ap-northeast-2"].mode == "object-acl" && output.seeding["ap-east-1"].mode == "bucket-policy"
    error_message = "The seeding output has both regions."
  }
}

run "a_default_dr_region_copies_seeds_into_its_own_seed_bucket" {
  command = plan
  variables {
    dr_region = "ap-northeast-1"
  }
  assert {
    condition = (
      module.dr[0].functions["resolve-backup"].environment[0].variables.SEED_BUCKET == "elasticache-backup-123456789012-ap-northeast-1-seed"
      && module.dr[0].functions["resolve-backup"].environment[0].variables.BACKUP_BUCKET == "elasticache-backup-123456789012-ap-northeast-1"
      && [for s in local.dr_functions["resolve-backup"].statements : s.resources if s.sid == "SeedCopies"] == [["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-1-seed/*"]]
      && [for s in local.dr_functions["create-group"].statements : s.resources if contains(s.actions, "s3:GetObject")] == [["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-1-seed/*"]]
    )
    error_message = "In the DR region resolve-backup copies into, and create-group reads from, the DR seed bucket."
  }
  assert {
    condition     = aws_s3_bucket_ownership_controls.dr_seed[0].rule[0].object_ownership == "BucketOwnerPreferred" && aws_s3_bucket_acl.dr_seed[0].acl == "private" && one([for r in aws_s3_bucket_lifecycle_configuration.dr_seed[0].rule : one(r.expiration).days]) == 1
    error_message = "The DR seed bucket is set up as the primary one."
  }
}

run "the_events_topic_policy_is_the_one_elasticache_documents" {
  command = plan
  assert {
    condition = [for st in data.aws_iam_policy_document.events_topic.statement : [
      coalesce(st.effect, "Allow") == "Allow", st.principals == toset([{ type = "AWS", identifiers = toset(["*"]) }]), st.actions == toset(["SNS:Publish"]),
      [for c in st.condition : [c.test, c.variable, tolist(c.values)]] == [["StringEquals", "AWS:SourceOwner", tolist(["123456789012"])]]
    ] if st.sid == "ElastiCacheNotifications"] == [[true, true, true, true]]
    error_message = "ElastiCache publishes as {\"AWS\": \"*\"} with StringEquals AWS:SourceOwner = the account (ElastiCache User Guide, SNS topic access policy requirement)."
  }
  assert {
    condition     = aws_sns_topic.events.kms_master_key_id == null
    error_message = "The topic ElastiCache publishes to is not encrypted."
  }
}

run "check_export_reads_the_sources_events" {
  command = plan
  assert {
    condition     = [for s in local.function_statements["check-export"] : s.resources if contains(s.actions, "elasticache:DescribeEvents")] == [["*"]] && length([for k, f in local.function_statements : k if anytrue([for s in f : contains(s.actions, "elasticache:DescribeEvents")])]) == 1
    error_message = "Only check-export may DescribeEvents, on * (the action has no resource type)."
  }
}

run "a_verified_backup_is_locked_object_by_object" {
  command = plan
  variables {
    object_lock_days = 30
    dr_region        = "ap-northeast-1"
  }
  assert {
    condition     = aws_s3_bucket_object_lock_configuration.exports[0].object_lock_enabled == "Enabled" && length(aws_s3_bucket_object_lock_configuration.exports[0].rule) == 0
    error_message = "Object Lock is on without a default retention (so ElastiCache's uploads need no integrity header)."
  }
  assert {
    condition     = module.primary.functions["verify-export"].environment[0].variables == tomap({ OBJECT_LOCK_MODE = "GOVERNANCE", OBJECT_LOCK_DAYS = "30" })
    error_message = "verify-export is told the mode and the days."
  }
  assert {
    condition     = [for s in local.function_statements["verify-export"] : s.resources if contains(s.actions, "s3:PutObjectRetention")] == [["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2/ecb-*"]]
    error_message = "verify-export may set the retention of the backup's objects."
  }
  assert {
    condition     = aws_s3_bucket_object_lock_configuration.dr[0].object_lock_enabled == "Enabled" && length(aws_s3_bucket_object_lock_configuration.dr[0].rule) == 0 && anytrue([for st in data.aws_iam_policy_document.replication.statement : st.actions == toset(["s3:GetObjectRetention", "s3:GetObjectLegalHold"])])
    error_message = "Locked objects replicate: the DR bucket has Object Lock (no default retention) and the replication role reads the locks."
  }
  assert {
    condition = !anytrue(flatten([for f in local.function_statements : [for s in f : [
      for a in s.actions : contains(["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectLegalHold", "s3:PutBucketObjectLockConfiguration"], a)
    ]]]))
    error_message = "No function can delete a version, bypass or change a lock: retention's deletions stay delete markers."
  }
}

run "compliance_mode_is_passed_on" {
  command = plan
  variables {
    object_lock_days = 7
    object_lock_mode = "COMPLIANCE"
  }
  assert {
    condition     = module.primary.functions["verify-export"].environment[0].variables == tomap({ OBJECT_LOCK_MODE = "COMPLIANCE", OBJECT_LOCK_DAYS = "7" })
    error_message = "object_lock_mode reaches verify-export."
  }
}

run "without_object_lock_nothing_is_locked" {
  command = plan
  assert {
    condition     = length(aws_s3_bucket_object_lock_configuration.exports) == 0 && length(module.primary.functions["verify-export"].environment) == 0 && !anytrue(flatten([for f in local.function_statements : [for s in f : contains(s.actions, "s3:PutObjectRetention")]]))
    error_message = "Without object_lock_days: no lock configuration, no OBJECT_LOCK_* variables, no PutObjectRetention."
  }
}

run "an_unknown_object_lock_mode_is_refused" {
  command = plan
  variables {
    object_lock_mode = "governance"
  }
  expect_failures = [var.object_lock_mode]
}

run "the_fleet_follows_its_children_where_the_step_functions_guide_says" {
  command = plan
  assert {
    condition = [for st in data.aws_iam_policy_document.fleet_machine.statement : [st.sid, st.resources] if contains(st.actions, "states:DescribeExecution")] == [
      ["FollowBackups", toset(["arn:aws:states:ap-northeast-2:123456789012:execution:elasticache-backup:*"])],
      ["FollowMapRunChildren", toset(["arn:aws:states:ap-northeast-2:123456789012:execution:elasticache-backup-fleet:*"])],
    ]
    error_message = "DescribeExecution/StopExecution on execution:<name>:* of the backup machine (.sync) and of the fleet machine (Distributed Map children)."
  }
}

# Issue 26: ElastiCache Serverless caches as a third kind of target.

run "a_serverless_cache_schedule_starts_a_backup_of_the_cache" {
  command = plan
  variables {
    schedules = {
      sessions = {
        serverless_cache_name    = "Sessions-Cache"
        schedule_expression      = "cron(0 3 * * ? *)"
        snapshot_timeout_seconds = 7200
      }
    }
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["sessions"].target[0].input) == { serverlessCacheName = "Sessions-Cache", snapshotTimeoutSeconds = 7200, keepSourceSnapshot = false }
    error_message = "A serverless cache's schedule input is {\"serverlessCacheName\": …} with the schedule's options, unset fields left out."
  }
  assert {
    condition     = !contains(keys(local.fleet_schedules), "sessions") && strcontains(aws_scheduler_schedule.backup["sessions"].description, "serverless cache Sessions-Cache")
    error_message = "One serverless cache is a single backup (the backup state machine), not a fleet."
  }
  assert {
    condition     = local.scheduled_targets == toset(["sessions-cache"]) && keys(aws_cloudwatch_composite_alarm.stale) == ["sessions-cache"]
    error_message = "A serverless cache is a scheduled target under its lower-cased name (staleness alarm, events)."
  }
}

run "the_snapshot_rule_matches_a_serverless_caches_failure_events_and_not_its_namesakes" {
  command = plan
  variables {
    schedules = {
      orders   = { replication_group_id = "orders", schedule_expression = "cron(0 3 * * ? *)" }
      sessions = { serverless_cache_name = "sessions", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  assert {
    condition = alltrue([for t in ["Snapshot Creation Failed", "Snapshot Export Failed", "Snapshot Copy Failed", "Snapshot Created"] :
      contains(jsondecode(one(aws_cloudwatch_event_rule.snapshot_events).event_pattern)["detail-type"], t)
    ]) && jsondecode(one(aws_cloudwatch_event_rule.snapshot_events).event_pattern).source == ["aws.elasticache"]
    error_message = "The rule takes the aws.elasticache snapshot detail-types ElastiCache sends for serverless caches (creation, export and copy failures; creation)."
  }
  assert {
    condition = jsondecode(one(aws_cloudwatch_event_rule.snapshot_events).event_pattern).detail.SourceIdentifier == [
      { prefix = "ecb-" }, "orders", { prefix = "orders-00" }, "sessions",
    ]
    error_message = "A serverless cache is matched by its name alone (it has no member nodes), its snapshots by the project's ecb- prefix."
  }
  # Each id against the rule as EventBridge matches it: an exact string or a prefix.
  assert {
    condition = alltrue([for id in ["sessions", "ecb-sessions-5f1d2a9c"] :
      anytrue([for e in jsondecode(one(aws_cloudwatch_event_rule.snapshot_events).event_pattern).detail.SourceIdentifier : can(e.prefix) ? startswith(id, e.prefix) : e == id])
    ])
    error_message = "A serverless cache's events match by its name or by this project's snapshot name."
  }
  assert {
    condition = !anytrue([for id in ["sessions-001", "sessions-2", "session", "sessions-eu"] :
      anytrue([for e in jsondecode(one(aws_cloudwatch_event_rule.snapshot_events).event_pattern).detail.SourceIdentifier : can(e.prefix) ? startswith(id, e.prefix) : e == id])
    ])
    error_message = "Nothing but the serverless cache itself matches its name: no node prefix."
  }
}

run "a_fleet_list_may_name_serverless_caches" {
  command = plan
  variables {
    schedules = {
      listed = {
        targets             = [{ serverless_cache_name = "sessions" }, { replication_group_id = "orders" }, { cache_cluster_id = "solo" }]
        schedule_expression = "cron(0 4 * * ? *)"
      }
    }
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["listed"].target[0].input) == { targets = [{ serverlessCacheName = "sessions" }, { replicationGroupId = "orders" }, { cacheClusterId = "solo" }], name = "listed", keepSourceSnapshot = false }
    error_message = "A fleet entry with serverless_cache_name becomes {\"serverlessCacheName\": …}."
  }
  assert {
    condition     = contains(keys(local.fleet_schedules), "listed") && local.scheduled_targets == toset(["sessions", "orders", "solo"]) && local.scheduled_serverless_caches == toset(["sessions"])
    error_message = "A listed serverless cache is a scheduled target of the fleet state machine."
  }
}

run "a_schedule_with_a_serverless_cache_and_a_group_is_refused" {
  command = plan
  variables {
    schedules = {
      both = { replication_group_id = "sessions", serverless_cache_name = "sessions", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_schedule_with_a_serverless_cache_and_a_list_is_refused" {
  command = plan
  variables {
    schedules = {
      both = { serverless_cache_name = "sessions", targets = [{ replication_group_id = "orders" }], schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_serverless_cache_name_with_a_double_hyphen_is_refused" {
  command = plan
  variables {
    schedules = {
      bad = { serverless_cache_name = "sessions--cache", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_serverless_cache_name_starting_with_a_digit_is_refused" {
  command = plan
  variables {
    schedules = {
      bad = { serverless_cache_name = "9sessions", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_serverless_cache_name_of_41_characters_is_refused" {
  command = plan
  variables {
    schedules = {
      bad = { serverless_cache_name = "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_serverless_cache_name_of_40_characters_is_accepted" {
  command = plan
  variables {
    schedules = {
      long = { serverless_cache_name = "a123456789-123456789-123456789-12345678x", schedule_expression = "cron(0 3 * * ? *)" }
    }
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.backup["long"].target[0].input).serverlessCacheName == "a123456789-123456789-123456789-12345678x"
    error_message = "A 40-character serverless cache name is scheduled."
  }
}

run "a_fleet_entry_with_a_serverless_cache_and_a_group_is_refused" {
  command = plan
  variables {
    schedules = {
      listed = { targets = [{ serverless_cache_name = "sessions", replication_group_id = "orders" }], schedule_expression = "cron(0 4 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_fleet_entry_with_a_bad_serverless_cache_name_is_refused" {
  command = plan
  variables {
    schedules = {
      listed = { targets = [{ serverless_cache_name = "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u" }], schedule_expression = "cron(0 4 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "a_fleet_entry_with_a_cache_cluster_id_past_50_characters_is_refused" {
  command = plan
  variables {
    schedules = {
      listed = { targets = [{ cache_cluster_id = "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z" }], schedule_expression = "cron(0 4 * * ? *)" }
    }
  }
  expect_failures = [var.schedules]
}

run "evidence_runs_monthly_and_writes_only_under_evidence" {
  command = plan

  assert {
    condition     = aws_scheduler_schedule.evidence[0].name == "elasticache-backup-evidence" && aws_scheduler_schedule.evidence[0].schedule_expression == "cron(0 6 1 * ? *)" && aws_scheduler_schedule.evidence[0].schedule_expression_timezone == "UTC" && aws_scheduler_schedule.evidence[0].target[0].arn == module.primary.functions["evidence"].arn && jsondecode(aws_scheduler_schedule.evidence[0].target[0].input) == {}
    error_message = "The evidence schedule invokes the evidence function at 06:00 UTC on the 1st with {}."
  }
  assert {
    condition = alltrue([for st in local.functions["evidence"].statements :
      !contains(st.actions, "s3:PutObject") || st.resources == ["arn:aws:s3:::elasticache-backup-123456789012-ap-northeast-2/evidence/*"]
    ])
    error_message = "The evidence function writes only under evidence/."
  }
  assert {
    condition     = [for s in jsondecode(local.functions["evidence"].env.EVIDENCE_POLICY).schedules : s.targets] == [["orders"], ["sessions"]]
    error_message = "EVIDENCE_POLICY names each schedule's targets."
  }
  assert {
    condition     = !contains(local.backup_functions, "evidence") && !contains(local.restore_functions, "evidence")
    error_message = "Evidence is not a state machine step."
  }
}
