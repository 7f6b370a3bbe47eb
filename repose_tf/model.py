"""RePose as a functional ``keras.Model`` built from a :class:`RePoseConfig` (Keras-Hub style).

Graph (paper Figure 2; ``docs/architecture.md`` "The graph"), for each stage:
  encoder  f at every resolution (kept as skips), d = (5,2,64) between them, f at the coarsest
  decouple one (1,1,32) block per keypoint -> K feature sets f_k
  pre-update heads  per keypoint (3,1,32)^4 -> (3,1,1)u, concatenated
  kinematic updates  sequential KinematicUpdate per keypoint in the update order, then the reversed
                     order with its own weights
  post-update heads  same shape, own weights; their last features form the "white circle" tensor
  decoder  per finer resolution: x2 bilinear, concat skip, (1,1,64) projection, f, p=(3,1,K)u
Every heatmap stack is resized to the input size. The training form outputs all stacks
(supervised with the partial MSE); the inference form outputs only the final one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import keras
from keras import layers

from repose_tf.config import (
    RePoseConfig,
    get_preset,
    list_presets,
    missing_model_hint,
    preset_info,
    presets_with_weights,
)
from repose_tf.keypoints import get_keypoint_set
from repose_tf.layers import KinematicUpdate, ResizeTo, conv_block, conv_stack

FINAL_OUTPUT = "heatmaps"


def _update_order(cfg: RePoseConfig) -> tuple[int, ...]:
    kps = get_keypoint_set(cfg.keypoint_set)
    return kps.top_down_order if cfg.ordering == "top_down" else kps.update_order


def _kinematic_param_count(cfg: RePoseConfig) -> int:
    """Parameters of the kinematic updates (all passes), to size the sequential baseline alike."""
    kps, c = get_keypoint_set(cfg.keypoint_set), cfg.keypoint_channels
    total = 0
    for k in range(kps.num_keypoints):
        cin = c * (1 + len(kps.neighbours(k)))
        total += cin * c + c + 4 * c  # h_k conv + BN
        total += cfg.update_blocks * (9 * c * c + c + 4 * c)  # g_k
    return total * cfg.update_passes


def sequential_blocks(cfg: RePoseConfig, trunk: int = 128) -> int:
    """Number of (3,1,trunk) blocks giving the sequential baseline about the kinematic updates' size."""
    k, c = cfg.num_keypoints, cfg.keypoint_channels
    io = (k * c * trunk + trunk + 4 * trunk) + k * (trunk * c + c + 4 * c)
    per_block = 9 * trunk * trunk + trunk + 4 * trunk
    return max(1, round((_kinematic_param_count(cfg) - io) / per_block))


def _ungain(hm, cfg: RePoseConfig, name: str):
    """x 1/heatmap_gain after a heatmap conv: the conv learns gain*H, the model outputs peak-1 heatmaps.

    Under Adam this equals training on gain-amplitude targets, which leaves the all-zeros plateau
    far sooner (docs/architecture.md, "Training dynamics"); the TFLite converter folds it away.
    """
    if cfg.heatmap_gain == 1.0:
        return hm
    return layers.Rescaling(1.0 / cfg.heatmap_gain, name=name)(hm)


def _heads(feats, cfg: RePoseConfig, prefix: str):
    """Per-keypoint heads (or one joint head): heatmap stack at the coarse resolution and head features."""
    k, c = cfg.num_keypoints, cfg.keypoint_channels
    if prefix.endswith("post") and cfg.joint_post_head:
        x = conv_block(
            layers.Concatenate(name=f"{prefix}_concat")(feats),
            c,
            1,
            bn_momentum=cfg.bn_momentum,
            name=f"{prefix}_proj",
        )
        x = conv_stack(x, c, cfg.head_blocks, bn_momentum=cfg.bn_momentum, name=f"{prefix}_head")
        hm = layers.Conv2D(k, 3, padding="same", name=f"{prefix}_heatmap")(x)
        return _ungain(hm, cfg, f"{prefix}_heatmap_gain"), x
    maps, head_feats = [], []
    for i, f in enumerate(feats):
        x = conv_stack(f, c, cfg.head_blocks, bn_momentum=cfg.bn_momentum, name=f"{prefix}_head{i}")
        head_feats.append(x)
        maps.append(layers.Conv2D(1, 3, padding="same", name=f"{prefix}_heatmap{i}")(x))
    hm = _ungain(layers.Concatenate(name=f"{prefix}_heatmaps")(maps), cfg, f"{prefix}_heatmap_gain")
    return hm, layers.Concatenate(name=f"{prefix}_features")(head_feats)


def _kinematic_updates(feats: list, cfg: RePoseConfig, prefix: str) -> list:
    """Sequential updates: a later keypoint sees the already-updated features of earlier ones."""
    kps = get_keypoint_set(cfg.keypoint_set)
    order = _update_order(cfg)
    feats = list(feats)
    for p in range(cfg.update_passes):
        pass_order = order if p % 2 == 0 else tuple(reversed(order))
        for k in pass_order:
            nbrs = kps.neighbours(k, order)
            update = KinematicUpdate(
                cfg.keypoint_channels,
                cfg.update_blocks,
                cfg.update_strategy,
                cfg.lambda_init,
                bn_momentum=cfg.bn_momentum,
                name=f"{prefix}_update_p{p}_k{k}",
            )
            feats[k] = update([feats[k]] + [feats[j] for j in nbrs])
    return feats


def _sequential_updates(feats: list, cfg: RePoseConfig, prefix: str, trunk: int = 128) -> list:
    """The paper's "sequential" baseline: plain conv blocks of about the same size, no graph."""
    x = conv_block(
        layers.Concatenate(name=f"{prefix}_seq_concat")(feats),
        trunk,
        1,
        bn_momentum=cfg.bn_momentum,
        name=f"{prefix}_seq_in",
    )
    x = conv_stack(x, trunk, sequential_blocks(cfg, trunk), bn_momentum=cfg.bn_momentum, name=f"{prefix}_seq")
    outs = []
    for i, f in enumerate(feats):
        upd = conv_block(
            x, cfg.keypoint_channels, 1, bn_momentum=cfg.bn_momentum, name=f"{prefix}_seq_out{i}"
        )
        outs.append(layers.Add(name=f"{prefix}_seq_add{i}")([f, upd]))
    return outs


def _stage(x, cfg: RePoseConfig, s: int):
    """One RePose network; returns (heatmap stacks coarse -> fine, final full-resolution features).

    Levels are named by depth (``d0`` = the input resolution, ``d1`` = half of it, ...), not by
    pixels, so one set of weights fits every input size with the same depth (progressive
    resolution training: 64 px with coarsest 8 shares every layer with 128 px with coarsest 16).
    Layer order is unchanged from the pixel-named graph, so older .keras files (whose weights
    Keras stores by position) load identically.
    """
    n, k, w = cfg.input_size, cfg.num_keypoints, cfg.width
    p = f"s{s}"
    skips = {}
    res, depth = n, 0
    while True:
        x = conv_stack(x, w, cfg.encoder_blocks, bn_momentum=cfg.bn_momentum, name=f"{p}_enc_d{depth}")
        if res == cfg.coarsest_resolution:
            break
        skips[depth] = x
        x = conv_block(x, w, 5, 2, bn_momentum=cfg.bn_momentum, name=f"{p}_down_d{depth}")
        res, depth = res // 2, depth + 1

    feats = [
        conv_block(x, cfg.keypoint_channels, 1, bn_momentum=cfg.bn_momentum, name=f"{p}_decouple{i}")
        for i in range(k)
    ]
    pre_hm, _ = _heads(feats, cfg, f"{p}_pre")
    if cfg.ordering == "sequential":
        feats = _sequential_updates(feats, cfg, p)
    else:
        feats = _kinematic_updates(feats, cfg, p)
    post_hm, x = _heads(feats, cfg, f"{p}_post")

    stacks = [("pre_update", pre_hm), ("post_update", post_hm)]
    while res < n:
        res, depth = res * 2, depth - 1
        x = ResizeTo(res, res, name=f"{p}_up_d{depth}")(x)
        x = layers.Concatenate(name=f"{p}_skip_d{depth}")([x, skips[depth]])
        x = conv_block(x, w, 1, bn_momentum=cfg.bn_momentum, name=f"{p}_proj_d{depth}")
        dec_blocks = cfg.encoder_blocks - (cfg.decoder_projection == "first_block")
        x = conv_stack(x, w, dec_blocks, bn_momentum=cfg.bn_momentum, name=f"{p}_dec_d{depth}")
        hm = layers.Conv2D(k, 3, padding="same", name=f"{p}_heatmap_d{depth}")(x)
        hm = _ungain(hm, cfg, f"{p}_heatmap_d{depth}_gain")
        stacks.append((f"refine_d{depth}", hm))
    return stacks, x


def build_outputs(image, cfg: RePoseConfig) -> dict:
    """Wire the whole network on an ``image`` tensor (RGB, 0..255). Returns {output name: tensor}."""
    n = cfg.input_size
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalize")(image)
    outputs = {}
    for s in range(1, cfg.num_stages + 1):
        stacks, feats = _stage(x, cfg, s)
        last_stage = s == cfg.num_stages
        for i, (name, hm) in enumerate(stacks):
            final = last_stage and i == len(stacks) - 1
            out_name = FINAL_OUTPUT if final else f"s{s}_{name}"
            hm = ResizeTo(n, n, name=f"s{s}_{name}_resize")(hm)
            outputs[out_name] = layers.Activation("linear", dtype="float32", name=out_name)(hm)
        if not last_stage:  # next stage starts from this stage's features and predictions
            x = layers.Concatenate(name=f"s{s}_to_next")([feats, stacks[-1][1]])
            x = conv_block(x, cfg.width, 3, bn_momentum=cfg.bn_momentum, name=f"s{s + 1}_merge")
    return outputs


@keras.saving.register_keras_serializable("repose_tf")
class RePose(keras.Model):
    """The RePose pose network (arXiv 2002.03933).

    Input: ``(batch, n, n, 3)`` RGB float in 0..255 (normalised inside the model).
    Output (training form): a dict of heatmap stacks ``(batch, n, n, K)``, every supervised stack,
    the final one under ``"heatmaps"``. Inference form (``inference=True`` or
    :meth:`inference_model`): only the final stack, as a single tensor.
    """

    def __init__(self, config: RePoseConfig | dict | None = None, inference: bool = False, **kwargs):
        cfg = RePoseConfig.from_dict(config) if isinstance(config, dict) else (config or RePoseConfig())
        image = keras.Input((cfg.input_size, cfg.input_size, 3), name="image")
        outputs = build_outputs(image, cfg)
        kwargs.setdefault("name", "repose_inference" if inference else "repose")
        super().__init__(inputs=image, outputs=outputs[FINAL_OUTPUT] if inference else outputs, **kwargs)
        self.repose_config = cfg
        self.inference = bool(inference)

    @property
    def keypoint_set(self):
        return get_keypoint_set(self.repose_config.keypoint_set)

    def get_config(self):
        return {"config": self.repose_config.to_dict(), "inference": self.inference, "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    @classmethod
    def from_preset(
        cls, preset: str, inference: bool = False, load_weights: bool = True, **overrides
    ) -> RePose:
        """The preset's model, with its shipped trained weights when it has them (Keras-Hub style).

        ``load_weights=False`` builds a random initialisation. A preset without shipped weights
        (see :func:`repose_tf.config.presets_with_weights`; only ``repose_lsp14`` today) builds a
        random init and warns, so pass ``load_weights=False`` to mean it. ``overrides`` change the
        config; one that changes the architecture cannot take the shipped weights.
        """
        info = preset_info(preset)
        model = cls(get_preset(preset, **overrides), inference=inference)
        if not load_weights:
            return model
        if info.weights is None:
            warnings.warn(
                f"preset {preset!r} ships no trained weights (presets with weights: "
                f"{', '.join(presets_with_weights())}): random init; pass load_weights=False to mean it",
                stacklevel=2,
            )
            return model
        if info.weights_path is None:
            raise FileNotFoundError(
                f"preset {preset!r}: {missing_model_hint(Path(info.weights).name)}; "
                "or pass load_weights=False for a random init"
            )
        shipped = _load_shipped(info.weights_path, preset)
        try:
            return copy_weights_by_name(shipped, model)
        except (KeyError, ValueError) as e:
            raise ValueError(
                f"preset {preset!r} with overrides {overrides} does not fit its shipped weights ({e}); "
                "pass load_weights=False for a random init"
            ) from None

    def inference_model(self) -> RePose:
        """A single-output copy (final heatmaps only) sharing this model's weight values."""
        if self.inference:
            return self
        return copy_weights_by_name(self, RePose(self.repose_config, inference=True))


def _load_shipped(path, preset: str) -> keras.Model:
    """A preset's shipped ``.keras`` (this module registers RePose, so Keras can rebuild it).

    Loading any user's model file, with its checks, is :func:`repose_tf.loading.load_repose`,
    which sits above this module; a preset's own file needs only this.
    """
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as e:  # noqa: BLE001 - Keras raises anything from TypeError to KeyError here
        lines = str(e).strip().splitlines()
        raise ValueError(
            f"preset {preset!r}: cannot load its weights {path}: {lines[0] if lines else type(e).__name__}"
        ) from None


def copy_weights_by_name(source: keras.Model, target: keras.Model) -> keras.Model:
    """Copy ``source``'s current weight values into every same-named layer of ``target`` (the
    inference graph is a subset of the training graph: it drops the auxiliary heads)."""
    layers = {layer.name: layer for layer in source.layers}
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(layers[layer.name].get_weights())
    return target


__all__ = [
    "FINAL_OUTPUT",
    "RePose",
    "build_outputs",
    "copy_weights_by_name",
    "list_presets",
    "sequential_blocks",
]
