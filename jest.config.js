/** The projects: unit, integration (real sockets and peers), lint, deploy (Helm, kube-apiserver) and cluster (network namespaces). */
const tsJest = ['ts-jest', { diagnostics: false }];
module.exports = {
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    {
      // The tree itself: the layers (dependency-cruiser), ESLint, Prettier, and a production build without test code.
      displayName: 'lint',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/lint/**/*.test.ts'],
    },
    {
      // The Helm chart and deployment files: helm lint/template, a real kube-apiserver, config consistency.
      displayName: 'deploy',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/deploy/**/*.test.ts'],
    },
    {
      // The bridge behind a kube-proxy-style UDP load balancer in network namespaces (root; its own
      // Redis and Kafka). scripts/test-all.sh runs it alone, after the others, so that it has the machine.
      displayName: 'cluster',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
    },
  ],
};
