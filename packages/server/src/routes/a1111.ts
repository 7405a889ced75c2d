/**
 * AUTOMATIC1111's web UI API, the fields that apply: `POST /sdapi/v1/txt2img` and `/sdapi/v1/img2img` (prompt,
 * negative_prompt, seed (−1 random), steps, cfg_scale, width, height, batch_size × n_iter, init_images,
 * denoising_strength, override_settings.sd_model_checkpoint), `GET /sdapi/v1/sd-models`. Unknown fields are
 * ignored, as A1111 does; omitted ones take the model's defaults (one step, no guidance for SDXS), not A1111's
 * (20 steps, CFG 7), which would be wrong for a one-step model. The response is A1111's: images, the parameters
 * echoed, and `info` as a JSON string with the seeds and infotexts.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { badRequest } from '../errors.js';
import { jobSeeds, type ImageJob } from '../job.js';
import { checkImages, checkSide, runJob, seedSchema, type RouteContext } from './common.js';

interface Txt2ImgBody {
  prompt?: string;
  negative_prompt?: string;
  seed?: number | string;
  steps?: number;
  cfg_scale?: number;
  width?: number;
  height?: number;
  batch_size?: number;
  n_iter?: number;
  override_settings?: { sd_model_checkpoint?: string };
  [unknown: string]: unknown;
}

interface Img2ImgBody extends Txt2ImgBody {
  init_images: string[];
  denoising_strength?: number;
}

function bodySchema(ctx: RouteContext, img2img: boolean) {
  return {
    type: 'object',
    ...(img2img ? { required: ['init_images'] } : {}),
    properties: {
      prompt: { type: 'string', maxLength: ctx.limits.maxPromptChars },
      negative_prompt: { type: 'string', maxLength: ctx.limits.maxPromptChars },
      seed: seedSchema,
      steps: { type: 'integer', minimum: 1, maximum: ctx.limits.maxSteps },
      cfg_scale: { type: 'number', minimum: 0, maximum: 100 },
      width: { type: 'integer' },
      height: { type: 'integer' },
      batch_size: { type: 'integer', minimum: 1 },
      n_iter: { type: 'integer', minimum: 1 },
      override_settings: { type: 'object', properties: { sd_model_checkpoint: { type: 'string', maxLength: 512 } } },
      ...(img2img ? { init_images: { type: 'array', minItems: 1, items: { type: 'string' } }, denoising_strength: { type: 'number', minimum: 0, maximum: 1 } } : {}),
    },
  } as const;
}

/** An init image as base64: A1111 accepts a bare string or a data: URL. */
function stripDataUrl(image: string): string {
  const m = /^data:image\/[a-z]+;base64,/i.exec(image);
  return m ? image.slice(m[0].length) : image;
}

function jobOf(ctx: RouteContext, b: Txt2ImgBody, init?: ImageJob['init']): ImageJob {
  const images = checkImages('batch_size × n_iter', (b.batch_size ?? 1) * (b.n_iter ?? 1), ctx.limits);
  const width = checkSide('width', b.width, ctx.limits);
  const height = checkSide('height', b.height, ctx.limits);
  return {
    model: b.override_settings?.sd_model_checkpoint ?? '',
    prompt: b.prompt ?? '',
    negativePrompt: b.negative_prompt ?? '',
    seeds: jobSeeds(b.seed, images),
    ...(b.steps !== undefined ? { steps: b.steps } : {}),
    ...(b.cfg_scale !== undefined ? { guidanceScale: b.cfg_scale } : {}),
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
    ...(init ? { init } : {}),
  };
}

async function answer(ctx: RouteContext, b: Txt2ImgBody, job: ImageJob, reply: FastifyReply) {
  const r = await runJob(ctx, job, reply);
  const info = {
    prompt: job.prompt,
    all_prompts: r.seeds.map(() => job.prompt),
    negative_prompt: job.negativePrompt,
    all_negative_prompts: r.seeds.map(() => job.negativePrompt),
    seed: Number(r.seeds[0]),
    all_seeds: r.seeds.map(Number),
    subseed: -1,
    all_subseeds: r.seeds.map(() => -1),
    width: r.width,
    height: r.height,
    steps: r.steps,
    cfg_scale: r.guidanceScale,
    sd_model_name: r.model,
    batch_size: b.batch_size ?? 1,
    infotexts: r.infotexts,
    ...(job.init ? { denoising_strength: job.init.strength } : {}),
  };
  return { images: r.images, parameters: b, info: JSON.stringify(info) };
}

export function a1111Routes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: Txt2ImgBody }>('/sdapi/v1/txt2img', { schema: { body: bodySchema(ctx, false) } }, async (request, reply) => {
    return answer(ctx, request.body, jobOf(ctx, request.body), reply);
  });

  app.post<{ Body: Img2ImgBody }>('/sdapi/v1/img2img', { schema: { body: bodySchema(ctx, true) } }, async (request, reply) => {
    const b = request.body;
    if (b.init_images.length > 1) throw badRequest(`"init_images" has ${b.init_images.length} images; this server takes one`);
    const init = { png: stripDataUrl(b.init_images[0]!), strength: b.denoising_strength ?? 0.75 };
    return answer(ctx, b, jobOf(ctx, b, init), reply);
  });

  app.get('/sdapi/v1/sd-models', async () => ctx.modelNames().map((name) => ({ title: name, model_name: name, hash: null, sha256: null, filename: name, config: null })));
}
