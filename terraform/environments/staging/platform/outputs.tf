output "platform" {
  description = "Every output of terraform/stacks/platform (its outputs.tf describes them); the innovation stack reads it."
  value       = module.platform
}
