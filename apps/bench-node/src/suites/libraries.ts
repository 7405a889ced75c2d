/**
 * `pnpm bench libraries`: the hand-written hub client, CLIP tokenizer and ONNX protobuf writer against the
 * well-kept libraries (@huggingface/hub, @huggingface/tokenizers, protobufjs), each pair in this process,
 * interleaved, on the same inputs; the table behind docs/libraries.md. Option: `--runs N` (default 7).
 */
import { fileURLToPath } from 'node:url';
import { compareHub, type HubComparison } from '../libraries/hub.js';
import { installedBytes, sourceBytes } from '../libraries/install-size.js';
import { compareProtobuf } from '../libraries/protobuf-bench.js';
import type { ProtobufComparison } from '../libraries/protobuf.js';
import { compareTokenizer, type TokenizerComparison } from '../libraries/tokenizer.js';
import { positiveInt } from '../suite-options.js';

export interface LibrariesResults {
  hub: HubComparison;
  tokenizer: TokenizerComparison;
  protobuf: ProtobufComparison;
  /** Bytes installed (the package and its dependencies) and bytes of our source it would replace. */
  sizes: Record<string, { library: number; ours: number }>;
}

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const MB = (n: number) => (n < 1e6 ? `${(n / 1e3).toFixed(0)} kB` : `${(n / 1e6).toFixed(2)} MB`);

export async function runLibraries(log: (s: string) => void, args: readonly string[] = []): Promise<LibrariesResults> {
  const runs = positiveInt(args, '--runs', 7);
  const from = here('../..');
  const sizes = {
    '@huggingface/hub': { library: await installedBytes('@huggingface/hub', from), ours: await sourceBytes(here('../../../../packages/runtime-node/src/hub')) },
    '@huggingface/tokenizers': { library: await installedBytes('@huggingface/tokenizers', from), ours: await sourceBytes(here('../../../../packages/clip/src/tokenizer')) },
    protobufjs: { library: await installedBytes('protobufjs', from), ours: await sourceBytes(here('../../../../packages/graph/src/onnx/proto-writer.ts')) },
  };
  const tokenizer = await compareTokenizer(log, runs);
  const protobuf = await compareProtobuf(log, runs);
  const hub = await compareHub(log, Math.max(3, Math.ceil(runs / 2)));

  const t = tokenizer;
  const rows = [
    ['component', 'library', 'correctness (ours / library)', 'speed (ours / library)', 'installed (library / our source)'],
    [
      'hub client',
      '@huggingface/hub',
      `${hub.scenarios.filter((s) => s.ours_passes).length} / ${hub.scenarios.filter((s) => s.lib_passes).length} of ${hub.scenarios.length} scenarios`,
      `64 MB download ${hub.download.ours_ms.toFixed(0)} / ${hub.download.lib_ms.toFixed(0)} ms (${(hub.download.lib_ms / hub.download.ours_ms).toFixed(2)}× ours faster)`,
      `${MB(sizes['@huggingface/hub'].library)} / ${MB(sizes['@huggingface/hub'].ours)}`,
    ],
    [
      'CLIP tokenizer',
      '@huggingface/tokenizers',
      `golden ${t.golden.ours_equal} / ${t.golden.lib_equal} of ${t.golden.cases}; generated: ${t.generated.differ} of ${t.generated.prompts} differ (${t.generated.differ_without_capital_sigma} without Σ)`,
      `${(t.tokens_per_s.ours / 1e6).toFixed(2)} / ${(t.tokens_per_s.lib / 1e6).toFixed(2)} M tokens/s (${(t.tokens_per_s.ours / t.tokens_per_s.lib).toFixed(1)}×); load ${t.load_ms.ours.toFixed(0)} / ${t.load_ms.lib.toFixed(0)} ms + ${t.load_ms.convert.toFixed(0)} ms tokenizer.json`,
      `${MB(sizes['@huggingface/tokenizers'].library)} / ${MB(sizes['@huggingface/tokenizers'].ours)}`,
    ],
    [
      'ONNX protobuf writer',
      'protobufjs',
      `decoded equal ${protobuf.unet.decoded_equal && protobuf.micro.decoded_equal}, ORT outputs identical ${protobuf.micro.outputs_identical}, bytes identical ${protobuf.unet.bytes_identical}`,
      `SDXS-512 U-Net (external data) ${protobuf.unet.ours_ms.toFixed(1)} / ${protobuf.unet.lib_ms.toFixed(1)} ms; micro U-Net inline ${protobuf.micro.ours_ms.toFixed(1)} / ${protobuf.micro.lib_ms.toFixed(1)} ms`,
      `${MB(sizes.protobufjs.library)} / ${MB(sizes.protobufjs.ours)}`,
    ],
  ];
  log('');
  for (const [i, r] of rows.entries()) {
    log(`| ${r.join(' | ')} |`);
    if (i === 0) log(`|${r.map(() => ' --- ').join('|')}|`);
  }
  return { hub, tokenizer, protobuf, sizes };
}
