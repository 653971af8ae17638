"""Core records every layer shares: errors with locations, the layer graph, width rules."""
