/**
 * OpenAI's images API: `POST /v1/images/generations` (prompt, model, n, size, response_format, output_format png|jpeg|webp,
 * output_compression; `seed`,
 * `negative_prompt`, `steps` and `guidance_scale` as extensions) and `GET /v1/models`. Errors in OpenAI's shape,
 * `{ error: { message, type, param, code } }`, so its SDKs raise them as they would the real API's.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, ServeError } from '../errors.js';
import { jobSeeds } from '../job.js';
import { checkImages, checkSide, runJob, seedSchema, type RouteContext } from './common.js';

interface GenerationsBody {
  prompt: string;
  model?: string;
  n?: number;
  size?: string;
  response_format?: 'b64_json' | 'url';
  output_format?: 'png' | 'jpeg' | 'webp';
  output_compression?: number;
  seed?: number | string;
  negative_prompt?: string;
  steps?: number;
  guidance_scale?: number;
}

/** OpenAI's error object for a status. */
export function openAiError(e: ServeError): { error: { message: string; type: string; param: null; code: string | null } } {
  const type = e.status === 429 ? 'rate_limit_error' : e.status >= 500 ? 'server_error' : e.status === 401 ? 'authentication_error' : 'invalid_request_error';
  return { error: { message: e.message, type, param: null, code: e.status === 429 ? 'rate_limit_exceeded' : null } };
}

export function openAiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const body = {
    type: 'object',
    required: ['prompt'],
    properties: {
      prompt: { type: 'string', minLength: 1, maxLength: ctx.limits.maxPromptChars },
      model: { type: 'string', maxLength: 512 },
      n: { type: 'integer' },
      size: { type: 'string', maxLength: 32 },
      response_format: { type: 'string', enum: ['b64_json', 'url'] },
      output_format: { type: 'string', enum: ['png', 'jpeg', 'webp'] },
      output_compression: { type: 'integer', minimum: 0, maximum: 100 },
      seed: seedSchema,
      negative_prompt: { type: 'string', maxLength: ctx.limits.maxPromptChars },
      steps: { type: 'integer', minimum: 1, maximum: ctx.limits.maxSteps },
      guidance_scale: { type: 'number', minimum: 0, maximum: 100 },
    },
  } as const;

  app.post<{ Body: GenerationsBody }>('/v1/images/generations', { schema: { body } }, async (request, reply) => {
    const b = request.body;
    const n = checkImages('n', b.n ?? 1, ctx.limits);
    let width: number | undefined;
    let height: number | undefined;
    if (b.size !== undefined && b.size !== 'auto') {
      const m = /^(\d+)x(\d+)$/.exec(b.size);
      if (!m) throw badRequest(`"size" must be WIDTHxHEIGHT (e.g. 512x512) or auto, got ${JSON.stringify(b.size)}`);
      width = checkSide('size', Number(m[1]), ctx.limits);
      height = checkSide('size', Number(m[2]), ctx.limits);
    }
    const result = await runJob(
      ctx,
      {
        model: b.model ?? '',
        prompt: b.prompt,
        negativePrompt: b.negative_prompt ?? '',
        seeds: jobSeeds(b.seed, n),
        ...(b.steps !== undefined ? { steps: b.steps } : {}),
        ...(b.guidance_scale !== undefined ? { guidanceScale: b.guidance_scale } : {}),
        ...(width !== undefined ? { width } : {}),
        ...(height !== undefined ? { height } : {}),
        ...(b.output_format !== undefined ? { format: b.output_format } : {}),
        ...(b.output_compression !== undefined ? { quality: b.output_compression } : {}),
      },
      reply,
    );
    // No file hosting: a `url` is a data: URL, which browsers and fetch() read like any other.
    const url = b.response_format === 'url';
    const format = b.output_format ?? 'png';
    return {
      created: Math.floor(Date.now() / 1000),
      data: result.images.map((file, i) => ({ ...(url ? { url: `data:image/${format};base64,${file}` } : { b64_json: file }), revised_prompt: b.prompt, seed: result.seeds[i] })),
      size: `${result.width}x${result.height}`,
      output_format: format,
    };
  });

  app.get('/v1/models', async () => ({
    object: 'list',
    data: ctx.modelNames().map((id) => ({ id, object: 'model', created: 0, owned_by: 'sdxs' })),
  }));
}
