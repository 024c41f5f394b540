// Three tiers, chosen by file name (STYLE.md): *.spec.ts are pure unit tests
// beside the code, *.int-spec.ts use one real dependency, *.e2e-spec.ts start
// the application as a user does.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const moduleNameMapper = {
  '^@aftersales/event-store/testing$': '<rootDir>/libs/event-store/src/testing/index.ts',
  '^@aftersales/domain/testing$': '<rootDir>/libs/domain/src/testing/index.ts',
  '^@aftersales/([a-z-]+)$': '<rootDir>/libs/$1/src/index.ts',
};

const common = {
  rootDir: __dirname,
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(jose|content-disposition|@apidevtools/json-schema-ref-parser)/)'],
  moduleNameMapper,
  testEnvironment: 'node',
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,scripts,test}/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], globalSetup: '<rootDir>/test/support/build-once.js' },
  ],
};
