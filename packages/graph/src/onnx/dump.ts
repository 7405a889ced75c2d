import type { AttrValue } from '../attributes.js';
import { formatDims } from '../dim.js';
import type { Graph } from '../graph.js';

function formatAttr(a: AttrValue): string {
  switch (a.type) {
    case 'ints':
    case 'floats':
      return `[${a.value.join(', ')}]`;
    case 'strings':
      return `[${a.value.map((s) => JSON.stringify(s)).join(', ')}]`;
    case 'string':
      return JSON.stringify(a.value);
    case 'tensor':
      return `tensor(${a.value.dtype}${formatDims(a.value.shape)})`;
    default:
      return String(a.value);
  }
}

/**
 * A readable text listing of a graph: inputs, initializers (shape and where their data lives), nodes with
 * attributes and output shapes, outputs. Stable across runs, so it works as a test snapshot.
 */
export function dumpGraph(graph: Graph): string {
  const lines: string[] = [`graph ${graph.name} (opset ${graph.opset}, target ${graph.target})`];
  for (const v of graph.inputs) lines.push(`  input  ${v.name}: ${v.dtype}${formatDims(v.shape)}`);
  for (const i of graph.initializers.values()) {
    const where = i.data === undefined ? 'unbound' : 'location' in i.data ? `external ${i.data.location}@${i.data.offset}+${i.data.length}` : 'inline';
    lines.push(`  init   ${i.name}: ${i.dtype}${formatDims(i.shape)} ${where}`);
  }
  for (const n of graph.nodes) {
    const outs = n.outputs.map((o) => {
      const v = graph.value(o);
      return `${o}: ${v.dtype}${formatDims(v.shape)}`;
    });
    const attrs = Object.entries(n.attributes).map(([k, a]) => `${k}=${formatAttr(a)}`);
    const op = n.domain ? `${n.domain}.${n.opType}` : n.opType;
    lines.push(`  ${outs.join(', ')} = ${op}(${n.inputs.join(', ')})${attrs.length ? ` {${attrs.join(', ')}}` : ''}`);
  }
  for (const v of graph.outputs) lines.push(`  output ${v.name}: ${v.dtype}${formatDims(v.shape)}`);
  return lines.join('\n') + '\n';
}
