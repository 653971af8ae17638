"""ONNX interop; needs the optional ``onnx`` package, imported lazily by callers."""
