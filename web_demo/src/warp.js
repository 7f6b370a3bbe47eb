// cv2.warpAffine(src, M, dsize, flags=INTER_LINEAR, borderMode=BORDER_CONSTANT, borderValue=0)
// on a uint8 RGB image, bit for bit, so the page feeds the model the very pixels the Python side
// (repose_tf.data.prepare_image) does. A grey level of difference is enough to move argmaxes on a
// flat int8 heatmap.
//
// This is OpenCV 5.x's float32 kernel (imgproc warp_kernels.simd.hpp, warpAffineLinearInvoker_8UC3,
// AVX2/AVX-512 path with fused multiply-adds), not the 1/32-px fixed-point remap of OpenCV <= 4.10;
// test_web.py checks it against the installed cv2 on golden arrays. Per destination pixel (x, y):
//   iM = the inverse of M in double (as warpAffine), then each entry rounded to float32
//   sx = fma(iM0, x, f32(f32(y * iM1) + iM2)),  sy likewise with iM3..iM5
//   ix = floor(sx), a = f32(sx - ix); the same for y (b)
//   top = fma(a, p01 - p00, p00), bottom = fma(a, p11 - p10, p10)
//   value = round-half-even(fma(b, f32(bottom - top), top)); taps outside the image are 0.
// JavaScript has no float32 fma, so fma32 rounds the exact double result once to float32.

const f32 = Math.fround;

/** float32(s + e) rounded once, where s = double(s + e) and e is the exact remainder (TwoSum). */
function roundF32(s, e) {
  const r = f32(s);
  if (e === 0 || r === s) return r;
  // Rounding s to float32 after rounding to double only goes wrong when s sits exactly halfway
  // between two float32 values: then the sign of the remainder picks the side.
  const other = 2 * s - r;
  if (other !== r && f32(other) === other && (e > 0) === (other > r)) return other;
  return r;
}

/** float32 a + b, correctly rounded (a and b float32 or exact doubles). */
function add32(a, b) {
  const s = a + b;
  const bb = s - a;
  return roundF32(s, (a - (s - bb)) + (b - bb));
}

/** float32 fma(a, b, c) for float32 a, b, c: a * b is exact in double (24 + 24 bits). */
export function fma32(a, b, c) {
  return add32(a * b, c);
}

/** Round half to even (cvRound / v_round with the default rounding mode). */
function roundEven(v) {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The inverse of a 2x3 affine, computed as cv::warpAffine does (double, same operation order). */
export function invertAffine(m) {
  const M = Array.from(m);
  let D = M[0] * M[4] - M[1] * M[3];
  D = D !== 0 ? 1 / D : 0;
  const A11 = M[4] * D;
  const A22 = M[0] * D;
  M[0] = A11;
  M[1] *= -D;
  M[3] *= -D;
  M[4] = A22;
  const b1 = -M[0] * M[2] - M[1] * M[5];
  const b2 = -M[3] * M[2] - M[4] * M[5];
  M[2] = b1;
  M[5] = b2;
  return M;
}

/**
 * cv2.warpAffine of an RGBA image ({data, width, height}, alpha ignored) with the forward affine
 * m = [m00, m01, m02, m10, m11, m12] (source -> destination, float64) into width x height RGB:
 * a Float32Array (NHWC, integer values 0..255), as prepare_image's crop.astype(float32).
 */
export function warpAffineRGBA(img, m, width, height = width, out = null) {
  const dst = out || new Float32Array(width * height * 3);
  const M = invertAffine(m).map(f32);
  const d = img.data;
  const w = img.width;
  const h = img.height;
  const px = (x, y, c) => (x >= 0 && x < w && y >= 0 && y < h ? d[(y * w + x) * 4 + c] : 0);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const mx = add32(f32(y * M[1]), M[2]);
    const my = add32(f32(y * M[4]), M[5]);
    for (let x = 0; x < width; x++, o += 3) {
      const sx = fma32(M[0], x, mx);
      const sy = fma32(M[3], x, my);
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const a = f32(sx - ix); // sx - ix is exact in double
      const b = f32(sy - iy);
      if (ix >= 0 && ix + 1 < w && iy >= 0 && iy + 1 < h) {
        const i00 = (iy * w + ix) * 4;
        const i10 = i00 + w * 4;
        for (let c = 0; c < 3; c++) {
          const p00 = d[i00 + c];
          const p10 = d[i10 + c];
          const top = fma32(a, d[i00 + 4 + c] - p00, p00);
          const bottom = fma32(a, d[i10 + 4 + c] - p10, p10);
          dst[o + c] = roundEven(fma32(b, add32(bottom, -top), top));
        }
      } else if (ix < -1 || ix >= w || iy < -1 || iy >= h) {
        dst[o] = 0; // all four taps outside
        dst[o + 1] = 0;
        dst[o + 2] = 0;
      } else {
        for (let c = 0; c < 3; c++) {
          const p00 = px(ix, iy, c);
          const p10 = px(ix, iy + 1, c);
          const top = fma32(a, px(ix + 1, iy, c) - p00, p00);
          const bottom = fma32(a, px(ix + 1, iy + 1, c) - p10, p10);
          dst[o + c] = roundEven(fma32(b, add32(bottom, -top), top));
        }
      }
    }
  }
  return dst;
}
