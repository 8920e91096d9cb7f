variable "name" {
  description = "Name prefix of every resource (e.g. `anthill-dev`)."
  type        = string
}

variable "cidr" {
  description = "IPv4 CIDR block of the VPC; split into one public and one private subnet per availability zone."
  type        = string
}

variable "azs" {
  description = "Availability zones to spread the subnets over (three for the platform)."
  type        = list(string)

  validation {
    condition     = length(var.azs) >= 2
    error_message = "At least two availability zones are needed for EKS."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, outside prod) instead of one per zone (prod)."
  type        = bool
  default     = true
}

variable "databricks_subnets" {
  description = "Also create one private subnet per zone for the Databricks customer-managed VPC (clusters need their own)."
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints from the private subnets, so pods and nodes talk to them without the NAT."
  type        = list(string)
  default     = ["sts", "ecr.api", "ecr.dkr", "logs", "ec2", "elasticloadbalancing"]
}

variable "cluster_name" {
  description = "EKS cluster name the subnets are tagged for (load balancer discovery); null when none."
  type        = string
  default     = null
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs are kept in CloudWatch."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow log group; null uses CloudWatch's own encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
