# The DR region's provider (aws.dr) of the module tests, mocked like the default one.
mock_data "aws_region" {
  defaults = {
    id   = "ap-northeast-1"
    name = "ap-northeast-1"
  }
}
mock_resource "aws_lambda_function" {
  override_during = plan
  defaults = {
    arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:mocked"
  }
}
# The DR region's functions build their policies and roles through this provider too (modules/region).
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{}"
  }
}
