output "innovation" {
  description = "Every output of terraform/stacks/innovation (its outputs.tf describes them)."
  value       = module.innovation
}
