# The default AWS provider of the module tests (mock_provider "aws" { source = "./tests/mocks/aws" }): no credentials, no network.
mock_data "aws_region" {
  defaults = {
    id   = "ap-northeast-2"
    name = "ap-northeast-2"
  }
}
mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}
# The published code hash beside each zip in artifacts_s3_bucket.
mock_data "aws_s3_object" {
  defaults = {
    body = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n"
  }
}
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{}"
  }
}
# Known ARNs at plan time, so policies and the definition can be inspected.
mock_resource "aws_secretsmanager_secret" {
  override_during = plan
  defaults = {
    arn = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:mocked"
  }
}
mock_resource "aws_sqs_queue" {
  override_during = plan
  defaults = {
    arn = "arn:aws:sqs:ap-northeast-2:123456789012:mocked"
  }
}
mock_resource "aws_lambda_function" {
  override_during = plan
  defaults = {
    arn = "arn:aws:lambda:ap-northeast-2:123456789012:function:mocked"
  }
}
