import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem, ValidationFailedError } from '../common/errors';

export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** The largest `max_per_buyer` a product takes (and so the largest `limit` of buyer_limit_reached). */
export const MAX_PER_BUYER_LIMIT = 1_000_000;

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  for (const error of errors) {
    const field = prefix + error.property;
    const constraints = Object.values(error.constraints ?? {});
    if (constraints.length > 0) out.push({ field, problem: constraints[0] });
    if (error.children?.length) out.push(...flatten(error.children, `${field}.`));
  }
  return out;
}

/**
 * Leaves path and query strings as sent: ValidationPipe would turn "01" or "1e3" into numbers
 * before ParseIdPipe could refuse them.
 */
class ContractValidationPipe extends ValidationPipe {
  protected override transformPrimitive(value: unknown): unknown {
    return value;
  }
}

/** The global pipe: unknown fields are rejected, and failures carry the contract's `details`. */
export function createValidationPipe(): ValidationPipe {
  return new ContractValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailedError(flatten(errors)),
  });
}

/** Parses an id path parameter: a decimal integer from 1 to 2^53−1, nothing else. */
export function parseId(raw: string, field: string): number {
  const value = /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_ID) {
    throw new ValidationFailedError([{ field, problem: `must be an integer from 1 to ${MAX_ID}` }]);
  }
  return value;
}

const QUERY_DIGITS = /^(0|[1-9]\d{0,15})$/;

/**
 * A query-string integer of the listings: plain decimal digits without a leading zero, from `min`
 * to `max`; undefined for anything else (`01`, `1e3`, `-1`, ` 1`).
 */
export function queryInteger(raw: string, min: number, max: number): number | undefined {
  if (!QUERY_DIGITS.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

/** A keyset-paged listing's query, parsed: page size and the cursor (rows after this id). */
export interface KeysetPageQuery {
  limit: number;
  afterId: number;
}

/**
 * Parses a keyset-paged listing's query string (`limit`, `after_id`) strictly: each parameter at
 * most once, plain decimal integers in range, unknown parameters refused. Throws
 * ValidationFailedError listing every problem.
 */
export function parseKeysetPageQuery(query: Record<string, unknown>, pageSize: { default: number; max: number }): KeysetPageQuery {
  const problems: FieldProblem[] = [];
  const out: KeysetPageQuery = { limit: pageSize.default, afterId: 0 };
  for (const [field, value] of Object.entries(query)) {
    if (typeof value !== 'string') {
      problems.push({ field, problem: 'must be given once' });
      continue;
    }
    if (field === 'limit') {
      const limit = queryInteger(value, 1, pageSize.max);
      if (limit === undefined) problems.push({ field, problem: `must be an integer from 1 to ${pageSize.max}` });
      else out.limit = limit;
    } else if (field === 'after_id') {
      const afterId = queryInteger(value, 0, MAX_ID);
      if (afterId === undefined) problems.push({ field, problem: `must be an integer from 0 to ${MAX_ID}` });
      else out.afterId = afterId;
    } else {
      problems.push({ field, problem: 'is not allowed' });
    }
  }
  if (problems.length > 0) throw new ValidationFailedError(problems);
  return out;
}

@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  transform(value: string, metadata: ArgumentMetadata): number {
    return parseId(value, metadata.data ?? 'id');
  }
}
