# syntax=docker/dockerfile:1
# Two stages: compile with every dependency, then run dist/ with production dependencies only.

FROM node:24 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional too: typescript, ts-node (optional peers of typeorm) and @nestjs/platform-express
# (of @nestjs/core) are marked devOptional in the lock, and --omit=dev alone would still install
# them. No production package is optional-only (test/production-install.e2e-spec.ts checks this,
# running the same install). The `node` package (Node 24 for npm scripts) is installed as well;
# CMD uses the image's own Node 24.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The service writes nothing to disk (logs go to stdout), so root-owned files are fine for `node`.
USER node
EXPOSE 3000
# The slim image has no curl: ask /health with Node's fetch (200 when the database answers).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
