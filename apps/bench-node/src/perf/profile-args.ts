/** Command-line options of perf/profile-cpu.ts (documented there). */
import { IMPLS, type CompositeImpls, type CompositeName, type LoweringOverrides } from '@sdxs/graph';
import { NETS, type Net } from './networks.js';

export interface ProfileArgs {
  nets: Net[];
  size: number;
  runs: number;
  /** Runs of each MatMul roofline measurement. */
  peakRuns: number;
  lowering: LoweringOverrides;
  opt: 'all' | 'extended' | 'basic' | 'disabled';
  threads?: number;
  /** Session config entries (onnxruntime's `session.*` keys). */
  config: Record<string, string>;
  memPattern: boolean;
  profile: boolean;
  /** Slowest nodes listed per network. */
  top: number;
  json?: string;
}

export const PROFILE_USAGE =
  'profile-cpu options: --nets unet,decoder,step --size 512 --runs 3 --peak-runs 10 --threads N --lowering attention=decomposed,… ' +
  '--opt all|extended|basic|disabled --config session.key=value,… --mem-pattern on|off --profile on|off --top 12 --json FILE';

type MutableOverrides = { -readonly [C in CompositeName]?: CompositeImpls[C] };

function isComposite(name: string): name is CompositeName {
  return Object.hasOwn(IMPLS, name);
}

function setImpl<C extends CompositeName>(o: MutableOverrides, composite: C, value: string): void {
  const impl = IMPLS[composite].find((i) => i === value);
  if (impl === undefined) throw new Error(`lowering ${composite}: ${value} is not one of ${IMPLS[composite].join(', ')}`);
  o[composite] = impl;
}

/**
 * `groupNorm=decomposed,attention=contrib-mha` as lowering overrides; unknown composites or implementations throw.
 *
 * @example
 * parseLowering('--lowering', 'attention=contrib-mha'); // { attention: 'contrib-mha' }
 */
export function parseLowering(flag: string, v: string): LoweringOverrides {
  const lowering: MutableOverrides = {};
  if (v === '' || v === 'default') return lowering;
  for (const [k, impl] of pairs(flag, v)) {
    if (!isComposite(k)) throw new Error(`${flag}: ${k} is not one of ${Object.keys(IMPLS).join(', ')}`);
    setImpl(lowering, k, impl);
  }
  return lowering;
}

/** `key=value,…` as a record (session config entries). */
export function parseConfig(flag: string, v: string): Record<string, string> {
  return Object.fromEntries(v === '' ? [] : pairs(flag, v));
}

function pairs(flag: string, v: string): [string, string][] {
  return v.split(',').map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`${flag} wants key=value pairs, comma-separated; got ${kv}`);
    return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()];
  });
}

function int(flag: string, v: string, min: number): number {
  const x = Number(v);
  if (!Number.isSafeInteger(x) || x < min) throw new Error(`${flag} wants an integer ≥ ${min}, got ${v}`);
  return x;
}

function onOff(flag: string, v: string): boolean {
  if (v !== 'on' && v !== 'off') throw new Error(`${flag} wants on or off, got ${v}`);
  return v === 'on';
}

/**
 * Parse profile-cpu's options; unknown options are errors.
 *
 * @example
 * parseProfileArgs(['--nets', 'decoder', '--lowering', 'groupNorm=decomposed']);
 */
export function parseProfileArgs(argv: readonly string[]): ProfileArgs {
  const a: ProfileArgs = { nets: ['unet', 'decoder'], size: 512, runs: 3, peakRuns: 10, lowering: {}, opt: 'all', config: {}, memPattern: true, profile: true, top: 12 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    if (flag === '--help') throw new Error(PROFILE_USAGE);
    if (v === undefined) throw new Error(`${flag} needs a value (${PROFILE_USAGE})`);
    switch (flag) {
      case '--nets':
        a.nets = v.split(',').map((n) => {
          const net = NETS.find((x) => x === n);
          if (net === undefined) throw new Error(`--nets: ${n} is not one of ${NETS.join(', ')}`);
          return net;
        });
        break;
      case '--size':
        a.size = int(flag, v, 64);
        if (a.size % 32) throw new Error(`--size: ${a.size} is not a multiple of 32`);
        break;
      case '--runs':
        a.runs = int(flag, v, 1);
        break;
      case '--peak-runs':
        a.peakRuns = int(flag, v, 1);
        break;
      case '--threads':
        a.threads = int(flag, v, 1);
        break;
      case '--top':
        a.top = int(flag, v, 0);
        break;
      case '--lowering':
        a.lowering = { ...a.lowering, ...parseLowering(flag, v) };
        break;
      case '--opt':
        if (v !== 'all' && v !== 'extended' && v !== 'basic' && v !== 'disabled') throw new Error(`--opt: ${v} is not all, extended, basic or disabled`);
        a.opt = v;
        break;
      case '--config':
        a.config = { ...a.config, ...parseConfig(flag, v) };
        break;
      case '--mem-pattern':
        a.memPattern = onOff(flag, v);
        break;
      case '--profile':
        a.profile = onOff(flag, v);
        break;
      case '--json':
        a.json = v;
        break;
      default:
        throw new Error(`unknown option ${flag} (${PROFILE_USAGE})`);
    }
  }
  return a;
}
