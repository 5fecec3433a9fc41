// The main run: unit specs next to the code (src, *.spec.ts) and e2e specs against MySQL (test,
// *.e2e-spec.ts), two files at a time. Load tests (*.load-spec.ts) measure how the service holds
// up when it has the machine to itself, so they run afterwards, alone: jest.load.config.js.
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  testEnvironment: 'node',
  testTimeout: 60000,
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/global-setup.ts',
};
