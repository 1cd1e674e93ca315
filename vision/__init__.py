"""Image features from an ONNX ResNet-50 run by onnxruntime."""
