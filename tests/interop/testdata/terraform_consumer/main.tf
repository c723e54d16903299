# An enhanced fan-out consumer managed with Terraform's AWS provider against a
# Riffle endpoint, exactly as against AWS but for the endpoint override. Used
# by terraform_consumer_test.go.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "endpoint" { type = string }

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

resource "aws_kinesis_stream" "events" {
  name        = "tf-events"
  shard_count = 1
}

resource "aws_kinesis_stream_consumer" "app" {
  name       = "tf-app"
  stream_arn = aws_kinesis_stream.events.arn
}

output "consumer_arn" { value = aws_kinesis_stream_consumer.app.arn }
output "consumer_created" { value = aws_kinesis_stream_consumer.app.creation_timestamp }
