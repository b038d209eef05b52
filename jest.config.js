// Jest runs TypeScript as native ESM through swc (no type checking here: `npm run typecheck` does that).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/node', '<rootDir>/operator', '<rootDir>/e2e', '<rootDir>/.ci'],
  testMatch: ['**/*.test.ts'],
  // e2e/kube's unit tests run here (no cluster needed; ~30 s); the suites that need a cluster run with npm run e2e*.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/e2e/smoke/', '<rootDir>/e2e/operator/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
};
