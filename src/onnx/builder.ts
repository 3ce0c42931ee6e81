/**
 * A small ONNX graph builder: named inputs and outputs, nodes appended in topological order
 * (each call returns the name of its output value), constants and weights as initializers.
 * Weights are stored as float32, or float16 followed by a Cast to float32, so the whole graph
 * computes in float32 either way.
 */
import { f32ToF16 } from '../io/halfs.ts';
import { AttrType, DataType, type AttributeMsg, type DataTypeId, type ModelMsg, type NodeMsg, type TensorMsg, type ValueInfoMsg } from './proto.ts';

export type WeightStorage = 'f32' | 'f16';

export type Attr =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'ints'; v: number[] }
  | { kind: 'tensor'; v: TensorMsg };

export const int = (v: number): Attr => ({ kind: 'int', v });
export const float = (v: number): Attr => ({ kind: 'float', v });
export const ints = (v: number[]): Attr => ({ kind: 'ints', v });

function attribute(name: string, a: Attr): AttributeMsg {
  switch (a.kind) {
    case 'int': return { name, type: AttrType.INT, i: a.v };
    case 'float': return { name, type: AttrType.FLOAT, f: a.v };
    case 'ints': return { name, type: AttrType.INTS, ints: a.v };
    case 'tensor': return { name, type: AttrType.TENSOR, t: a.v };
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  const u8 = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  // ONNX raw_data is little-endian; typed arrays are host-endian (little-endian on every target tsugiki runs on).
  return u8;
}

export class GraphBuilder {
  private nodes: NodeMsg[] = [];
  private initializers: TensorMsg[] = [];
  private inputs: ValueInfoMsg[] = [];
  private outputs: ValueInfoMsg[] = [];
  private names = new Set<string>();
  private counter = 0;
  private constCache = new Map<string, string>();

  constructor(readonly storage: WeightStorage) {}

  /** A fresh value name from a readable stem. */
  fresh(stem: string): string {
    let name = stem;
    while (this.names.has(name)) name = `${stem}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeId, dims: (number | string)[]): string {
    this.names.add(name);
    this.inputs.push({ name, elemType, dims });
    return name;
  }

  /** Declares a graph output; `value` is renamed through an Identity node when it has another name. */
  output(name: string, value: string, elemType: DataTypeId, dims: (number | string)[]): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push({ name, elemType, dims });
  }

  /** Appends a node with one output; returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outName?: string): string {
    const out = outName ?? this.fresh(`/${opType.toLowerCase()}`);
    if (outName) this.names.add(outName);
    this.nodes.push({
      opType,
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)),
    });
    return out;
  }

  private initializer(name: string, dataType: DataTypeId, dims: number[], raw: Uint8Array): string {
    this.names.add(name);
    this.initializers.push({ name, dims, dataType, rawData: raw });
    return name;
  }

  /** An int64 constant (shapes, axes, indices), shared between uses. */
  i64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(this.fresh('const_i64'), DataType.INT64, dims, bytesOf(BigInt64Array.from(values, (v) => BigInt(v))));
    this.constCache.set(key, name);
    return name;
  }

  /** A float32 constant, shared between uses; `[]` dims makes a scalar. */
  f32(values: number[], dims: number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.initializer(this.fresh('const_f32'), DataType.FLOAT, dims, bytesOf(Float32Array.from(values)));
    this.constCache.set(key, name);
    return name;
  }

  /** A float32 table computed at export (e.g. RoPE inverse frequencies), always stored as float32. */
  table(name: string, values: Float32Array, dims: number[]): string {
    return this.initializer(this.fresh(name), DataType.FLOAT, dims, bytesOf(values));
  }

  /** A model weight in the chosen storage; returns a float32 value (a Cast follows float16 storage). */
  weight(name: string, values: Float32Array, dims: number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`weight '${name}': ${values.length} values but shape [${dims.join(', ')}] needs ${n}`);
    if (this.storage === 'f32') return this.initializer(this.fresh(name), DataType.FLOAT, dims, bytesOf(values));
    const half = this.initializer(this.fresh(name), DataType.FLOAT16, dims, bytesOf(f32ToF16(values)));
    return this.op('Cast', [half], { to: int(DataType.FLOAT) }, this.fresh(`${name}/f32`));
  }

  model(graphName: string, producerVersion: string, docString: string, metadata: Record<string, string> = {}): ModelMsg {
    return {
      graphName, producerVersion, docString, metadata,
      nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs,
    };
  }
}
