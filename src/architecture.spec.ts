import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

/**
 * The layout's rules, checked on the source itself (docs/ARCHITECTURE.md explains them):
 * 1. each table is written by one module only, in SQL or through its entity;
 * 2. the modules form a tower: a module imports only modules below it (or beside it in common/config).
 */

const SRC = __dirname;

/** Which module owns (alone writes) each table. */
const TABLE_OWNERS: Record<string, string> = {
  products: 'product',
  holds: 'hold',
  orders: 'order',
  payment_events: 'payment',
  idempotency_keys: 'idempotency',
  stock_movements: 'ledger',
};

/** The tower, bottom first. Files directly in src/ (bootstrap) stand on top of everything. */
const LAYERS: string[][] = [
  ['common', 'config'],
  ['observability'],
  ['database'],
  ['http', 'cache', 'changes'],
  ['idempotency'],
  ['hold', 'order', 'ledger'],
  ['product'],
  ['payment'],
  ['checkout', 'health', 'live', 'audit'],
  ['(bootstrap)'],
];

function layerOf(module: string): number {
  return LAYERS.findIndex((layer) => layer.includes(module));
}

/** The module a source file belongs to: its first folder under src/, or "(bootstrap)". */
function moduleOf(file: string): string {
  const parts = relative(SRC, file).split(/[\\/]/);
  return parts.length > 1 ? parts[0] : '(bootstrap)';
}

/** SQL statements in `source` that write a table another module owns. */
function foreignSqlWrites(module: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+`?(\w+)`?/gi)) {
    const owner = TABLE_OWNERS[m[2]];
    if (owner && owner !== module) out.push(`${m[1].toUpperCase().replace(/\s+/, ' ')} ${m[2]}`);
  }
  return out;
}

/** Import specifiers of `source` (`import type` ones apart: they carry no code). */
function valueImports(source: string): string[] {
  return [...source.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('architecture', () => {
  const files = sourceFiles(SRC).map((file) => ({ file, module: moduleOf(file), source: readFileSync(file, 'utf8') }));

  it('finds the rules broken in code that breaks them (the checks can fail)', () => {
    expect(foreignSqlWrites('order', "await q('UPDATE holds SET status = ? WHERE id = ?')")).toEqual(['UPDATE holds']);
    expect(foreignSqlWrites('checkout', 'INSERT INTO `orders` (id) VALUES (1); DELETE FROM products')).toEqual(['INSERT INTO orders', 'DELETE FROM products']);
    expect(foreignSqlWrites('hold', "UPDATE holds SET status = 'expired' … FOR UPDATE SKIP LOCKED")).toEqual([]);
    expect(valueImports("import { Hold } from '../hold/hold.entity';\nimport type { Order } from '../order/order.entity';")).toEqual(['../hold/hold.entity']);
    expect(files.length).toBeGreaterThan(40);
  });

  it('each table is written in SQL only by the module that owns it', () => {
    const broken = files.flatMap(({ file, module, source }) => foreignSqlWrites(module, source).map((w) => `${relative(SRC, file)}: ${w}`));
    expect(broken).toEqual([]);
  });

  it("no module uses another module's entity as a value (repositories, query builders, inserts)", () => {
    const broken = files.flatMap(({ file, module, source }) =>
      valueImports(source)
        .filter((spec) => spec.startsWith('.') && spec.endsWith('.entity'))
        .map((spec) => resolve(dirname(file), spec))
        .filter((entity) => moduleOf(entity) !== module)
        .map((entity) => `${relative(SRC, file)} uses ${relative(SRC, entity)}`),
    );
    expect(broken).toEqual([]);
  });

  it('a module imports only modules below it in the tower', () => {
    const broken = files.flatMap(({ file, module, source }) =>
      valueImports(source)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => moduleOf(resolve(dirname(file), spec)))
        .filter((target) => target !== module && !(layerOf(target) < layerOf(module) || (layerOf(target) === 0 && layerOf(module) === 0)))
        .map((target) => `${relative(SRC, file)} (${module}) imports ${target}`),
    );
    expect(broken).toEqual([]);
    for (const { module } of files) expect(layerOf(module)).toBeGreaterThanOrEqual(0);
  });
});
