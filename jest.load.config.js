// Load tests (test/*.load-spec.ts) against the built service, one at a time and after the main run
// (`npm test` runs both): what they bound (units granted to clients that left, memory) depends on
// the service having the CPU, not on sharing two cores with another test file.
const base = require('./jest.config');

module.exports = { ...base, testMatch: ['<rootDir>/test/**/*.load-spec.ts'], maxWorkers: 1 };
