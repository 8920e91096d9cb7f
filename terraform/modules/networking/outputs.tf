output "vpc_id" {
  description = "ID of the VPC."
  value       = try(aws_vpc.this.id, null)
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = try(aws_vpc.this.cidr_block, null)
}

output "azs" {
  description = "Availability zones the subnets are in, in subnet order."
  value       = var.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (NAT gateways, internet-facing load balancers)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (EKS nodes, Databricks clusters, interface endpoints)."
  value       = aws_subnet.private[*].id
}

output "databricks_subnet_ids" {
  description = "IDs of the Databricks subnets; empty unless `databricks_subnets` is set."
  value       = aws_subnet.databricks[*].id
}

output "private_route_table_ids" {
  description = "IDs of the private route tables."
  value       = aws_route_table.private[*].id
}

output "nat_public_ips" {
  description = "Public IPs of the NAT gateways (what third parties such as the market-data API see)."
  value       = aws_eip.nat[*].public_ip
}

output "vpc_endpoint_security_group_id" {
  description = "Security group of the interface endpoints."
  value       = try(aws_security_group.endpoints.id, null)
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = try(aws_vpc_endpoint.s3.id, null)
}

output "interface_endpoint_ids" {
  description = "IDs of the interface endpoints, by service."
  value       = { for service, endpoint in aws_vpc_endpoint.interface : service => endpoint.id }
}

output "flow_log_group_name" {
  description = "CloudWatch log group holding the VPC flow logs."
  value       = try(aws_cloudwatch_log_group.flow_logs.name, null)
}
