"""Developer tooling: pinned Go binaries and a real local Kubernetes control plane for demos and tests."""
