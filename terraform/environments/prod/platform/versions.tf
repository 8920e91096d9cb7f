terraform {
  required_version = ">= 1.10.0"

  # Exact pins, the same in every root (a test checks): `.terraform.lock.hcl` records their hashes.
  # The lock file also pins what the EKS registry module brings in (tls).
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 6.33.0"
    }
    databricks = {
      source  = "databricks/databricks"
      version = "= 1.85.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "= 3.1.0"
    }
    time = {
      source  = "hashicorp/time"
      version = "= 0.13.1"
    }
  }

  # Native S3 locking (a lock object next to the state); no DynamoDB table.
  backend "s3" {
    bucket       = "anthill-terraform-state-prod"
    key          = "platform/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
