/**
 * The layers of src/, bottom first (docs/architecture.md). A module may import its own layer's
 * folder and any lower layer, never a higher one or a sibling of its own layer. `npm run lint`
 * and the lint tests (test/lint/layers.test.ts) enforce it; a violation names both layers.
 */
const LAYERS = [
  ['common'],
  ['config', 'transport', 'lwm2m', 'security'],
  ['coap', 'dtls'],
  ['server'],
  ['contract'],
  ['bus'],
  ['profile'],
  ['rpc'],
  ['store'],
  ['observability'],
  ['http'],
  ['wiring'],
];
/** The composition root and the process entry point (src/app.ts, src/main.ts) sit on top. */
const ROOT_FILES = '^src/[^/]+\\.ts$';

const folders = (names) => `^src/(${names.join('|')})/`;
const layerRules = LAYERS.flatMap((layer, i) =>
  layer.map((folder) => {
    const forbidden = [...LAYERS.slice(i + 1).flat(), ...layer.filter((f) => f !== folder)];
    return {
      name: `layer-${folder}`,
      severity: 'error',
      comment: `src/${folder}/ is layer ${i} (${layer.join(', ')}): it may import only ${LAYERS.slice(0, i).flat().join(', ') || 'nothing of src/'}; dependencies point down (docs/architecture.md)`,
      from: { path: folders([folder]) },
      to: { path: `${folders(forbidden)}|${ROOT_FILES}` },
    };
  }),
);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle between modules: break it with an interface in the lower module (docs/architecture.md)',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-not-to-test-code',
      severity: 'error',
      comment: 'product code imports test or benchmark code: test doubles, fixtures and models belong in test/support, and only *.test.ts files may use them',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'product-not-to-dev-dependency',
      severity: 'error',
      comment: 'product code imports a devDependency, which the production image does not install',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'an import that does not resolve',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
