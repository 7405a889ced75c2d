import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveGoldenPath } from './links.js';

/** A golden model folder rebuilt with real symlinks, and how to remove it. */
export interface MaterializedFolder {
  readonly path: string;
  cleanup(): void;
}

function mirror(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) mirror(src, dst);
    // resolveGoldenPath follows both real links and the text-file stand-ins a link-less checkout leaves.
    else symlinkSync(resolveGoldenPath(src), dst);
  }
}

/**
 * Product code follows real symlinks only (as Hugging Face caches need), but a checkout without symlink
 * support stores ../shared/golden's links as small text files holding the target path. This rebuilds a case's
 * model folder (e.g. `pipeline-sdxs512-t2i/model`) in a temp dir with every file a real, absolute symlink to
 * the resolved data, so the ordinary loaders can read it.
 *
 * @example
 * const model = materializeModelFolder(join(caseDir, 'model'));
 * try { await StableDiffusionPipeline.load(new LocalFolderSource(model.path), runtime); } finally { model.cleanup(); }
 */
export function materializeModelFolder(dir: string): MaterializedFolder {
  const root = mkdtempSync(join(tmpdir(), 'sdxs-model-'));
  const path = join(root, 'model');
  try {
    mirror(dir, path);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return { path, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
