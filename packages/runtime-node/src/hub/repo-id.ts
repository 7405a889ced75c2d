import { HubError } from './errors.js';

// huggingface_hub's REPO_ID_REGEX per part: word characters, '-' and '.', starting and ending with a word
// character, at most 96 long; '--' and '..' are forbidden (the cache folder name joins parts with '--').
const PART = /^(?:\w|\w[\w.-]{0,94}\w)$/;
const COMMIT = /^[0-9a-f]{40}$/;

/**
 * Checks an `owner/name` repo id the way huggingface_hub's `validate_repo_id` does (plus: the owner is
 * required, so a bare word is never mistaken for a repo) and returns it.
 *
 * @example
 * checkRepoId('IDKiro/sdxs-512-dreamshaper'); // ok
 * checkRepoId('../etc');                       // throws HubError('invalid-repo-id')
 */
export function checkRepoId(repoId: string): string {
  const parts = repoId.split('/');
  const ok =
    parts.length === 2 &&
    parts.every((p) => PART.test(p)) &&
    !repoId.includes('--') &&
    !repoId.includes('..') &&
    !repoId.endsWith('.git');
  if (!ok) {
    throw new HubError(
      'invalid-repo-id',
      `${JSON.stringify(repoId)} is not a Hugging Face repo id: expected "owner/name" made of letters, digits, '-', '_' and '.' (no '--' or '..', at most 96 characters each)`,
    );
  }
  return repoId;
}

/**
 * True when `s` is a syntactically valid `owner/name` repo id.
 *
 * @example
 * isRepoId('IDKiro/sdxs-512-0.9'); // true
 * isRepoId('./models/sdxs');       // false
 */
export function isRepoId(s: string): boolean {
  try {
    checkRepoId(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * The repo's folder in the hub cache, exactly as huggingface_hub names it.
 *
 * @example
 * repoFolderName('IDKiro/sdxs-512-0.9'); // 'models--IDKiro--sdxs-512-0.9'
 */
export function repoFolderName(repoId: string): string {
  return ['models', ...checkRepoId(repoId).split('/')].join('--');
}

/**
 * True for a full 40-hex-digit commit hash (the only revisions that name a snapshot folder).
 *
 * @example
 * isCommitHash('main'); // false
 */
export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

/** Why a '/'-separated relative name is unsafe as a path under a folder, or undefined when it is safe. */
function unsafeReason(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (/[\0-\x1f]/.test(name)) return 'it contains control characters';
  // A backslash is a separator on Windows: 'a\..\..\x' would climb out there even if harmless here.
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.startsWith('/')) return 'it is absolute (or a UNC path)';
  if (/^[A-Za-z]:/.test(name) || name.split('/').some((s) => /^[A-Za-z]:/.test(s))) return 'it names a drive';
  const segments = name.split('/');
  if (segments.some((s) => s === '..')) return "it has a '..' segment";
  if (segments.some((s) => s === '' || s === '.')) return "it has an empty or '.' segment";
  return undefined;
}

/**
 * Checks a file name from a repo listing (which a malicious repo controls) before it becomes a path in the
 * cache: `..` segments, absolute, drive, UNC and backslash paths are refused (huggingface_hub's
 * `_validate_relative_filename`, plus empty and `.` segments). Returns the name.
 *
 * @example
 * checkRepoFilename('unet/config.json');    // ok
 * checkRepoFilename('../../.bashrc');        // throws HubError('unsafe-path')
 */
export function checkRepoFilename(name: string): string {
  const why = unsafeReason(name);
  if (why) throw new HubError('unsafe-path', `refusing repo file name ${JSON.stringify(name)}: ${why}`);
  return name;
}

/** True when {@link checkRepoFilename} accepts `name`. */
export function isSafeRepoFilename(name: string): boolean {
  return unsafeReason(name) === undefined;
}

/**
 * Checks a revision (branch, tag, `refs/pr/1` or commit hash): it becomes `refs/<revision>` in the cache,
 * so the same path rules as for file names apply.
 *
 * @example
 * checkRevision('refs/pr/1'); // ok: refs/refs/pr/1 in the cache
 * checkRevision('../x');      // throws HubError('unsafe-path')
 */
export function checkRevision(revision: string): string {
  const why = unsafeReason(revision);
  if (why || revision.length > 255) {
    throw new HubError('unsafe-path', `refusing revision ${JSON.stringify(revision)}: ${why ?? 'it is too long'}`);
  }
  return revision;
}

/** Checks that `commit` is a full commit hash (it names a snapshot folder) and returns it. */
export function checkCommit(commit: string): string {
  if (!isCommitHash(commit)) throw new HubError('unsafe-path', `refusing commit ${JSON.stringify(commit)}: not a 40-digit hex hash`);
  return commit;
}
