// @sdxs/runtime-web/worker: the generation worker's side. An app's worker file is `exposeSdxsWorker();`.
export { exposeSdxsWorker, SdxsWorkerHost, type HostOptions, type WorkerScope } from './worker/host.js';
export type * from './worker/protocol.js';
