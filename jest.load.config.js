// Load tests (test/*.load-spec.ts) against the built service, one at a time and after the main run
// (`npm test` runs both): what they bound (units granted to clients that left, memory) depends on
// the service having the CPU, not on sharing two cores with another test file.
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  testMatch: ['<rootDir>/test/**/*.load-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testEnvironment: 'node',
  testTimeout: 60000,
  maxWorkers: 1,
  globalSetup: '<rootDir>/test/global-setup.ts',
};
