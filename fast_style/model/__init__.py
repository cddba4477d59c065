"""The style network and its file: the transform network, the style-model file, blends, ONNX/TorchScript export."""
