// The page's crop against cv2.warpAffine itself: tests/test_web.py::test_js_unit_tests writes
// golden arrays with the installed OpenCV (synthetic images: noise, so any sampling or rounding
// difference shows) and points REPOSE_WARP_GOLDEN at them. Every byte must match.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { cropWindow, windowAffine } from '../src/pose.js';
import { fma32, warpAffineRGBA } from '../src/warp.js';

const goldenPath = process.env.REPOSE_WARP_GOLDEN;
const skip = goldenPath ? false : 'REPOSE_WARP_GOLDEN unset: run through tests/test_web.py (it writes the cv2 golden arrays)';

function rgba(image) {
  const rgb = Buffer.from(image.rgb, 'base64');
  const data = new Uint8ClampedArray(image.width * image.height * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    data[j] = rgb[i];
    data[j + 1] = rgb[i + 1];
    data[j + 2] = rgb[i + 2];
    data[j + 3] = 255;
  }
  return { data, width: image.width, height: image.height };
}

function assertSame(got, want, name) {
  assert.equal(got.length, want.length, name);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      bad++;
      if (first < 0) first = i;
    }
  }
  assert.equal(bad, 0, `${name}: ${bad} of ${want.length} values differ from cv2, first at ${first}: ${got[first]} vs ${want[first]}`);
}

test('fma32 rounds once, where a float32 of the double result would round twice', () => {
  const a = 1 + 2 ** -12; // a * a = 1 + 2^-11 + 2^-24: halfway between two float32 values
  assert.equal(Math.fround(a * a + 2 ** -80), 1 + 2 ** -11); // the double lands on the tie: wrong
  assert.equal(fma32(a, a, 2 ** -80), 1 + 2 ** -11 + 2 ** -23); // just above halfway: up
  assert.equal(fma32(a, a, -(2 ** -80)), 1 + 2 ** -11); // just below: down
  assert.equal(fma32(a, a, 0), 1 + 2 ** -11); // exactly halfway: to even
  const f = Math.fround(0.3);
  assert.equal(fma32(f, 255, 17), Math.fround(f * 255 + 17)); // the ordinary case: exact in double
});

test('warpAffine INTER_LINEAR / BORDER_CONSTANT matches cv2 bit for bit', { skip }, () => {
  const golden = JSON.parse(readFileSync(goldenPath, 'utf8'));
  const images = Object.fromEntries(Object.entries(golden.images).map(([k, v]) => [k, rgba(v)]));
  let values = 0;
  for (const c of golden.cases) {
    const name = `${c.name} (cv2 ${golden.opencv})`;
    const img = images[c.image];
    const want = new Float32Array(new Uint8Array(Buffer.from(c.expected, 'base64')).buffer); // little-endian f32
    if (c.window) {
      // The page's own path: its window -> the affine Python computes -> the crop.
      const m = windowAffine(c.window, c.size);
      assert.ok(m.every((v, i) => v === c.matrix[i]), `${name}: affine ${m} vs Python ${c.matrix}`);
      assertSame(cropWindow(img, c.window, c.size), want, name);
    } else {
      assertSame(warpAffineRGBA(img, c.matrix, c.width, c.height), want, name);
    }
    values += want.length;
  }
  assert.ok(golden.cases.length >= 10 && values > 100000, `only ${golden.cases.length} cases`);
});
