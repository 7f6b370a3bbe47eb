// The shipped .tflite exports keep Keras's dynamic batch: every tensor's shape_signature starts
// with -1 (its shape says 1). LiteRT.js's CompiledModel checks input buffers against the
// signature and has no resize call, so before compiling, the page fixes the batch to 1 in the
// model bytes: a minimal FlatBuffer walk (TFLite schema: Model.subgraphs -> SubGraph.tensors ->
// Tensor.shape_signature) that overwrites a leading -1 in place. Nothing else changes.

const MODEL_SUBGRAPHS = 2; // field ids of schema.fbs
const SUBGRAPH_TENSORS = 0;
const TENSOR_SHAPE_SIGNATURE = 7;

function field(view, table, id) {
  const vtable = table - view.getInt32(table, true);
  const vtSize = view.getUint16(vtable, true);
  const at = 4 + 2 * id;
  if (at >= vtSize) return 0;
  const off = view.getUint16(vtable + at, true);
  return off ? table + off : 0;
}

function vector(view, pos) {
  const start = pos + view.getUint32(pos, true);
  return { length: view.getUint32(start, true), first: start + 4 };
}

/**
 * Sets a dynamic (-1) batch dimension of every tensor's shape_signature to 1, in place.
 * Returns the number of tensors changed; throws when the bytes are not a TFLite model.
 */
export function fixBatchToOne(bytes) {
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') {
    throw new Error('not a TFLite model (no TFL3 identifier)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const model = view.getUint32(0, true);
  const sgField = field(view, model, MODEL_SUBGRAPHS);
  if (!sgField) return 0;
  let changed = 0;
  const subgraphs = vector(view, sgField);
  for (let s = 0; s < subgraphs.length; s++) {
    const sp = subgraphs.first + 4 * s;
    const subgraph = sp + view.getUint32(sp, true);
    const tField = field(view, subgraph, SUBGRAPH_TENSORS);
    if (!tField) continue;
    const tensors = vector(view, tField);
    for (let t = 0; t < tensors.length; t++) {
      const tp = tensors.first + 4 * t;
      const tensor = tp + view.getUint32(tp, true);
      const sig = field(view, tensor, TENSOR_SHAPE_SIGNATURE);
      if (!sig) continue;
      const dims = vector(view, sig);
      if (dims.length > 0 && view.getInt32(dims.first, true) === -1) {
        view.setInt32(dims.first, 1, true);
        changed++;
      }
    }
  }
  return changed;
}
