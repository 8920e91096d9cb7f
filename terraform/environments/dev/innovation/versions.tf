terraform {
  required_version = ">= 1.10.0"

  # Exact pins: `.terraform.lock.hcl` records their hashes; CI writes and checks it (docs/terraform.md).
  required_providers {
    databricks = {
      source  = "databricks/databricks"
      version = "= 1.85.0"
    }
  }

  # Native S3 locking (a lock object next to the state); no DynamoDB table.
  backend "s3" {
    bucket       = "anthill-terraform-state-dev"
    key          = "innovation/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
