import { FieldProblem, ValidationFailedError } from '../common/errors';

/** One integer field of a body: its bounds and the problem each failed rule reports. */
export interface IntegerField<K extends string> {
  name: K;
  min: number;
  max?: number;
  /** The problem for a value below `min`, or that is not a number at all. */
  belowMin: string;
  /** The problem for a value above `max` (checked first), or that is not a number. */
  aboveMax?: string;
}

const NOT_AN_INTEGER = 'must be an integer';

/**
 * A compiled check of a body made of integer fields only (the hold and the order, the two hottest
 * bodies), instead of class-transformer instantiating the DTO and class-validator walking its
 * metadata on every request. It reports exactly what the global ValidationPipe reports for the
 * DTO's `@Max`, `@Min` and `@IsInt` (in that order of precedence, one problem per field):
 * unknown fields first, in the body's order ("property x should not exist"), then the declared
 * fields in declaration order. `src/http/integer-body.spec.ts` holds the two to the same answers.
 * The body has passed JsonBodyGuard: a JSON object without forbidden keys.
 */
export function integerBody<K extends string>(fields: ReadonlyArray<IntegerField<K>>): (body: unknown) => Record<K, number> {
  const known = new Set<string>(fields.map((f) => f.name));
  return (body: unknown): Record<K, number> => {
    const value = body as Record<string, unknown>;
    let problems: FieldProblem[] | undefined;
    for (const key in value) {
      if (!known.has(key)) (problems ??= []).push({ field: key, problem: `property ${key} should not exist` });
    }
    const out = {} as Record<K, number>;
    for (const f of fields) {
      const v = value[f.name];
      let problem: string | undefined;
      if (typeof v !== 'number') problem = f.aboveMax ?? f.belowMin;
      else if (f.max !== undefined && !(v <= f.max)) problem = f.aboveMax;
      else if (!(v >= f.min)) problem = f.belowMin;
      else if (!Number.isInteger(v)) problem = NOT_AN_INTEGER;
      if (problem !== undefined) (problems ??= []).push({ field: f.name, problem });
      else out[f.name] = v as number;
    }
    if (problems) throw new ValidationFailedError(problems);
    return out;
  };
}
