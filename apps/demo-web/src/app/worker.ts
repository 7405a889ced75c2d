// The generation worker: onnxruntime-web and the pipeline run here, so the page stays responsive.
import { exposeSdxsWorker } from '@sdxs/runtime-web';

exposeSdxsWorker();
