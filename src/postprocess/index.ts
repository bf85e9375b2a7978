// Post-processing of predicted label maps: the operations (connected components, keeping the
// largest component, applying a recipe: src/labelmap/, shared with inference) and choosing the
// recipe from cross-validation results (here).
export {
  labelComponents,
  countComponents,
  boundingBox,
  volumeShape,
  type Components,
  type BoundingBox,
  type Connectivity,
  type LabelArray,
  type LabelOptions,
} from '../labelmap/components.js';
export {
  keepLargestForeground,
  keepLargestPerLabel,
  type LargestComponentOptions,
  type PerLabelOptions,
} from '../labelmap/largestComponent.js';
export { dice, dicePerLabel } from '../labelmap/dice.js';
export { applyPostprocessing, type MeanDice, type PostprocessingRecipe } from '../labelmap/postprocessing.js';
export {
  choosePostprocessing,
  postprocessingDice,
  decidePostprocessing,
  type CaseDiceRows,
  type CvCase,
  type DiceFn,
  type ChooseOptions,
} from './choose.js';
export {
  choosePostprocessingPrior,
  decidePostprocessingPrior,
  labelSelfRows,
  DEFAULT_PRIOR_TOLERANCE,
  type LabelCase,
  type PriorOptions,
  type PriorCosts,
  type PriorChoice,
} from './prior.js';
