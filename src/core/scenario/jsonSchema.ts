/**
 * The JSON Schema (draft 2020-12) of the scenario SOURCE format, for editors: point
 * yaml-language-server at it with `# yaml-language-server: $schema=../schema/scenario.schema.json`.
 * It is generated from the same zod schema that validates scenario files.
 */
import { z } from 'zod';
import { scenarioSourceSchema } from './schema.js';

/** The JSON Schema of a scenario file whose `guest:` may name one of `guests`. */
export function scenarioJsonSchema(guests: readonly string[]): object {
  const generated = z.toJSONSchema(scenarioSourceSchema(guests), {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  const schema = finish(generated) as Record<string, unknown>;
  const vm = (schema.properties as Record<string, { items?: Record<string, unknown> }> | undefined)?.vms?.items;
  if (vm !== undefined) {
    // Exactly one of guest / program / source; sourceLine only with source.
    vm.oneOf = [{ required: ['guest'] }, { required: ['program'] }, { required: ['source'] }];
    vm.dependentRequired = { sourceLine: ['source'] };
  }
  const { $schema, title, description, ...rest } = schema;
  return { $schema, title, description, ...rest };
}

/** Turns the `x-default` / `x-examples` metadata (source-form values) into `default` / `examples`. */
function finish(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(finish);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'x-default') out.default = child;
    else if (key === 'x-examples') out.examples = child;
    else out[key] = finish(child);
  }
  return out;
}
