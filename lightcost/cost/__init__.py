"""The cost engine: per-layer records, memory access, activation memory, latency, figures."""
