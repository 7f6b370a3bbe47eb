// Unit tests of the page's pure logic (node --test; run by tests/test_web.py::test_js_unit_tests).
// The same rules are tested for the Kotlin core in android_demo/core/src/test (TrackingCropTest).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  SidecarError, TRACKING_DEFAULTS, TrackingCrop, centerSquare, decodeHeatmaps, fromOutputTensor, inputToSource,
  cropWindow, letterbox, parseSidecar, toInputTensor,
} from '../src/pose.js';
import { fixBatchToOne } from '../src/tflite.js';

const models = fileURLToPath(new URL('../../models/', import.meta.url));
const sidecarText = readFileSync(`${models}repose_lsp14_int8.json`, 'utf8');

test('parses the shipped sidecar', () => {
  const sc = parseSidecar(JSON.parse(sidecarText));
  assert.equal(sc.inputSize, 128);
  assert.equal(sc.keypointNames.length, 14);
  assert.equal(sc.crop, 'center_square');
  assert.equal(sc.modelFile, 'repose_lsp14_int8.tflite');
});

test('malformed sidecars name the field', () => {
  const bad = (mutate, field) => {
    const sc = JSON.parse(sidecarText);
    mutate(sc);
    assert.throws(() => parseSidecar(sc), (e) => e instanceof SidecarError && e.message.includes(field), field);
  };
  bad((s) => { s.format = 'x/2'; }, 'format');
  bad((s) => { delete s.output.sigma; s.output.shape = [1, 128, 128, 13]; }, 'output.shape');
  bad((s) => { s.input.dtype = 'uint8'; }, 'input.quantization');
  bad((s) => { s.input.dtype = 'float64'; }, 'input.dtype');
  bad((s) => { s.skeleton.push([0, 99]); }, 'skeleton');
  bad((s) => { delete s.preprocess; }, 'preprocess');
  bad((s) => { s.decode.method = 'soft_argmax'; }, 'decode.method');
});

test('decoding: first maximum, quarter-pixel step toward the higher neighbour, none at borders', () => {
  const h = 5;
  const w = 6;
  const k = 2;
  const hm = new Float32Array(h * w * k);
  const set = (x, y, c, v) => { hm[(y * w + x) * k + c] = v; };
  set(2, 3, 0, 1.0); set(3, 3, 0, 0.5); set(1, 3, 0, 0.2); set(2, 2, 0, 0.3); set(2, 4, 0, 0.3);
  set(0, 1, 1, 0.9); set(5, 1, 1, 0.9); // tie: the first in row-major order; x on the border
  const kp = decodeHeatmaps(hm, h, w, k);
  assert.deepEqual([kp.x[0], kp.y[0], kp.score[0]], [2.25, 3, 1]);
  assert.equal(kp.x[1], 0);
  assert.ok(Math.abs(kp.score[1] - 0.9) < 1e-6);
});

test('crop: half-pixel bilinear of the window, 0 outside the frame', () => {
  const w = 4;
  const h = 2;
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([i * 10, 100, 200 - i * 10, 255], i * 4);
  const img = { data, width: w, height: h };
  const same = cropWindow(img, { x0: 0, y0: 0, side: 2, pad: false }, 2);
  assert.deepEqual(Array.from(same.subarray(0, 3)), [0, 100, 200]); // identity at scale 1
  const half = cropWindow(img, centerSquare(w, h), 1); // 2x2 -> 1: the mean of pixels 1, 2, 5, 6
  assert.ok(Math.abs(half[0] - (10 + 20 + 50 + 60) / 4) < 1e-4);
  const lb = cropWindow(img, letterbox(w, h), 4); // rows -1 and 2 of the square are padding
  assert.deepEqual(Array.from(lb.subarray(0, 3)), [0, 0, 0]);
  assert.ok(lb[4 * 3 + 1] === 100);
  const [sx, sy] = inputToSource({ x0: 10, y0: 20, side: 64, pad: true }, 128, 63.5, 0);
  assert.deepEqual([sx, sy], [41.5, 19.75]);
});

test('quantisation follows the sidecar rule', () => {
  const spec = { dtype: 'int8', quant: { scale: 0.5, zeroPoint: -10 } };
  assert.deepEqual(Array.from(toInputTensor(new Float32Array([0, 1.2, 1000]), spec)), [-10, -8, 127]);
  assert.deepEqual(Array.from(fromOutputTensor(new Int8Array([-10, 30]), spec)), [0, 20]);
});

test('fixBatchToOne makes the shipped model static, once', () => {
  const bytes = new Uint8Array(readFileSync(`${models}repose_lsp14_float16.tflite`));
  assert.ok(fixBatchToOne(bytes) > 100);
  assert.equal(fixBatchToOne(bytes), 0);
  assert.throws(() => fixBatchToOne(new Uint8Array(16)), /not a TFLite model/);
});

// A person (K = 6 keypoints) whose box is x 300..360, y 40..200 in a 426 x 240 frame.
const personX = [300, 360, 310, 350, 330, 330];
const personY = [40, 40, 120, 120, 200, 200];
const conf = (v) => new Array(6).fill(v);

test('tracking: falls back to the centre square without enough confident keypoints', () => {
  const t = new TrackingCrop();
  assert.deepEqual(t.window(426, 240), centerSquare(426, 240));
  t.update(personX, personY, [0.5, 0.5, 0.01, 0.01, 0.01, 0.01], 426, 240); // 2 < minKeypoints
  assert.equal(t.locked, false);
  assert.deepEqual(t.window(426, 240), centerSquare(426, 240));
});

test('tracking: locks onto an off-centre person, the window covers the keypoints', () => {
  const t = new TrackingCrop();
  t.update(personX, personY, conf(0.3), 426, 240);
  assert.ok(t.locked);
  const w = t.window(426, 240);
  // side = margin x 160 = 320 (between 240 and 426), centre (330, 120): inside the frame in x,
  // centred in y (the square is taller than the frame).
  assert.equal(w.side, TRACKING_DEFAULTS.margin * 160);
  assert.equal(w.x0, 426 - 320);
  assert.equal(w.y0, (240 - 320) / 2);
  assert.ok(w.pad);
  for (let i = 0; i < 6; i++) {
    assert.ok(personX[i] >= w.x0 && personX[i] <= w.x0 + w.side && personY[i] >= w.y0 && personY[i] <= w.y0 + w.side);
  }
  const cs = centerSquare(426, 240);
  assert.ok(Math.max(...personX) > cs.x0 + cs.side, 'the centre square would cut this person');
});

test('tracking: smoothed, the minimum side, and reset when confidence drops or the frame changes', () => {
  const t = new TrackingCrop();
  t.update(personX, personY, conf(0.3), 426, 240);
  const moved = personX.map((x) => x - 100);
  t.update(moved, personY, conf(0.3), 426, 240);
  assert.equal(t.state.cx, 330 + TRACKING_DEFAULTS.smoothing * (230 - 330));
  const tiny = new TrackingCrop();
  tiny.update([200, 210, 205], [100, 110, 105], conf(0.3).slice(0, 3), 426, 240);
  assert.equal(tiny.state.side, 240); // at least minSideFraction x the shorter side
  t.update(personX, personY, conf(0.05), 426, 240);
  assert.equal(t.locked, false);
  t.update(personX, personY, conf(0.3), 426, 240);
  assert.deepEqual(t.window(640, 480), centerSquare(640, 480)); // a new frame size resets
});
