/**
 * How the CLI fails: one line on stderr, naming what is wrong and what to do about it, and an exit code
 * (2: the command line itself is wrong; 1: anything else). `--verbose` adds the stack and causes.
 */
import { CheckpointError, GraphError } from '@sdxs/graph';
import { SafetensorsError } from '@sdxs/tensor';
import { HubError, type HubErrorCode, ProviderUnavailableError } from '@sdxs/runtime-node';
import { PngError } from '@sdxs/image';

/** The command line is wrong (unknown flag, bad value, missing argument): exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The command whose `--help` explains the usage ('' for the top level). */
  readonly command: string;

  constructor(message: string, command = '') {
    super(message);
    this.command = command;
  }
}

/** A failure with advice of its own (exit 1). */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly hint: string | undefined;

  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.hint = hint;
  }
}

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const HUB_HINTS: Partial<Record<HubErrorCode, string>> = {
  'invalid-repo-id': 'give a diffusers model folder or a Hugging Face repo id such as IDKiro/sdxs-512-dreamshaper',
  'unsafe-path': 'the repo lists a file name that could escape the cache; nothing was written',
  'offline-missing': 'unset HF_HUB_OFFLINE and run once with network access, or give a local model folder',
  'not-found': 'check the repo id (owner/name) and --revision',
  unauthorized: 'set HF_TOKEN to a token that can read this repo (or run `huggingface-cli login`)',
  gated: 'accept the model\'s terms on its Hugging Face page, then set HF_TOKEN',
  network: 'check the network connection; HF_ENDPOINT selects a mirror',
  timeout: 'the hub went quiet; run again (downloads resume), or raise HF_HUB_DOWNLOAD_TIMEOUT',
  integrity: 'run again: nothing damaged was kept in the cache',
  'disk-full': 'free some disk space, or point HF_HUB_CACHE at a larger disk',
};

const DAMAGED = 'the model files look damaged or incomplete: download or convert them again';

// Config errors of the model packages, by name: importing each package only to test instanceof would make
// them all dependencies of the CLI.
const CONFIG_ERRORS = new Set(['UNetConfigError', 'ConfigError', 'SchedulerConfigError', 'TokenizerFileError', 'ControlNetConfigError']);

/** Advice for a failure, when there is any. */
export function hintFor(e: unknown): string | undefined {
  if (e instanceof CliError) return e.hint;
  if (e instanceof UsageError) return `see \`sdxs ${e.command ? `${e.command} ` : ''}--help\``;
  if (e instanceof HubError) return HUB_HINTS[e.code];
  if (e instanceof ProviderUnavailableError) return 'run on the CPU with --ep cpu';
  if (e instanceof SafetensorsError || e instanceof CheckpointError) return DAMAGED;
  if (e instanceof PngError) return 'check the image file';
  if (e instanceof Error && CONFIG_ERRORS.has(e.name)) return 'the model folder holds a config sdxs cannot read: is it a diffusers StableDiffusionPipeline folder?';
  if (e instanceof GraphError) return 'the model\'s config.json describes something sdxs cannot build; check it, or run with --verbose and report it';
  const code = errnoCode(e);
  if (code === 'ENOSPC') return 'free some disk space';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'check the permissions of the output path';
  return undefined;
}

/** `err.code` of a Node system error. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  return typeof e.code === 'string' ? e.code : undefined;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** Longest message printed without --verbose: anything longer is cut (untrusted files can put text in messages). */
const MAX_MESSAGE = 600;

/**
 * The one line that reports `e`: its message on one line (newlines folded, cut at 600 characters) and a hint.
 *
 * @example
 * errorLine(new UsageError('--steps: expected a number, got "x"', 'generate'), 'generate');
 * // 'sdxs generate: --steps: expected a number, got "x" (see `sdxs generate --help`)'
 */
export function errorLine(e: unknown, command: string): string {
  let message = messageOf(e).replace(/\s*\n\s*/g, ' — ').trim();
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE)}…`;
  const hint = hintFor(e);
  return `sdxs${command ? ` ${command}` : ''}: ${message}${hint ? ` (${hint})` : ''}`;
}

/** The stack of `e` and of each cause, for --verbose. */
export function errorDetails(e: unknown): string {
  const parts: string[] = [];
  let current: unknown = e;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    parts.push(depth === 0 ? '' : 'Caused by:', current instanceof Error ? (current.stack ?? messageOf(current)) : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.filter(Boolean).join('\n');
}

/** Exit code for a failure. */
export function exitCodeOf(e: unknown): number {
  return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}
