/**
 * `sdxs convert --to single-file | diffusers`: between a diffusers folder and one original-layout checkpoint
 * (`model.safetensors` as A1111 reads it). Both are plans over the input's bytes (@sdxs/pipeline's single-file/),
 * streamed to disk: the file appears whole or not at all (temporary file, then rename), likewise the folder.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { diffusersToLdm, SingleFileSource, virtualSafetensors } from '@sdxs/pipeline';
import { publish, streamFileAtomic } from '../atomic.js';
import { UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { openModelSource, type ModelFlags } from '../model.js';
import type { Reporter } from '../progress.js';

/** The formats `--to` names. */
export const CONVERT_FORMATS = ['onnx', 'single-file', 'diffusers'] as const;

/**
 * Write the model (a diffusers folder or repo id) as one LDM-layout checkpoint at `out` (absolute).
 *
 * @example
 * await convertToSingleFile(flags, '/tmp/model.safetensors', io, progress);
 */
export async function convertToSingleFile(flags: ModelFlags, out: string, cli: CliIO, progress: Reporter): Promise<void> {
  const opened = await openModelSource(flags, cli, progress);
  if (opened.source instanceof SingleFileSource) throw new UsageError(`${flags.model} is already a single-file checkpoint`, 'convert');
  const { tensors, close } = await diffusersToLdm(opened.source);
  try {
    progress.status(`writing ${basename(out)}…`);
    await streamFileAtomic(out, virtualSafetensors(out, tensors, { format: 'pt' }));
  } finally {
    await close();
  }
  cli.stdout.write(`${out}\n`);
}

/**
 * Write a single-file checkpoint as a diffusers folder at `out` (absolute; `empty` as isEmptyDir says): every file
 * its SingleFileSource presents — model_index.json, configs, weights, scheduler, tokenizer.
 *
 * @example
 * await convertToDiffusers(flags, '/tmp/model', undefined, io, progress);
 */
export async function convertToDiffusers(flags: ModelFlags, out: string, empty: boolean | undefined, cli: CliIO, progress: Reporter): Promise<void> {
  const opened = await openModelSource(flags, cli, progress);
  const source = opened.source;
  if (!(source instanceof SingleFileSource)) throw new UsageError(`--to diffusers converts a single-file checkpoint (.safetensors); ${flags.model} is a diffusers model already`, 'convert');
  const stage = join(dirname(out), `.${basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const path of source.files().sort()) {
      const target = join(stage, path);
      await mkdir(dirname(target), { recursive: true });
      if (path.endsWith('.safetensors')) {
        progress.status(`writing ${path}…`);
        const bytes = await source.open(path);
        try {
          await streamFileAtomic(target, bytes);
        } finally {
          await bytes.close?.();
        }
      } else {
        await writeFile(target, await source.readText(path));
      }
    }
    await publish(stage, out, empty);
  } catch (e) {
    await rm(stage, { recursive: true, force: true });
    throw e;
  } finally {
    await source.close();
  }
  cli.stdout.write(`${out}\n`);
}
