// Reading JSON files that users may edit (plans.json, inference.json, splits.json, ...) through a
// schema: a wrong field is refused with ONE line naming the file, the field's path and what was
// expected, e.g. `plans.json: configurations.3d_fullres.patch: expected an array, got "big"`,
// instead of a cast that fails later with "size.reduce is not a function" or trains on NaN.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/** A file that does not match its schema (or is not JSON); the message is meant for users as is. */
export class SchemaError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'SchemaError';
    this.file = file;
  }
}

/** `configurations.3d_fullres.patch[1]` */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out || '(top level)';
}

/** A value as it appears in a message: JSON, shortened. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const ARTICLE: Record<string, string> = {
  array: 'an array',
  object: 'an object',
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  null: 'null',
};

/** One issue in words: "expected ..., got ...". */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const got = `, got ${show(input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `missing (expected ${ARTICLE[issue.expected] ?? issue.expected})`;
      return `expected ${ARTICLE[issue.expected] ?? issue.expected}${got}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
      if (issue.origin === 'array' || issue.origin === 'string' || issue.origin === 'set') {
        const size = Array.isArray(input) || typeof input === 'string' ? input.length : undefined;
        const what = issue.origin === 'string' ? 'characters' : 'entries';
        const exact = (issue as { exact?: boolean }).exact;
        return `expected ${exact ? 'exactly' : op} ${String(bound)} ${what}${size === undefined ? '' : `, got ${size}`}`;
      }
      return `expected a number ${op} ${String(bound)}${got}`;
    }
    case 'invalid_value':
      return `expected ${issue.values.map((v) => show(v)).join(' or ')}${got}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_union':
      return `${issue.message}${got}`;
    default:
      return issue.message;
  }
}

/** The first issue of a zod error as one line: "FILE: path: expected ...". */
export function formatSchemaError(file: string, error: z.ZodError): SchemaError {
  const [first, ...rest] = error.issues;
  if (!first) return new SchemaError(file, 'does not match its schema');
  const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  return new SchemaError(file, `${formatPath(first.path)}: ${describeIssue(first)}${more}`);
}

/** Checks an already parsed value against a schema; throws a SchemaError naming `file`. */
export function validate<S extends z.ZodType>(file: string, schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value, { reportInput: true });
  if (!r.success) throw formatSchemaError(file, r.error);
  return r.data;
}

/** Reads a JSON file and checks it against a schema (one clear error for bad JSON or a bad field). */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    if (e instanceof SyntaxError) throw new SchemaError(file, `not valid JSON (${e.message})`);
    throw e;
  }
  return validate(file, schema, value);
}
