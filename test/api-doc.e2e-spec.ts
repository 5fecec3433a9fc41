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

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: Array<Record<string, unknown>> }>>;
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
