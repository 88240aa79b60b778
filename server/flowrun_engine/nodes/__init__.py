"""Node types: one module per type, looked up through REGISTRY."""
