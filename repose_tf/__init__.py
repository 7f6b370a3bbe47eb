"""RePose-TF: a small, accurate single-person pose estimator (RePose, arXiv 2002.03933) in Keras 3."""

from repose_tf.keypoints import COCO17, KEYPOINT_SETS, LSP14, MPII16, KeypointSet, get_keypoint_set

__version__ = "0.1.0"

__all__ = ["COCO17", "KEYPOINT_SETS", "LSP14", "MPII16", "KeypointSet", "get_keypoint_set", "__version__"]
