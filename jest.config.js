/**
 * One `npm test` runs the unit tests and the integration tests against a real PostgreSQL (see
 * test/support): the global setup starts or finds the server and migrates a template database
 * once; each test file clones its own database from it.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      // Nest's dependency injection reads constructor parameter types from decorator metadata.
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

export default {
  rootDir: '.',
  testEnvironment: '<rootDir>/test/support/database-environment.ts',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^nestjs-pgflow$': '<rootDir>/libs/pgflow/src/index.ts',
    '^nestjs-pgflow/health$': '<rootDir>/libs/pgflow/src/health/index.ts',
  },
  testMatch: ['<rootDir>/libs/**/*.test.ts', '<rootDir>/apps/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.build/'],
  // The tests wait on PostgreSQL far more than on the CPU: more workers than cores keeps both busy.
  maxWorkers: process.env.JEST_MAX_WORKERS ?? 3,
  testTimeout: 90_000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
