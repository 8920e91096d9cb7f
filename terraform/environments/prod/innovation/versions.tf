terraform {
  required_version = ">= 1.10.0"

  # Exact pins, the same in every root (a test checks): `.terraform.lock.hcl` records their hashes.
  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = "= 1.85.0"
    }
  }

  # Native S3 locking (a lock object next to the state); no DynamoDB table.
  backend "s3" {
    bucket       = "anthill-terraform-state-prod"
    key          = "innovation/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
