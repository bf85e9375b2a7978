// Shipped initialisations (`medseg finetune DATASET --from general`): a bare name that is not a path
// resolves to <medseg>/models/<name>.medseg, a model package shipped with medseg, beside
// <name>.json, its provenance: the script and command that made it, the data it was trained on with
// each set's licence, and the measurement that justified shipping it. A package without provenance
// is refused: nobody should start from weights whose data and licence are unknown. medseg ships an
// initialisation only where the few-shot table (bench/RESULTS.md, issue 12) shows that it helps; none
// does yet, so today the name gets one line saying so. $MEDSEG_MODELS points at another folder
// (tests; a site's own initialisations).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { readJsonFile } from '../io/jsonFile.js';

/** A shipped initialisation's name: lower-case letters, digits and '-' (never a path). */
export const SHIPPED_NAME = /^[a-z][a-z0-9-]*$/;

export const provenanceSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1),
  /** The script (a path in the medseg repository) and the exact command that made the package. */
  script: z.string().min(1),
  command: z.string().min(1),
  /** Every data set it was trained on, with where it came from and its licence. */
  data: z
    .array(z.strictObject({ name: z.string().min(1), source: z.string().min(1), licence: z.string().min(1) }))
    .min(1),
  /** The weights' own licence (compatible with every data set's). */
  licence: z.string().min(1),
  /** Where the measurement that justified shipping it is (a bench/RESULTS.md section). */
  measured: z.string().min(1),
});
export type Provenance = z.infer<typeof provenanceSchema>;

/** The folder of shipped initialisations: $MEDSEG_MODELS, else models/ of this medseg. */
export function shippedRoot(): string {
  return (
    process.env.MEDSEG_MODELS ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../models')
  );
}

/**
 * The package file of shipped initialisation `name` and its provenance; throws one line when medseg
 * ships none of that name, or ships it without provenance.
 */
export async function resolveShipped(
  name: string,
  root = shippedRoot(),
): Promise<{ file: string; provenance: Provenance }> {
  const file = path.join(root, `${name}.medseg`);
  const prov = path.join(root, `${name}.json`);
  if (!existsSync(file))
    throw new Error(
      `no shipped initialisation '${name}' (and no model folder or package of that name): see bench/RESULTS.md, ` +
        `"The few-shot table (issue 12)": medseg ships one only where that table shows it helps, and none does yet; ` +
        `start from a model folder or a .medseg package of your own`,
    );
  if (!existsSync(prov))
    throw new Error(
      `${file} has no ${name}.json beside it (the script, data list and licences that made it): a shipped initialisation needs its provenance`,
    );
  return { file, provenance: await readJsonFile(prov, provenanceSchema) };
}
