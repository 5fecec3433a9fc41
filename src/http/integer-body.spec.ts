import 'reflect-metadata';
import fc from 'fast-check';
import { ValidationFailedError } from '../common/errors';
import { CreateHoldDto, parseCreateHold } from '../hold/dto/create-hold.dto';
import { CreateOrderDto, parseCreateOrder } from '../order/dto/create-order.dto';
import { createValidationPipe, MAX_ID } from './validation';

type Outcome = { ok: Record<string, unknown> } | { details: unknown };

async function byPipe(metatype: new () => object, body: object): Promise<Outcome> {
  try {
    const value = (await createValidationPipe().transform(body, { type: 'body', metatype })) as object;
    return { ok: { ...value } };
  } catch (err) {
    if (err instanceof ValidationFailedError) return { details: err.details };
    throw err;
  }
}

function byCheck(check: (body: unknown) => object, body: object): Outcome {
  try {
    return { ok: { ...check(body) } };
  } catch (err) {
    if (err instanceof ValidationFailedError) return { details: err.details };
    throw err;
  }
}

/** Values at and around every bound, of every JSON type. */
const value = fc.oneof(
  fc.constantFrom(0, 1, 2, -1, 1.5, 0.5, MAX_ID, MAX_ID + 1, MAX_ID + 2, -MAX_ID, 1e300, -0, 10, 1e3),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(null, true, false, '', '1', '1.0', ' 1', '0x10', [], [1], {}, { a: 1 }),
  fc.jsonValue({ maxDepth: 1 }),
);

/**
 * Keys: the DTO's own and unknown ones. Not the names of Object.prototype's methods: the pipe
 * (class-transformer) drops those silently, the compiled check refuses them as unknown fields,
 * as the contract says of every unknown field (last test).
 */
function body(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const keys = fc.constantFrom(...fields, 'extra', 'zzz', 'aaa', 'QTY', 'Qty', 'product', '1');
  return fc.dictionary(keys, value, { maxKeys: 5 });
}

describe('the compiled body checks give the same answers as the global ValidationPipe on the DTOs', () => {
  it('hold body (product_id, qty): same values or the same details, in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(body(['product_id', 'qty']), async (b) => {
        expect(byCheck(parseCreateHold, b)).toEqual(await byPipe(CreateHoldDto, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('order body (hold_id): same values or the same details, in the same order', async () => {
    await fc.assert(
      fc.asyncProperty(body(['hold_id']), async (b) => {
        expect(byCheck(parseCreateOrder, b)).toEqual(await byPipe(CreateOrderDto, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses the names of Object.prototype methods as unknown fields (the pipe let them through)', async () => {
    const b = { product_id: 1, qty: 1, toString: 1 };
    expect(byCheck(parseCreateHold, b)).toEqual({ details: [{ field: 'toString', problem: 'property toString should not exist' }] });
    expect(await byPipe(CreateHoldDto, b)).toEqual({ ok: { product_id: 1, qty: 1 } });
  });

  it('known cases', () => {
    expect(parseCreateHold({ product_id: 1, qty: 2 })).toEqual({ product_id: 1, qty: 2 });
    expect(byCheck(parseCreateHold, { qty: 1.5, x: 1 })).toEqual({
      details: [
        { field: 'x', problem: 'property x should not exist' },
        { field: 'product_id', problem: `must be an integer from 1 to ${MAX_ID}` },
        { field: 'qty', problem: 'must be an integer' },
      ],
    });
  });
});
