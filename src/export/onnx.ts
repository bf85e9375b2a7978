// ONNX models written by hand: the few messages of onnx.proto an exported network needs
// (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto), with the field
// numbers of onnx.proto (onnx 1.x, proto2). Weights go in TensorProto.raw_data, little-endian.
import { ProtoWriter, readFields, ProtoError } from './protobuf.js';

/** The operator set every medseg export uses (ONNX Runtime 1.14+ runs it). */
export const ONNX_OPSET = 17;
/** IR version 8 goes with opset 17. */
export const ONNX_IR_VERSION = 8;

const FLOAT = 1;
const INT64 = 7;

// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

export type AttributeValue = number | number[] | string | { float: number } | { floats: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface OnnxValueInfo {
  name: string;
  /** Numbers are fixed sizes, strings are symbolic (e.g. 'N'). */
  shape: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModelOptions {
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

function attribute(name: string, v: AttributeValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof v === 'string') a.bytes(4, new TextEncoder().encode(v)).int(20, ATTR_STRING);
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`ONNX attribute ${name}: ${v} is not an integer (use {float})`);
    a.int(3, v).int(20, ATTR_INT);
  } else if (Array.isArray(v)) {
    for (const x of v) a.int(8, x);
    a.int(20, ATTR_INTS);
  } else if ('float' in v) a.float(2, v.float).int(20, ATTR_FLOAT);
  else {
    for (const x of v.floats) a.float(7, x);
    a.int(20, ATTR_FLOATS);
  }
  return a;
}

function node(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attribute(k, v));
  return w;
}

function tensor(t: OnnxInitializer): ProtoWriter {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (n !== t.data.length)
    throw new Error(
      `ONNX initializer ${t.name}: dims [${t.dims}] hold ${n} values, data has ${t.data.length}`,
    );
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, t.name);
  // raw_data is little-endian; typed arrays are in the platform's order, little-endian on every
  // platform Node supports in practice, so the bytes are copied as they are.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice());
  return w;
}

function valueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

/** The serialised ModelProto of a graph (opset ONNX_OPSET, default domain). */
export function encodeModel(g: OnnxGraph, o: OnnxModelOptions = {}): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(1, node(n));
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensor(t));
  for (const i of g.inputs) graph.message(11, valueInfo(i));
  for (const out of g.outputs) graph.message(12, valueInfo(out));
  const model = new ProtoWriter()
    .int(1, ONNX_IR_VERSION)
    .string(2, 'medseg')
    .string(3, o.producerVersion ?? '0');
  if (o.docString) model.string(6, o.docString);
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
  for (const [k, v] of Object.entries(o.metadata ?? {}))
    model.message(14, new ProtoWriter().string(1, k).string(2, v));
  return model.finish();
}

/** What a file's bytes say about themselves before a runtime sees them. */
export interface OnnxSummary {
  irVersion: number;
  opset: number | null;
  producer: string;
  metadata: Record<string, string>;
}

/**
 * Reads the header fields of a serialised ModelProto and checks that the bytes parse as one
 * (the graph included); throws ProtoError for a truncated or non-ONNX file.
 */
export function summarizeModel(buf: Uint8Array): OnnxSummary {
  const fields = readFields(buf);
  const dec = new TextDecoder();
  const s: OnnxSummary = { irVersion: 0, opset: null, producer: '', metadata: {} };
  let graph = false;
  for (const f of fields) {
    if (f.field === 1 && f.value !== undefined) s.irVersion = Number(f.value);
    else if (f.field === 2 && f.bytes) s.producer = dec.decode(f.bytes);
    else if (f.field === 7 && f.bytes) {
      graph = true;
      for (const gf of readFields(f.bytes))
        if (gf.bytes && gf.field !== 2 && gf.field !== 10) readFields(gf.bytes);
    } else if (f.field === 8 && f.bytes) {
      const op = readFields(f.bytes);
      const domain = op.find((x) => x.field === 1)?.bytes;
      if (!domain || !domain.length) s.opset = Number(op.find((x) => x.field === 2)?.value ?? 0n);
    } else if (f.field === 14 && f.bytes) {
      const kv = readFields(f.bytes);
      const k = kv.find((x) => x.field === 1)?.bytes;
      const v = kv.find((x) => x.field === 2)?.bytes;
      if (k) s.metadata[dec.decode(k)] = v ? dec.decode(v) : '';
    }
  }
  if (!s.irVersion || !graph) throw new ProtoError('no IR version or no graph: not an ONNX model');
  return s;
}
