export { shapesClassifier, parseClassifierConfig, SHAPES_CLASSIFIER_CONFIG, type ShapesClassifierConfig, type ClassifierOutputs } from './classifier.js';
export { featureStatistics, frechetDistance, symmetricEigen } from './frechet.js';
export { ShapesEvaluator, scoreImages, attributesMatch, EVALUATOR_FILES, type Classification, type GeneratorScore } from './evaluator.js';
export { evaluatePrompts, evaluationPrompts, realAccuracy, type EvaluatePromptsOptions, type ImageGenerator, type PromptEvaluation } from './generator-eval.js';
export { asDrawn, evaluateSketches, evaluationSketches, maskIoU, silhouetteOf, type EvaluateSketchesOptions, type SketchCase, type SketchEvaluation, type SketchGenerator } from './sketch-eval.js';
