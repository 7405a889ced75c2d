/**
 * The model folders the browser test and `pnpm demo --golden` serve: ../shared/golden's SDXS-512-layout
 * pipeline (tiny random weights, 128×128) and its ControlNet, rebuilt with real symlinks (a checkout without
 * symlink support stores the links as text files).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { materializeModelFolder, type MaterializedFolder } from '../../../../tools/golden/materialize.js';

export const GOLDEN_DIR = fileURLToPath(new URL('../../../../../shared/golden/', import.meta.url));

export interface GoldenModels {
  /** name → folder, for demoViteConfig's `models`. */
  readonly folders: { readonly sdxs: string; readonly sketch: string };
  /** Where the folders' symlinks point: the shared folder holding the golden data (its cases link to each other and to shared files like clip-tokenizer/), for demoViteConfig's `linkRoots`. */
  readonly linkRoots: readonly string[];
  cleanup(): void;
}

/**
 * `sdxs`: pipeline-sdxs512-t2i/model; `sketch`: the controlnet-sdxs512 case (a ControlNetModel folder: config.json
 * and model.safetensors at its root).
 *
 * @example
 * const golden = materializeGoldenModels(); try { … } finally { golden.cleanup(); }
 */
export function materializeGoldenModels(dir = GOLDEN_DIR): GoldenModels {
  const pipeline = join(dir, 'pipeline-sdxs512-t2i', 'model');
  const controlnet = join(dir, 'controlnet-sdxs512');
  if (!existsSync(pipeline)) throw new Error(`no golden model folder at ${pipeline}`);
  const sdxs = materializeModelFolder(pipeline);
  let sketch: MaterializedFolder;
  try {
    sketch = materializeModelFolder(controlnet);
  } catch (e) {
    sdxs.cleanup();
    throw e;
  }
  return {
    folders: { sdxs: sdxs.path, sketch: sketch.path },
    linkRoots: [dirname(resolve(dir))],
    cleanup: () => {
      sdxs.cleanup();
      sketch.cleanup();
    },
  };
}
