/** The model runtime: the InferenceEngine implementations the worker and the embedded mode use. */
export { mapModerationLabels, mapSentimentLabels } from './classifier.ts';
export { createLocalEngine, LocalEngine, type LocalEngineOptions } from './local-engine.ts';
export { EmptyReplyError, type SeededReplyRequest } from './reply.ts';
export {
  DEFAULT_TUNING,
  ModelLoadError,
  ModelRunError,
  type RuntimeConfig,
  type RuntimeTuning,
} from './settings.ts';
export { createThreadEngine, ThreadEngine, type ThreadEngineOptions } from './thread-engine.ts';
