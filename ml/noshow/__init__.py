"""noshow."""
