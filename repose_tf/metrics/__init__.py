"""PCK metrics that reproduce the field's published numbers: LSP PCK@0.2 and MPII PCKh@0.5.

Plain numpy (no TensorFlow), so evaluation can run anywhere and be checked against the real
ground truth and published prediction sets in ``../shared/data/metric_fixtures`` (see its
README for the exact conventions). Small details move published figures by up to a point
(``<`` vs ``<=``, a +1 pixel shift, weighted vs unweighted mean, which joints a column
averages), so each convention is reproduced *exactly* and named, not approximated.

Public API
----------
- :func:`lsp_pck`: LSP PCK@0.2 (``eval_pck.m`` / MPII ``evalLSP``), or the LSPET variant with
  a visibility mask; :func:`lsp_pck_curve` for PCK-vs-threshold.
- :func:`mpii_pckh`: MPII PCKh@0.5 (HRNet ``evaluate()`` by default; ``tompson_bearpaw`` and
  ``official_style`` as options; a documented fallback without head boxes);
  :func:`mpii_pckh_curve`; :class:`MPIIGroundTruth` reads the ``gt_valid.mat`` layout.
- :func:`pck` / :func:`pck_curve`: the generic metric for any keypoint set or joint subset.
- :func:`orientation_groups` / :func:`score_by_orientation`: upright / sideways / upside-down
  poses (ground-truth torso direction) and a prediction run's PCK per group.
- :class:`PCKResult`, :class:`PCKCurve`, :func:`format_markdown_table`, :func:`plot_pck_curves`.

Modules: ``pck`` (the generic metric), ``lsp`` and ``mpii`` (the conventions), ``orientation``
(groups by body orientation), ``results`` (result types), ``report`` (tables and plots). Joint
names and table columns live on the :class:`~repose_tf.keypoints.KeypointSet`. All percentages
are in 0..100. Keypoint arrays are ``(N, K, 2)`` in pixels, ``[x, y]``.
"""

from repose_tf.metrics.lsp import (
    LSP14_GROUPS,
    LSP14_NAMES,
    LSP_LIMB_JOINTS,
    LSP_TORSO_JOINTS,
    lsp_pck,
    lsp_pck_curve,
    lsp_torso_lengths,
)
from repose_tf.metrics.mpii import (
    HRNET_MEAN01_THRESHOLD,
    MPII16_GROUPS,
    MPII16_GROUPS_OFFICIAL,
    MPII16_NAMES,
    MPII_HEAD_TOP,
    MPII_MEAN_JOINTS,
    MPII_UPPER_NECK,
    SC_BIAS,
    MPIIGroundTruth,
    mpii_pckh,
    mpii_pckh_curve,
)
from repose_tf.metrics.orientation import (
    ORIENTATION_GROUPS,
    ORIENTATION_RULE,
    orientation_groups,
    score_by_orientation,
    torso_angles,
)
from repose_tf.metrics.pck import MeanMode, pck, pck_curve
from repose_tf.metrics.report import PAPER_COLUMNS, format_markdown_table, plot_pck_curves
from repose_tf.metrics.results import PCKCurve, PCKResult

__all__ = [
    "HRNET_MEAN01_THRESHOLD",
    "LSP14_GROUPS",
    "LSP14_NAMES",
    "LSP_LIMB_JOINTS",
    "LSP_TORSO_JOINTS",
    "MPII16_GROUPS",
    "MPII16_GROUPS_OFFICIAL",
    "MPII16_NAMES",
    "MPII_HEAD_TOP",
    "MPII_MEAN_JOINTS",
    "MPII_UPPER_NECK",
    "ORIENTATION_GROUPS",
    "ORIENTATION_RULE",
    "PAPER_COLUMNS",
    "SC_BIAS",
    "MPIIGroundTruth",
    "MeanMode",
    "PCKCurve",
    "PCKResult",
    "format_markdown_table",
    "lsp_pck",
    "lsp_pck_curve",
    "lsp_torso_lengths",
    "mpii_pckh",
    "mpii_pckh_curve",
    "orientation_groups",
    "pck",
    "pck_curve",
    "plot_pck_curves",
    "score_by_orientation",
    "torso_angles",
]
