"""Spec files: bounded reads, located YAML, expressions, expansion into a layer graph."""
