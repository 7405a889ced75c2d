import { SafetensorsFile, type ModelSource } from '@sdxs/tensor';

/** Base names diffusers (`diffusion_pytorch_model`) and transformers (`model`) give weight files. */
const BASES = ['diffusion_pytorch_model', 'model'] as const;

export interface WeightFileOptions {
  /** Prefer `<base>.<variant>.safetensors` (e.g. 'fp16'), as diffusers' `variant=` does; falls back to the plain file. */
  variant?: string;
}

function join(dir: string, file: string): string {
  return dir ? `${dir}/${file}` : file;
}

/**
 * The safetensors files holding a component's weights, inside `dir` of `source` (e.g. `unet`): a single
 * file, or the shards listed by `<base>.safetensors.index.json`. Variant files are preferred when asked for.
 */
export async function findWeightFiles(source: ModelSource, dir: string, options: WeightFileOptions = {}): Promise<string[]> {
  const variants = options.variant ? [`.${options.variant}`, ''] : [''];
  const tried: string[] = [];
  for (const v of variants) {
    for (const base of BASES) {
      const single = join(dir, `${base}${v}.safetensors`);
      tried.push(single);
      if (await source.exists(single)) return [single];
      const index = `${single}.index.json`;
      tried.push(index);
      if (await source.exists(index)) return shardsOf(source, dir, index);
    }
  }
  for (const base of BASES) {
    const bin = join(dir, `${base}.bin`);
    if (await source.exists(bin)) {
      throw new Error(`${source.id}/${bin}: PyTorch pickle weights are not supported (they can run code when loaded); use the model's .safetensors files`);
    }
  }
  throw new Error(`${source.id}/${dir || '.'}: no weights found (looked for ${tried.join(', ')})`);
}

async function shardsOf(source: ModelSource, dir: string, index: string): Promise<string[]> {
  const where = `${source.id}/${index}`;
  let json: unknown;
  try {
    json = JSON.parse(await source.readText(index));
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const map = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error(`${where}: field "weight_map" is missing or not an object`);
  const files = new Set<string>();
  for (const [key, file] of Object.entries(map)) {
    // Shard names come from a downloaded file: never let them walk out of the component folder.
    if (typeof file !== 'string' || !/^[\w.-]+\.safetensors$/.test(file) || file.includes('..')) {
      throw new Error(`${where}: weight_map["${key}"] is not a safetensors file name in this folder: ${JSON.stringify(file)}`);
    }
    files.add(join(dir, file));
  }
  if (files.size === 0) throw new Error(`${where}: weight_map is empty`);
  return [...files];
}

/** Open a component's weight files as SafetensorsFiles (close them when done). */
export async function openWeightFiles(source: ModelSource, dir: string, options: WeightFileOptions = {}): Promise<SafetensorsFile[]> {
  const paths = await findWeightFiles(source, dir, options);
  const files: SafetensorsFile[] = [];
  try {
    for (const p of paths) files.push(await SafetensorsFile.open(await source.open(p)));
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
  return files;
}
