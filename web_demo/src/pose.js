// Pure pose logic of the web demo (no DOM, no runtime): sidecar reading, the square window
// crop, input quantisation, heatmap decoding and the tracking crop. It mirrors the Python
// pipeline (repose_tf/codec.py, repose_tf/data prepare_image, repose_tf/sidecar.py) and the
// Kotlin core (android_demo/core: Heatmaps.kt, TrackingCrop.kt) rule for rule. The crop is
// OpenCV's warpAffine bit for bit (warp.js), not the Kotlin SquareResizer's double-precision
// bilinear: the Python side is the reference and int8 argmaxes move on one grey level.
// node --test runs web_demo/test/*.test.mjs on it.

import { warpAffineRGBA } from './warp.js';

export const SIDECAR_FORMAT = 'repose-tflite-sidecar/1';

/** A malformed or unsupported sidecar; the message names the field. */
export class SidecarError extends Error {}

function need(obj, key, kind, field) {
  const name = field ? `${field}.${key}` : key;
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new SidecarError(`sidecar: '${field || '(top level)'}' must be an object`);
  }
  if (!(key in obj)) throw new SidecarError(`sidecar: missing '${name}'`);
  const v = obj[key];
  const ok =
    kind === 'array' ? Array.isArray(v)
      : kind === 'object' ? v !== null && typeof v === 'object' && !Array.isArray(v)
        : kind === 'int' ? Number.isInteger(v)
          : typeof v === kind;
  if (!ok) throw new SidecarError(`sidecar: '${name}' must be ${kind === 'int' ? 'an integer' : `a ${kind}`}`);
  return v;
}

function tensorSpec(o, field) {
  const shape = need(o, 'shape', 'array', field);
  if (shape.length !== 4 || shape[0] !== 1 || !shape.every((s) => Number.isInteger(s) && s > 0)) {
    throw new SidecarError(`sidecar: '${field}.shape' must be [1, H, W, C]`);
  }
  if (need(o, 'layout', 'string', field) !== 'NHWC') throw new SidecarError(`sidecar: '${field}.layout' must be 'NHWC'`);
  const dtype = need(o, 'dtype', 'string', field);
  if (!['float32', 'uint8', 'int8'].includes(dtype)) {
    throw new SidecarError(`sidecar: '${field}.dtype' is '${dtype}', expected float32, uint8 or int8`);
  }
  if (!('quantization' in o)) throw new SidecarError(`sidecar: missing '${field}.quantization'`);
  let quant = null;
  if (dtype !== 'float32') {
    const q = o.quantization;
    if (q === null) throw new SidecarError(`sidecar: '${field}.quantization' must be present for a ${dtype} tensor`);
    const scale = need(q, 'scale', 'number', `${field}.quantization`);
    const zeroPoint = need(q, 'zero_point', 'int', `${field}.quantization`);
    if (!(scale > 0)) throw new SidecarError(`sidecar: '${field}.quantization.scale' must be > 0`);
    quant = { scale, zeroPoint };
  }
  return { name: need(o, 'name', 'string', field), index: need(o, 'index', 'int', field), shape, dtype, quant };
}

/** Validates a parsed sidecar (repose-tflite-sidecar/1) and returns what the page needs. */
export function parseSidecar(sc) {
  const format = need(sc, 'format', 'string', '');
  if (format !== SIDECAR_FORMAT) throw new SidecarError(`sidecar: unsupported format '${format}', expected '${SIDECAR_FORMAT}'`);
  const names = need(sc, 'keypoint_names', 'array', '');
  if (!names.length || !names.every((n) => typeof n === 'string') || new Set(names).size !== names.length) {
    throw new SidecarError("sidecar: 'keypoint_names' must be unique strings");
  }
  const k = names.length;
  const pairs = (key) => need(sc, key, 'array', '').map((p) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((i) => Number.isInteger(i) && i >= 0 && i < k)) {
      throw new SidecarError(`sidecar: '${key}' entry ${JSON.stringify(p)} must be a pair of indices in 0..${k - 1}`);
    }
    return [p[0], p[1]];
  });
  const inObj = need(sc, 'input', 'object', '');
  const outObj = need(sc, 'output', 'object', '');
  const input = tensorSpec(inObj, 'input');
  const output = tensorSpec(outObj, 'output');
  if (input.shape[3] !== 3 || input.shape[1] !== input.shape[2]) throw new SidecarError("sidecar: 'input.shape' must be [1, n, n, 3]");
  if (need(inObj, 'color', 'string', 'input') !== 'RGB') throw new SidecarError("sidecar: 'input.color' must be 'RGB'");
  if (output.shape[3] !== k) throw new SidecarError(`sidecar: 'output.shape' must have ${k} channels (one per keypoint name)`);
  if (need(outObj, 'kind', 'string', 'output') !== 'heatmaps') throw new SidecarError("sidecar: 'output.kind' must be 'heatmaps'");
  const stride = need(outObj, 'stride', 'int', 'output');
  if (stride < 1 || output.shape[1] * stride !== input.shape[1] || output.shape[2] * stride !== input.shape[2]) {
    throw new SidecarError("sidecar: 'output.stride' must satisfy output size * stride == input size");
  }
  const decode = need(sc, 'decode', 'object', '');
  if (need(decode, 'method', 'string', 'decode') !== 'argmax_quarter_offset') {
    throw new SidecarError("sidecar: 'decode.method' must be 'argmax_quarter_offset'");
  }
  const pre = need(sc, 'preprocess', 'object', '');
  const crop = need(pre, 'crop', 'string', 'preprocess');
  if (!['center_square', 'letterbox'].includes(crop)) throw new SidecarError(`sidecar: 'preprocess.crop' '${crop}' is not supported`);
  if (need(pre, 'resize', 'string', 'preprocess') !== 'bilinear') throw new SidecarError("sidecar: 'preprocess.resize' must be 'bilinear'");
  return {
    modelFile: need(sc, 'model_file', 'string', ''),
    quantize: need(sc, 'quantize', 'string', ''),
    keypointSet: need(sc, 'keypoint_set', 'string', ''),
    keypointNames: names,
    skeleton: pairs('skeleton'),
    flipPairs: pairs('flip_pairs'),
    input,
    output,
    stride,
    inputSize: input.shape[1],
    crop,
  };
}

// ------------------------------------------------------------------------------- windows

/**
 * A square window of the source image: model-input pixel u samples source
 * x = x0 + (u + 0.5) * side / size - 0.5 (pixel centres at integers, as repose_tf.codec).
 * pad: the window may reach past the frame (letterbox / tracking). Either way samples outside
 * the frame read 0, as OpenCV's constant border in repose_tf.data.prepare_image.
 */
export function centerSquare(width, height) {
  const side = Math.min(width, height);
  // Integer offsets, as the Kotlin core's SquareWindow.of (integer division).
  return { x0: Math.trunc((width - side) / 2), y0: Math.trunc((height - side) / 2), side, pad: false };
}

export function letterbox(width, height) {
  const side = Math.max(width, height);
  return { x0: (width - side) / 2, y0: (height - side) / 2, side, pad: true };
}

export function defaultWindow(crop, width, height) {
  return crop === 'letterbox' ? letterbox(width, height) : centerSquare(width, height);
}

/** Model-input pixel (u, v) -> source pixel coordinates. */
export function inputToSource(win, size, u, v) {
  const s = win.side / size;
  return [win.x0 + (u + 0.5) * s - 0.5, win.y0 + (v + 0.5) * s - 0.5];
}

/**
 * The window's affine (source -> model input, row-major 2x3), computed in double exactly as
 * repose_tf.data.crop_affine(centre, side, size) with centre = (x0, y0) + (side - 1) / 2; for the
 * letterbox window that centre is whole_image_box's ((w - 1) / 2, (h - 1) / 2) exactly.
 */
export function windowAffine(win, size) {
  const k = size / win.side;
  const half = (size - 1) / 2;
  const cx = win.x0 + (win.side - 1) / 2;
  const cy = win.y0 + (win.side - 1) / 2;
  return [k, -0, half - k * cx, 0, k, half - k * cy];
}

/**
 * The window of an RGBA image (ImageData-like {data, width, height}) as the model's
 * size x size x 3 Float32Array of RGB 0..255 (NHWC): bit for bit the crop prepare_image makes
 * with cv2.warpAffine (see warp.js).
 */
export function cropWindow(img, win, size, out = null) {
  return warpAffineRGBA(img, windowAffine(win, size), size, size, out);
}

// ------------------------------------------------------------------------- tensor (de)quantisation

/** RGB floats -> the input tensor's typed array (sidecar rule: floor(v / s + 0.5) + zp, clipped). */
export function toInputTensor(pixels, spec) {
  if (spec.dtype === 'float32') return pixels;
  const { scale, zeroPoint } = spec.quant;
  const [lo, hi] = spec.dtype === 'uint8' ? [0, 255] : [-128, 127];
  const out = spec.dtype === 'uint8' ? new Uint8Array(pixels.length) : new Int8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    out[i] = Math.min(hi, Math.max(lo, Math.floor(pixels[i] / scale + 0.5) + zeroPoint));
  }
  return out;
}

/** The output tensor's values -> real heatmap values ((q - zp) * scale for integer tensors). */
export function fromOutputTensor(values, spec) {
  if (spec.dtype === 'float32') return values;
  const { scale, zeroPoint } = spec.quant;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = (values[i] - zeroPoint) * scale;
  return out;
}

// ---------------------------------------------------------------------------------- decoding

/**
 * argmax_quarter_offset, as repose_tf.codec.decode: per channel the first maximum in row-major
 * order; away from the border a 0.25 px step toward the higher neighbour in x and in y
 * separately (none when equal); score = the maximum. heatmaps: H x W x K (NHWC, no batch).
 * Returns {x, y, score} Float32Arrays in model-input pixels.
 */
export function decodeHeatmaps(hm, height, width, channels, stride = 1) {
  const x = new Float32Array(channels);
  const y = new Float32Array(channels);
  const score = new Float32Array(channels);
  const at = (px, py, k) => hm[(py * width + px) * channels + k];
  const step = (next, prev) => (next > prev ? 0.25 : next < prev ? -0.25 : 0);
  for (let k = 0; k < channels; k++) {
    let best = -Infinity;
    let bx = 0;
    let by = 0;
    let found = false;
    for (let py = 0; py < height; py++) {
      let i = py * width * channels + k;
      for (let px = 0; px < width; px++, i += channels) {
        const v = hm[i];
        if (!found || v > best) {
          best = v;
          bx = px;
          by = py;
          found = true;
        }
      }
    }
    let fx = bx;
    let fy = by;
    if (bx > 0 && bx < width - 1) fx += step(at(bx + 1, by, k), at(bx - 1, by, k));
    if (by > 0 && by < height - 1) fy += step(at(bx, by + 1, k), at(bx, by - 1, k));
    x[k] = stride === 1 ? fx : (fx + 0.5) * stride - 0.5;
    y[k] = stride === 1 ? fy : (fy + 0.5) * stride - 0.5;
    score[k] = best;
  }
  return { x, y, score };
}

// ----------------------------------------------------------------------------- tracking crop

/** Defaults shared with the Kotlin core's TrackingCrop (android_demo/core/.../TrackingCrop.kt). */
export const TRACKING_DEFAULTS = Object.freeze({
  minScore: 0.1, // a keypoint is confident at this heatmap score or above
  minKeypoints: 3, // fewer confident keypoints -> back to the default (full-frame centre) window
  margin: 2.0, // window side = margin x the longer side of the confident keypoints' box
  minSideFraction: 1.0, // ... but at least this fraction of the frame's shorter side
  smoothing: 0.5, // per-frame weight of the new target (exponential smoothing of centre and side)
});

/**
 * The MoveNet-style tracking crop: each frame is cropped around the previous frame's confident
 * keypoints. Rules (the same in Kotlin):
 *  1. confident = score >= minScore; fewer than minKeypoints -> reset, the sidecar's default
 *     window (full-frame centre square) is used next.
 *  2. target centre = centre of the confident keypoints' bounding box; target side = margin x
 *     its longer side, clamped to [minSideFraction x min(w, h), max(w, h)].
 *  3. smoothing: state = target on the first lock, else state + smoothing x (target - state),
 *     for centre x, centre y and side.
 *  4. the window is the state's square, shifted to lie inside the frame along each axis where
 *     it fits (centred on an axis where it is longer than the frame); samples outside the
 *     frame are 0 (pad).
 */
export class TrackingCrop {
  constructor(options = {}) {
    Object.assign(this, TRACKING_DEFAULTS, options);
    this.state = null; // {cx, cy, side}
    this.frameW = 0;
    this.frameH = 0;
  }

  reset() {
    this.state = null;
  }

  get locked() {
    return this.state !== null;
  }

  /** The window for the next frame of width x height. */
  window(width, height, crop = 'center_square') {
    if (width !== this.frameW || height !== this.frameH) {
      this.frameW = width;
      this.frameH = height;
      this.state = null;
    }
    if (!this.state) return defaultWindow(crop, width, height);
    const { cx, cy, side } = this.state;
    const place = (c, extent) => {
      const origin = c - (side - 1) / 2;
      if (side >= extent) return (extent - side) / 2;
      return Math.min(Math.max(origin, 0), extent - side);
    };
    return { x0: place(cx, width), y0: place(cy, height), side, pad: true };
  }

  /** Feed the keypoints (source pixels) and scores found in a width x height frame. */
  update(xs, ys, scores, width, height) {
    if (width !== this.frameW || height !== this.frameH) {
      this.frameW = width;
      this.frameH = height;
      this.state = null;
    }
    let n = 0;
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let i = 0; i < scores.length; i++) {
      if (!(scores[i] >= this.minScore) || !Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) continue;
      n++;
      x0 = Math.min(x0, xs[i]);
      x1 = Math.max(x1, xs[i]);
      y0 = Math.min(y0, ys[i]);
      y1 = Math.max(y1, ys[i]);
    }
    if (n < this.minKeypoints) {
      this.state = null;
      return;
    }
    const lo = this.minSideFraction * Math.min(width, height);
    const hi = Math.max(width, height);
    const side = Math.min(Math.max(this.margin * Math.max(x1 - x0, y1 - y0), lo), hi);
    const target = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, side };
    if (!this.state) {
      this.state = target;
    } else {
      const a = this.smoothing;
      const s = this.state;
      this.state = { cx: s.cx + a * (target.cx - s.cx), cy: s.cy + a * (target.cy - s.cy), side: s.side + a * (target.side - s.side) };
    }
  }
}
