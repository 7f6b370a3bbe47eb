"""RePose-TF: a small, accurate single-person pose estimator (RePose, arXiv 2002.03933) in Keras 3.

``import repose_tf`` stays light (no TensorFlow / Keras import) so numpy-only modules such as
``repose_tf.metrics`` and ``repose_tf.codec`` load fast; the model API is imported on first use.
"""

from repose_tf.keypoints import COCO17, KEYPOINT_SETS, LSP14, MPII16, KeypointSet, get_keypoint_set

__version__ = "0.1.0"

_LAZY = {
    "RePose": "repose_tf.model",
    "RePoseConfig": "repose_tf.config",
    "list_presets": "repose_tf.config",
    "get_preset": "repose_tf.config",
    "KinematicUpdate": "repose_tf.layers",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'repose_tf' has no attribute {name!r}")


__all__ = [
    "COCO17",
    "KEYPOINT_SETS",
    "LSP14",
    "MPII16",
    "KeypointSet",
    "KinematicUpdate",
    "RePose",
    "RePoseConfig",
    "get_keypoint_set",
    "get_preset",
    "list_presets",
    "__version__",
]
