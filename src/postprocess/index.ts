// Post-processing of predicted label maps: connected components, keeping the largest component, and
// choosing that from cross-validation results.
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
} from './components.js';
export {
  keepLargestForeground,
  keepLargestPerLabel,
  type LargestComponentOptions,
  type PerLabelOptions,
} from './largestComponent.js';
export {
  choosePostprocessing,
  postprocessingDice,
  decidePostprocessing,
  type CaseDiceRows,
  applyPostprocessing,
  dice,
  dicePerLabel,
  type CvCase,
  type DiceFn,
  type MeanDice,
  type PostprocessingRecipe,
  type ChooseOptions,
} from './choose.js';
