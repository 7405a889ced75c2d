import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { bindSynthetic, toOnnx, type Graph } from '@sdxs/graph';
import { DTYPE_BYTES, shapeSize } from '@sdxs/tensor';
import { buildUNetGraph, parseUNetConfig } from '@sdxs/unet';
import { SDXS512_UNET } from '../models/full-size-configs.js';
import { median } from '../stats.js';
import { onnxModelType } from './onnx-schema.js';
import { decodedJson, interleaved, toOnnxWithProtobufjs, type ProtobufComparison } from './protobuf.js';

const MICRO_UNET = fileURLToPath(new URL('../../../../packages/model-micro/models/sdxs-micro/unet/config.json', import.meta.url));

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** The full-size U-Net with every parameter pointing into a (notional) safetensors file, as the Node pipeline binds it. */
function externalUNet(): Graph {
  const { graph } = buildUNetGraph(SDXS512_UNET, { batch: 1, height: 64, width: 64, timestep: 'scalar' });
  let offset = 0;
  for (const name of graph.parameterNames) {
    const init = graph.initializers.get(name);
    if (!init) continue;
    const length = shapeSize(init.shape) * DTYPE_BYTES[init.dtype];
    graph.bind(name, { location: 'unet.safetensors', offset, length });
    offset += length;
  }
  return graph;
}

async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const out = await session.run(feeds);
    return session.outputNames.map((n) => out[n]!.data as Float32Array);
  } finally {
    await session.release();
  }
}

/** toOnnx against protobufjs: full-size serialization time and equivalence, micro model run equivalence. */
export async function compareProtobuf(log: (s: string) => void, runs: number): Promise<ProtobufComparison> {
  const type = onnxModelType();
  const unet = externalUNet();
  const ours = toOnnx(unet);
  const lib = toOnnxWithProtobufjs(type, unet);
  const [oursMs, libMs] = await interleaved(runs, () => toOnnx(unet), () => toOnnxWithProtobufjs(type, unet));
  const full = {
    nodes: unet.nodes.length,
    initializers: unet.initializers.size,
    ours_bytes: ours.length,
    lib_bytes: lib.length,
    bytes_identical: sameBytes(ours, lib),
    decoded_equal: decodedJson(type, ours) === decodedJson(type, lib),
    ours_ms: median(oursMs),
    lib_ms: median(libMs),
  };
  log(`protobuf: U-Net ${full.nodes} nodes, toOnnx ${full.ours_ms.toFixed(1)} ms, protobufjs ${full.lib_ms.toFixed(1)} ms; decoded equal ${full.decoded_equal}`);

  const config = parseUNetConfig(JSON.parse(await readFile(MICRO_UNET, 'utf8')), MICRO_UNET);
  const { graph } = buildUNetGraph(config, { batch: 1, timestep: 'scalar' });
  bindSynthetic(graph, 1);
  const a = toOnnx(graph);
  const b = toOnnxWithProtobufjs(type, graph);
  const [mOurs, mLib] = await interleaved(runs, () => toOnnx(graph), () => toOnnxWithProtobufjs(type, graph));
  const feeds: Record<string, ort.Tensor> = {};
  for (const v of graph.inputs) {
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : 1));
    const data = Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i * 0.37));
    feeds[v.name] = new ort.Tensor('float32', data, shape);
  }
  const [ra, rb] = [await run(a, feeds), await run(b, feeds)];
  const outputsIdentical = ra.length === rb.length && ra.every((x, i) => sameBytes(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), new Uint8Array(rb[i]!.buffer, rb[i]!.byteOffset, rb[i]!.byteLength)));
  const micro = { bytes: a.length, bytes_identical: sameBytes(a, b), decoded_equal: decodedJson(type, a) === decodedJson(type, b), outputs_identical: outputsIdentical, ours_ms: median(mOurs), lib_ms: median(mLib) };
  log(`protobuf: micro U-Net ${(a.length / 1e6).toFixed(1)} MB inline, outputs identical ${outputsIdentical}`);
  return { unet: full, micro };
}
