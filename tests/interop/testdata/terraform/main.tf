# A stream managed with Terraform's AWS provider against a Riffle endpoint,
# exactly as against AWS but for the endpoint override. Used by
# terraform_test.go.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "endpoint" { type = string }
variable "shards" { type = number }
variable "retention" { type = number }

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    kinesis = var.endpoint
  }
}

resource "aws_kinesis_stream" "orders" {
  name                = "tf-orders"
  shard_count         = var.shards
  retention_period    = var.retention
  shard_level_metrics = ["IncomingBytes", "OutgoingRecords"]
  encryption_type     = "KMS"
  kms_key_id          = "alias/aws/kinesis"
  stream_mode_details {
    stream_mode = "PROVISIONED"
  }
  tags = {
    team = "riffle"
  }
}

output "arn" { value = aws_kinesis_stream.orders.arn }
