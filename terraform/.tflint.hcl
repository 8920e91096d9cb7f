# tflint for every directory under terraform/ (`tflint --recursive`), with the Terraform ruleset bundled in
# the tflint binary (no plugin download). All its rules are on: naming, typed and documented variables and
# outputs, standard module structure, required versions and providers, unused declarations.
config {
  # Registry modules (terraform-aws-modules/eks) cannot be fetched here; local modules are linted in their
  # own directories by the recursive run, so no module is entered from its caller.
  call_module_type = "none"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
