import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from './helpers/test-app';

const DB = 'fs_test_api_doc';
const API_MD = join(__dirname, '..', 'docs', 'API.md');

/** Served by the OpenAPI set-up itself, so not listed in the document they serve. */
const NOT_IN_OPENAPI = ['GET /docs', 'GET /docs-json', 'GET /', 'GET /admin.html'];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const ROUTE_HEADING = new RegExp(`^### (${METHODS.join('|')}) (/[^\\s]*)$`);
const STATUS_LINE = /^Status codes: (\d{3}(?:, \d{3})*)$/;

interface DocumentedRoute {
  route: string;
  statuses: number[];
  line: number;
}

/**
 * Reads the `### METHOD /path` headings of docs/API.md and the one `Status codes:` line of each
 * route's section (which runs to the next heading of level 1 to 3). Throws on anything that looks
 * like a route heading or a status line but is not in the exact form, so a typo cannot hide a route.
 */
function parseApiMd(text: string): DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  let current: DocumentedRoute | undefined;
  let statusLines = 0;
  const close = () => {
    if (current && statusLines !== 1) {
      throw new Error(`docs/API.md:${current.line} ${current.route} has ${statusLines} "Status codes:" lines, expected exactly 1`);
    }
  };
  let inFence = false;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    const n = index + 1;
    if (line.startsWith('```')) inFence = !inFence;
    if (inFence) return;
    if (/^#{1,3} /.test(line)) {
      close();
      current = undefined;
      statusLines = 0;
      const m = ROUTE_HEADING.exec(line);
      if (m) {
        current = { route: `${m[1]} ${m[2]}`, statuses: [], line: n };
        routes.push(current);
      } else if (/^###\s+\S+\s.*\//.test(line) && METHODS.includes(line.slice(3).trim().split(/\s/)[0].toUpperCase())) {
        throw new Error(`docs/API.md:${n} route heading not in the form "### METHOD /path": ${line}`);
      }
      return;
    }
    if (/^\s*status codes\s*:/i.test(line)) {
      const m = STATUS_LINE.exec(line);
      if (!m) throw new Error(`docs/API.md:${n} status line not in the form "Status codes: 200, 404": ${line}`);
      if (!current) throw new Error(`docs/API.md:${n} "Status codes:" line outside a route section`);
      statusLines++;
      current.statuses = m[1].split(', ').map(Number);
    }
  });
  close();
  return routes;
}

interface OpenApiHeader {
  required?: boolean;
  schema?: Record<string, unknown>;
  description?: string;
}

interface OpenApiDoc {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<string, { headers?: Record<string, OpenApiHeader> }>;
        security?: Array<Record<string, unknown>>;
        parameters?: Array<{ in: string; name: string; required?: boolean }>;
      }
    >
  >;
}

interface HeaderRow {
  header: string;
  direction: 'request' | 'response';
  routes: string;
}

/** The rows of docs/API.md's Headers table: header, direction, the routes column as written. */
function headerTable(text: string): HeaderRow[] {
  const start = text.indexOf('\n## Headers\n');
  if (start < 0) throw new Error('docs/API.md: the Headers section is missing');
  // The section's heading, then the table, then the paragraphs after it.
  const table = text.slice(start).split('\n\n')[1].split('\n');
  if (!table[0].startsWith('| header')) throw new Error('docs/API.md: the Headers section does not start with its table');
  return table.slice(2).map((line) => {
    const [header, direction, routes] = line
      .split('|')
      .slice(1, 4)
      .map((cell) => cell.trim());
    return { header: header.replace(/`/g, ''), direction: direction as HeaderRow['direction'], routes };
  });
}

/** The statuses docs/API.md's Idempotent retries section says a key stores (its "What is stored" item), so a replay can answer. */
function replayableStatuses(text: string): string[] {
  const item = /^- \*\*What is stored\.\*\*[\s\S]*?(?=\n- \*\*)/m.exec(text);
  if (!item) throw new Error('docs/API.md: the "What is stored" item of Idempotent retries is missing');
  return [...new Set([...item[0].matchAll(/\b[1-5]\d\d\b/g)].map((m) => m[0]))].sort();
}

/**
 * The routes docs/API.md's Headers section gives each security scheme of the OpenAPI document, from
 * its paragraph "In the OpenAPI document (`GET /docs-json`) the three credentials are security
 * schemes: `admin` (…) on `POST /api/products` and …, `webhook_signature` (…) on …".
 */
function documentedSecurity(text: string): Map<string, string[]> {
  const start = text.indexOf('In the OpenAPI document (`GET /docs-json`) the three credentials are security schemes:');
  if (start < 0) throw new Error('docs/API.md: the paragraph on the security schemes is missing');
  const paragraph = text.slice(start, text.indexOf('\n\n', start)).replace(/\s+/g, ' ');
  const schemes = new Map<string, string[]>();
  // Each scheme is a backticked name followed by its description in parentheses, then its routes.
  for (const part of paragraph.split(/(?=`\w+` \()/).slice(1)) {
    const name = /^`(\w+)`/.exec(part)![1];
    schemes.set(name, [...part.matchAll(/`((?:GET|POST|PATCH|PUT|DELETE) \/[^`]*)`/g)].map((m) => m[1]).sort());
  }
  return schemes;
}

/** Every (method, path) of the OpenAPI document with its response codes, paths in `:id` form. */
function openApiRoutes(doc: OpenApiDoc): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!METHODS.includes(method.toUpperCase())) continue; // e.g. path-level "parameters"
      const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
      routes.set(route, Object.keys(operation.responses).sort());
    }
  }
  return routes;
}

describe('docs/API.md documents exactly the routes and status codes of the OpenAPI document', () => {
  let t: TestApp;
  let documented: DocumentedRoute[];
  let openApi: Map<string, string[]>;

  beforeAll(async () => {
    documented = parseApiMd(readFileSync(API_MD, 'utf8'));
    t = await startTestApp(DB);
    const res = await t.http().get('/docs-json').expect(200);
    const doc = res.body as OpenApiDoc;
    expect(doc.openapi).toMatch(/^3\./);
    openApi = openApiRoutes(doc);
  });
  afterAll(() => t?.close());

  it('finds route headings, each documented once', () => {
    expect(documented.length).toBeGreaterThan(0);
    const seen = documented.map((r) => r.route);
    const duplicates = seen.filter((r, i) => seen.indexOf(r) !== i);
    expect(duplicates).toEqual([]);
  });

  it('documents every OpenAPI route and no other (besides /docs and /docs-json)', () => {
    const inDoc = documented
      .map((r) => r.route)
      .filter((r) => !NOT_IN_OPENAPI.includes(r))
      .sort();
    expect(inDoc).toEqual([...openApi.keys()].sort());
  });

  it('documents /docs and /docs-json, which the OpenAPI document does not list', async () => {
    const inDoc = documented.map((r) => r.route);
    for (const route of NOT_IN_OPENAPI) {
      expect(inDoc).toContain(route);
      // Should they ever appear in the document, they must be compared like every other route.
      expect(openApi.has(route)).toBe(false);
    }
    for (const route of documented.filter((r) => NOT_IN_OPENAPI.includes(r.route))) {
      const res = await t.http().get(route.route.split(' ')[1]);
      expect({ route: route.route, statuses: [res.status] }).toEqual({ route: route.route, statuses: route.statuses });
    }
  });

  it('gives each route exactly the status codes of its OpenAPI responses', () => {
    const mismatches = documented
      .filter((r) => openApi.has(r.route))
      .map((r) => ({
        route: r.route,
        documented: r.statuses.map(String).sort(),
        openapi: openApi.get(r.route),
      }))
      .filter((r) => JSON.stringify(r.documented) !== JSON.stringify(r.openapi));
    expect(mismatches).toEqual([]);
  });

  it('names, for each security scheme, exactly the routes that carry it in the OpenAPI document', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as OpenApiDoc;
    const inOpenApi = new Map<string, string[]>();
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const requirement of operation.security ?? []) {
          for (const scheme of Object.keys(requirement)) {
            const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
            inOpenApi.set(scheme, [...(inOpenApi.get(scheme) ?? []), route].sort());
          }
        }
      }
    }
    expect(Object.fromEntries(documentedSecurity(readFileSync(API_MD, 'utf8')))).toEqual(Object.fromEntries(inOpenApi));
  });

  it("declares the contract's response headers on exactly the responses the Headers table gives them", async () => {
    const text = readFileSync(API_MD, 'utf8');
    const doc = (await t.http().get('/docs-json').expect(200)).body as OpenApiDoc;
    const replayable = replayableStatuses(text);
    expect(replayable).toEqual(['201', '400', '404', '409', '410']);
    const rows = headerTable(text).filter((r) => r.direction === 'response' && r.header !== 'Connection: close');
    expect(rows.map((r) => r.header).sort()).toEqual(['Idempotent-Replayed', 'Retry-After', 'Retry-After', 'WWW-Authenticate', 'X-Request-Id']);
    const expected: string[] = [];
    const declared: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
        // The 401 `unauthorized` is the answer of the routes with a bearer scheme; the webhook's 401 is `invalid_signature`.
        const bearer = (operation.security ?? []).some((s) => 'admin' in s || 'buyer' in s);
        for (const [status, response] of Object.entries(operation.responses)) {
          for (const [name, header] of Object.entries(response.headers ?? {})) declared.push(`${route} ${status} ${name} required=${header.required === true}`);
          for (const row of rows) {
            // "all", "every 429", "every 401 `unauthorized`", or the routes in backticks (Idempotent-Replayed: on the answers a replay can be).
            const every = /^every (\d{3})$/.exec(row.routes);
            const routes = [...row.routes.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
            const applies =
              row.routes === 'all' ||
              (row.routes === 'every 401 `unauthorized`'
                ? status === '401' && bearer
                : every
                  ? every[1] === status
                  : routes.includes(route) && replayable.includes(status));
            if (applies) expected.push(`${route} ${status} ${row.header} required=${row.header !== 'Idempotent-Replayed'}`);
          }
        }
      }
    }
    expect(expected.filter((e) => e.includes(' Idempotent-Replayed ')).length).toBe(9);
    expect(declared.sort()).toEqual(expected.sort());

    // The schemas: what the table says each header carries.
    const headers = (route: string, method: string, status: string) => doc.paths[route][method].responses[status].headers ?? {};
    expect(headers('/api/holds', 'post', '201')).toMatchObject({
      'X-Request-Id': { schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' } },
      'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] } },
    });
    expect(headers('/api/holds', 'post', '429')['Retry-After']).toMatchObject({ schema: { type: 'integer', minimum: 0 } });
    expect(headers('/api/holds', 'post', '503')['Retry-After']).toMatchObject({ schema: { type: 'integer', enum: [1] } });
    expect(headers('/api/admin/sales', 'get', '401')['WWW-Authenticate']).toMatchObject({ schema: { type: 'string', enum: ['Bearer'] } });
    expect(headers('/api/payments/webhook', 'post', '401')['WWW-Authenticate']).toBeUndefined();
  });

  it('declares the request headers Idempotency-Key and Last-Event-ID as header parameters of exactly their routes', async () => {
    const doc = (await t.http().get('/docs-json').expect(200)).body as OpenApiDoc;
    const names = ['Idempotency-Key', 'Last-Event-ID'];
    const expected = headerTable(readFileSync(API_MD, 'utf8'))
      .filter((r) => r.direction === 'request' && names.includes(r.header))
      .flatMap((r) => [...r.routes.matchAll(/`([^`]+)`/g)].map((m) => `${m[1]} ${r.header} required=false`));
    const declared: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const p of operation.parameters ?? []) {
          if (p.in === 'header') declared.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')} ${p.name} required=${p.required === true}`);
        }
      }
    }
    expect(expected.length).toBe(3);
    expect(declared.sort()).toEqual(expected.sort());
  });

  it('the parser refuses what would let a route slip through', () => {
    expect(() => parseApiMd('### GET /a\n\nStatus codes: 200\n\n### Get /b\n')).toThrow(/not in the form/);
    expect(() => parseApiMd('### GET  /b\n\nStatus codes: 200\n')).toThrow(/not in the form/);
    expect(() => parseApiMd('### GET /a\n\ntext\n')).toThrow(/0 "Status codes:" lines/);
    expect(() => parseApiMd('### GET /a\n\nStatus codes: 200\nStatus codes: 404\n')).toThrow(/2 "Status codes:" lines/);
    expect(() => parseApiMd('### GET /a\n\nStatus codes: 200,404\n')).toThrow(/status line not in the form/);
    expect(() => parseApiMd('## Intro\n\nStatus codes: 200\n')).toThrow(/outside a route section/);
    expect(parseApiMd('### GET /a/:id\n\nStatus codes: 200, 404\n\n## Other\n\n### Notes\n')).toEqual([{ route: 'GET /a/:id', statuses: [200, 404], line: 1 }]);
  });
});
