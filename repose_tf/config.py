"""The RePose config: every ablation knob the paper measures, and the named presets.

See ``docs/architecture.md`` ("The graph", "Ablation knobs") for what each knob changes and
"Presets" for the table of named configurations and which of them ship trained weights.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from repose_tf.codec import default_sigma
from repose_tf.keypoints import get_keypoint_set

UPDATE_STRATEGIES = ("trainable", "add", "replace")
ORDERINGS = ("kinematic", "top_down", "sequential")


@dataclass(frozen=True)
class RePoseConfig:
    """Architecture hyper-parameters. Defaults are the paper's model (4.0M params, 13.5 GFLOPs).

    Args:
        keypoint_set: which joints the model predicts (``lsp14``, ``mpii16``, ``coco17``).
        input_size: square input side in pixels.
        coarsest_resolution: side of the grid where the kinematic updates happen (paper table 3:
            8 / 16 / 32).
        width: encoder / decoder channels (f, d and the projections).
        keypoint_channels: channels of each decoupled keypoint feature set f_k.
        encoder_blocks: blocks in f = (3,1,width)^r.
        decoder_projection: ``first_block``: f's first block is the 1x1 projection; ``separate``:
            a 1x1 projection, then f.
        head_blocks: (3,1,keypoint_channels)^r blocks before each heatmap conv (paper footnote 2).
        update_blocks: blocks in g_k (paper table 4: 1..5).
        update_strategy: ``trainable`` (f + lambda*g), ``add`` (f + g) or ``replace`` (g).
        ordering: ``kinematic``, ``top_down`` (head first) or ``sequential`` (plain convs).
        update_passes: forward order, then reversed order, each with its own weights.
        lambda_init: initial lambda of the ``trainable`` update.
        num_stages: stacked networks (paper table 6: 1 / 2 / 4).
        joint_post_head: one head over all K feature sets instead of K heads.
        sigma: target Gaussian sigma in pixels; None: ``codec.default_sigma(input_size)``
            (5 at 128, scaled with the input size).
        heatmap_gain: heatmap convs predict gain*H and a fixed x1/gain follows, so outputs stay
            peak-1 heatmaps (not in the paper; docs/architecture.md "Training dynamics").
        bn_momentum: BatchNorm moving-average momentum (Keras' 0.99 lags in short runs).
        extra: free-form metadata, never used by the graph and ignored by ``==``.
    """

    keypoint_set: str = "lsp14"
    input_size: int = 128
    coarsest_resolution: int = 16  # where kinematic updates happen (paper table 3: 8 / 16 / 32)
    width: int = 64  # encoder / decoder channels (f, d, projections)
    keypoint_channels: int = 32  # channels of each decoupled keypoint feature set f_k
    encoder_blocks: int = 4  # blocks in f = (3,1,64)^r
    decoder_projection: str = "first_block"  # f's first block is the 1x1 projection; "separate": 1x1, then f
    head_blocks: int = 4  # (3,1,32)^r before the (3,1,1)u heatmap conv (paper footnote 2)
    update_blocks: int = 4  # blocks in g_k (paper table 4: 1..5)
    update_strategy: str = "trainable"  # "trainable": f + lambda*g, "add": f + g, "replace": g
    ordering: str = "kinematic"  # "kinematic", "top_down" (head first), "sequential" (plain convs)
    update_passes: int = 2  # forward order, then reversed order, with their own weights
    lambda_init: float = 0.1
    num_stages: int = 1  # stacked networks (paper table 6: 1 / 2 / 4)
    joint_post_head: bool = False  # one head over all K feature sets instead of K heads
    sigma: float | None = None  # target Gaussian sigma; None: 5 at 128, scaled with input size
    # Training dynamics (not in the paper; they change no parameter or FLOP count, docs/architecture.md):
    heatmap_gain: float = 30.0  # heatmap convs predict gain*H, a fixed x1/gain keeps outputs at peak 1
    bn_momentum: float = 0.9  # BatchNorm moving-average momentum (Keras' 0.99 lags in short runs)
    extra: dict = field(default_factory=dict, compare=False)  # free-form metadata (never used by the graph)

    def __post_init__(self) -> None:
        kps = get_keypoint_set(self.keypoint_set)  # raises a clear error for an unknown set
        object.__setattr__(self, "keypoint_set", kps.name)
        if self.update_strategy not in UPDATE_STRATEGIES:
            raise ValueError(
                f"update_strategy must be one of {UPDATE_STRATEGIES}, got {self.update_strategy!r}"
            )
        if self.decoder_projection not in ("separate", "first_block"):
            raise ValueError(
                f"decoder_projection must be 'separate' or 'first_block', got {self.decoder_projection!r}"
            )
        if self.ordering not in ORDERINGS:
            raise ValueError(f"ordering must be one of {ORDERINGS}, got {self.ordering!r}")
        n = self.input_size
        if n % self.coarsest_resolution or (n // self.coarsest_resolution) & (
            n // self.coarsest_resolution - 1
        ):
            raise ValueError(
                "input_size / coarsest_resolution must be a power of two, "
                f"got {n} / {self.coarsest_resolution}"
            )
        if n == self.coarsest_resolution:
            raise ValueError("coarsest_resolution must be smaller than input_size")
        if self.heatmap_gain <= 0:
            raise ValueError(f"heatmap_gain must be > 0, got {self.heatmap_gain}")
        if not 0.0 <= self.bn_momentum < 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1), got {self.bn_momentum}")
        for name in ("encoder_blocks", "head_blocks", "update_blocks", "update_passes", "num_stages"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @property
    def num_keypoints(self) -> int:
        return get_keypoint_set(self.keypoint_set).num_keypoints

    @property
    def num_levels(self) -> int:
        """Number of x2 downsamplings between the input and the coarsest resolution."""
        return (self.input_size // self.coarsest_resolution).bit_length() - 1

    @property
    def target_sigma(self) -> float:
        return self.sigma if self.sigma is not None else default_sigma(self.input_size)

    def replace(self, **changes) -> RePoseConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RePoseConfig:
        return from_known_keys(cls, d)


#: RePoseConfig fields that do not change the weights' shapes (a warm start may change them).
DYNAMIC_FIELDS = ("sigma", "bn_momentum", "extra")


def architecture_diff(ours: RePoseConfig, theirs: RePoseConfig) -> dict:
    """``{field: (theirs, ours)}`` for every field, besides :data:`DYNAMIC_FIELDS`, where the two
    architectures differ: empty when weights of one fit the other."""
    a = {k: v for k, v in ours.to_dict().items() if k not in DYNAMIC_FIELDS}
    b = {k: v for k, v in theirs.to_dict().items() if k not in DYNAMIC_FIELDS}
    return {k: (b.get(k), v) for k, v in a.items() if b.get(k) != v}


def from_known_keys(cls, d: dict, error: type[Exception] = ValueError):
    """``cls(**d)`` for a dataclass, refusing keys it does not have (a typo in a saved config)."""
    unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise error(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    return cls(**d)


@dataclass(frozen=True)
class Preset:
    """A named configuration and what is known about it.

    Args:
        name: the preset's name (``--preset``, ``RePose.from_preset``).
        config: its architecture.
        description: one line for tables and ``--help``.
        paper_params: the paper's parameter count in millions (None: not in the paper).
        paper_gflops: the paper's GFLOPs (None: not in the paper).
        weights: shipped trained weights as committed in the repository (``models/X.keras``;
            None: none ship), looked up by file name in :func:`models_dir`.
    """

    name: str
    config: RePoseConfig
    description: str
    paper_params: float | None = None
    paper_gflops: float | None = None
    weights: str | None = None

    @property
    def weights_path(self) -> Path | None:
        """The shipped weights file, or None when the preset has none (or it is not installed)."""
        if self.weights is None:
            return None
        path = shipped_model_path(Path(self.weights).name)
        return path if path.is_file() else None


#: Environment variable naming the folder that holds the shipped model files.
MODELS_DIR_ENV = "REPOSE_MODELS_DIR"
#: The checkout's ``models/`` (absent when the package is installed from a wheel).
CHECKOUT_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
#: The model file the CLIs use when given none.
DEFAULT_MODEL_FILE = "repose_lsp14.keras"


def models_dir() -> Path:
    """Where shipped model files are found: ``$REPOSE_MODELS_DIR`` when set, else the checkout's
    ``models/`` (a wheel carries no weights: point the variable at a folder holding them)."""
    env = os.environ.get(MODELS_DIR_ENV)
    return Path(env).expanduser() if env else CHECKOUT_MODELS_DIR


def shipped_model_path(name: str = DEFAULT_MODEL_FILE) -> Path:
    """``name`` in :func:`models_dir` (whether or not it is there)."""
    return models_dir() / name


def missing_model_hint(name: str = DEFAULT_MODEL_FILE) -> str:
    """One line saying what to download or pass when a shipped model file is absent."""
    return (
        f"{name} is not in {models_dir()}: download models/{name} from the RePose-TF repository into a "
        f"folder and set {MODELS_DIR_ENV} to it (default: a checkout's models/)"
    )


# The paper's default and the rows of its ablation tables (docs/architecture.md "Measured vs paper").
_DEFAULT = RePoseConfig()
_PAPER = _DEFAULT.replace(keypoint_set="mpii16")  # the paper's single LSP+MPII model predicts 16 joints
_TINY = RePoseConfig(width=16, keypoint_channels=8, encoder_blocks=1, head_blocks=1, update_blocks=1)
_SMALL = RePoseConfig(width=32, keypoint_channels=16, encoder_blocks=2, head_blocks=2, update_blocks=2)
_TABLE = [
    Preset(
        "repose_lsp14",
        _DEFAULT,
        "paper default architecture on LSP-14 outputs",
        weights="models/repose_lsp14.keras",
    ),
    Preset(
        "repose_mpii16", _PAPER, "paper default: the jointly trained LSP+MPII model (16 outputs)", 4.0, 13.5
    ),
    Preset("repose_coco17", _DEFAULT.replace(keypoint_set="coco17"), "default architecture on COCO-17"),
    Preset(
        "repose_mpii16_coarse8", _PAPER.replace(coarsest_resolution=8), "updates at 8x8 (table 3)", 4.3, 12.4
    ),
    Preset(
        "repose_mpii16_coarse32",
        _PAPER.replace(coarsest_resolution=32),
        "updates at 32x32 (table 3)",
        3.8,
        17.8,
    ),
    Preset("repose_mpii16_g1", _PAPER.replace(update_blocks=1), "1 block in g_k (table 4)", 3.3, 13.1),
    Preset("repose_mpii16_g2", _PAPER.replace(update_blocks=2), "2 blocks in g_k (table 4)", 3.5, 13.2),
    Preset("repose_mpii16_g3", _PAPER.replace(update_blocks=3), "3 blocks in g_k (table 4)", 3.8, 13.3),
    Preset("repose_mpii16_g5", _PAPER.replace(update_blocks=5), "5 blocks in g_k (table 4)", 4.3, 13.6),
    Preset("repose_mpii16_2stage", _PAPER.replace(num_stages=2), "2 stacked stages (table 6)", 8.4, 29.4),
    Preset("repose_mpii16_4stage", _PAPER.replace(num_stages=4), "4 stacked stages (table 6)", 17.3, 61.4),
    Preset(
        "repose_mpii16_256",
        _PAPER.replace(input_size=256),
        "256x256 input, updates at 16x16 (table 7)",
        4.3,
        49.5,
    ),
    Preset("repose_mpii16_joint_head", _PAPER.replace(joint_post_head=True), "joint post-update head", 3.5),
    Preset("repose_mpii16_add", _PAPER.replace(update_strategy="add"), "update f + g (table 5)", 4.0, 13.5),
    Preset(
        "repose_mpii16_replace",
        _PAPER.replace(update_strategy="replace"),
        "update f <- g (table 5)",
        4.0,
        13.5,
    ),
    Preset("repose_mpii16_top_down", _PAPER.replace(ordering="top_down"), "top-down update order", 4.0, 13.5),
    Preset(
        "repose_mpii16_sequential",
        _PAPER.replace(ordering="sequential"),
        "sequential conv baseline of about the same size",
        4.0,
        13.5,
    ),
    # Small configs for tests, smoke runs and the no-argument training demo.
    Preset("repose_tiny", _TINY, "tiny model for tests and quick demos"),
    Preset("repose_small", _SMALL, "small model for CPU demos"),
]
#: Every named preset, by name: the one table ``--preset``, ``from_preset`` and the summary read.
PRESETS: dict[str, Preset] = {p.name: p for p in _TABLE}


def list_presets() -> list[str]:
    """Names accepted by ``RePose.from_preset`` and ``--preset``."""
    return list(PRESETS)


def presets_with_weights() -> list[str]:
    """Presets whose trained weights ship in ``models/`` (``RePose.from_preset`` loads them)."""
    return [name for name, p in PRESETS.items() if p.weights is not None]


def preset_info(name: str) -> Preset:
    """The :class:`Preset` called ``name``; a ValueError naming the known presets otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}") from None


def get_preset(name: str, **overrides) -> RePoseConfig:
    """The architecture of preset ``name``, with ``overrides`` applied."""
    cfg = preset_info(name).config
    return cfg.replace(**overrides) if overrides else cfg
