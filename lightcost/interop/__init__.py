"""Model files of other tools: ONNX import (to spec data) and export (from a layer graph)."""
