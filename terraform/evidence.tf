# The evidence policy (the evidence function's EVIDENCE_POLICY): what the evidence report holds each target to.
# TEMPORARY (branch evidence): helper T's vault-tf branch defines local.evidence_policy (with rpo_hours, rto_minutes
# and the vault bucket) and the output evidence_policy; when it merges, this file goes and T's definition stays.
# Until then every schedule holds its targets to 25 h and every drill to 60 min (the contract's defaults).
locals {
  evidence_policy = jsonencode({
    schedules = [for k, s in var.schedules : {
      name               = k
      scheduleExpression = s.schedule_expression
      timezone           = s.timezone
      rpoHours           = 25
      targets = s.selector != null ? [] : s.targets != null ? [for t in s.targets : lower(coalesce(t.replication_group_id, t.cache_cluster_id, t.serverless_cache_name))] : [
        lower(coalesce(s.replication_group_id, s.cache_cluster_id, s.serverless_cache_name))
      ]
      selector = s.selector
    }]
    drills = [for k, d in var.drills : {
      name               = k
      scheduleExpression = d.schedule_expression
      timezone           = d.timezone
      target             = lower(coalesce(d.replication_group_id, d.serverless_cache_name))
      rtoMinutes         = 60
      vault              = false
    }]
    bucket      = local.bucket_name
    drBucket    = local.dr ? local.dr_bucket_name : null
    vaultBucket = null
  })
}
