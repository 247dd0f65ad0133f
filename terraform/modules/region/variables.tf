variable "name" {
  description = "Name prefix: each function is <name>-<function>, its log group /aws/lambda/<name>-<function>, its role <name>-<function>-<region>."
  type        = string
}

variable "region" {
  description = "The region of the provider this module is given (the roles are global: their names carry the region of the functions they serve)."
  type        = string
}

variable "functions" {
  description = "The functions of this region, keyed by function name: description, timeout (seconds), memory_size (MB), environment, and the statements of its role's inline policy (exactly the calls the handler makes; the module adds writing its own logs and X-Ray traces)."
  type = map(object({
    description = string
    timeout     = number
    memory_size = number
    environment = map(string)
    statements = list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
      conditions = optional(list(object({
        test     = string
        variable = string
        values   = list(string)
      })), [])
    }))
  }))
}

variable "existing_role_arns" {
  description = "Roles the caller owns, keyed by function: the module creates a role for every other function."
  type        = map(string)
  default     = {}
}

variable "architecture" {
  description = "Instruction set of the zips: arm64 or x86_64."
  type        = string

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "artifacts" {
  description = "Where each function's zip is: s3_bucket (a bucket in this region) with s3_keys, or, when s3_bucket is null, the local zips; hashes is each zip's base64 SHA-256 (source_code_hash). All maps are keyed by function."
  type = object({
    s3_bucket = optional(string)
    s3_keys   = map(string)
    zips      = map(string)
    hashes    = map(string)
  })
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups, in days."
  type        = number
}

variable "logs_kms_key_arn" {
  description = "KMS key (in this region) that encrypts the functions' log groups. null = CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "role_path" {
  description = "Path of the roles the module creates."
  type        = string
  default     = "/"
}

variable "role_permissions_boundary" {
  description = "Permissions boundary of the roles the module creates. null = none."
  type        = string
  default     = null
}

variable "vpc_configs" {
  description = "Functions that run in a VPC, keyed by function: their subnets and security groups."
  type = map(object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  }))
  default = {}
}

variable "dead_letter_target_arns" {
  description = "Dead-letter queues (SQS ARNs) of asynchronously invoked functions, keyed by function."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags of every resource."
  type        = map(string)
  default     = {}
}
