// Dependencies point one way (ARCHITECTURE.md):
//   apps -> libs/application, read-models, scheduling, integrations -> domain, event-store
// Nothing imports from apps/; domain and event-store import nothing of ours;
// domain does no I/O and uses no framework.
const lib = (name) => `^libs/${name}/`;

module.exports = {
  forbidden: [
    {
      name: 'nothing-imports-apps',
      comment: 'Applications are entry points; libraries and other apps never import them (tests may, to start what they test).',
      severity: 'error',
      from: { path: '^(libs|bench)/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-stay-apart',
      severity: 'error',
      comment: 'One app never imports another; shared code belongs in libs/. apps/aftersales, the one-process entry of the embedded default, is the exception: it composes the roles.',
      from: { path: '^apps/([^/]+)/', pathNot: '^apps/aftersales/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'domain-is-pure',
      comment: 'libs/domain imports nothing of ours and no framework, database or network package.',
      severity: 'error',
      // Specs may read files (a generated document is compared with its source).
      from: { path: lib('domain'), pathNot: '\\.spec\\.ts$' },
      to: {
        pathNot: [lib('domain'), '^node_modules/fast-check/', '^node_modules/@types/'],
      },
    },
    {
      name: 'event-store-knows-no-domain',
      comment: 'The store moves typed envelopes; it knows no after-sales types.',
      severity: 'error',
      from: { path: lib('event-store') },
      to: { path: '^libs/', pathNot: lib('event-store') },
    },
    {
      name: 'config-is-a-leaf',
      comment: 'Configuration may use the domain (policy rules) and nothing else of ours.',
      severity: 'error',
      from: { path: lib('config') },
      to: { path: '^libs/', pathNot: [lib('config'), lib('domain')] },
    },
    {
      name: 'middle-libs-point-down',
      comment: 'application, read-models, scheduling and integrations depend on domain, event-store and config only, never on each other upwards.',
      severity: 'error',
      from: { path: '^libs/(read-models|scheduling|integrations)/' },
      to: { path: '^libs/application/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
