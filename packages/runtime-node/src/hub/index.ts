// Hand-written, not @huggingface/hub: it lacks resume, sha256 checks, locks, offline mode, timeouts and file selection (docs/libraries.md).
export { fetchFileMetadata, fetchRevisionInfo, resolveUrl, type FileMetadata, type RepoSibling, type RevisionInfo } from './api.js';
export { HubCache, type TreeEntry } from './cache-layout.js';
export { fetchFileToCache, type FetchFileOptions } from './download.js';
export { DEFAULT_ENDPOINT, DEFAULT_TIMEOUT_MS, hubEnv, type HubEnv } from './env.js';
export { HubError, type HubErrorCode } from './errors.js';
export type { HubClient } from './http.js';
export { acquireLock, type FileLock, type LockOptions } from './lock.js';
export {
  createProgressBar,
  formatBytes,
  renderProgressLine,
  type DownloadProgress,
  type ProgressBar,
  type ProgressBarOptions,
  type DownloadProgressCallback,
  type ProgressStream,
} from './progress.js';
export { checkRepoFilename, checkRepoId, checkRevision, isCommitHash, isRepoId, repoFolderName } from './repo-id.js';
export { downloadSnapshot, resolveModel, type ResolveModelOptions, type Snapshot } from './resolve-model.js';
export { componentsOf, isPipelineFile, selectFiles, type FileSelectionOptions } from './select.js';
