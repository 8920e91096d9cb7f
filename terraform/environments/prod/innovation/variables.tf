# Nothing comes from CI as TF_VAR_*: the platform state holds everything this stack needs.
