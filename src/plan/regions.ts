// What a plan's regions mean to the layers above: how many outputs the network has, and which training
// class indices (positions in labelValues, as the preprocessed labels hold them) make up each region.
import type { Plans } from './schema.js';

/** The network's output channels: one per region, else one per class (background included). */
export function outputChannels(plans: Pick<Plans, 'labelValues' | 'regions'>): number {
  return plans.regions?.length ?? plans.labelValues.length;
}

/** Per region, the class indices it unites; undefined for plans without regions. */
export function regionClassSets(plans: Pick<Plans, 'labelValues' | 'regions'>): number[][] | undefined {
  return plans.regions?.map((r) => r.labels.map((v) => plans.labelValues.indexOf(v)));
}
