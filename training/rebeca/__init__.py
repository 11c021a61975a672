"""REBECA training: dataset snapshot loading, diffusion prior, verifier, ONNX export.

Only ``data`` and ``schedule`` are importable without PyTorch; everything else needs torch.
"""

FORMAT_VERSION = 1
__all__ = ["FORMAT_VERSION"]
