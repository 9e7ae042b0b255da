/**
 * The layer rule of DESIGN §8 (docs/architecture.md draws it), checked by `npm run lint:layers`
 * (part of `npm test`). Only value imports count: `import type` vanishes at compile time, so a
 * lower layer may name a higher layer's type (an entity's relation, a context field) without
 * loading it.
 *
 * Bottom to top: the pure core (src/scoring) and the shared kit (src/common, config, context);
 * the domain modules in the order of MODULES (each may use the ones before it); the database
 * wiring (src/db); then the edges: jobs, http, cli and the composition root (schema, main).
 */
const MODULES = [
  'departments',
  'catalog',
  'auth',
  'audit',
  'agreements',
  'reports',
  'escalations',
  'handoffs',
  'measurements',
  'scorecards',
  'exclusions',
  'ledger',
  'exports',
  'webhooks',
  'notifications',
  'live',
  'nodes',
];

const valueOnly = { dependencyTypesNot: ['type-only', 'type-import'] };
const TOP = '^src/(http/|jobs/|cli/|schema\\.ts$|server\\.ts$|main\\.ts$)';

module.exports = {
  forbidden: [
    {
      name: 'scoring-is-pure',
      comment: 'The scoring rules are pure: they import only each other and the calendar arithmetic of src/common/month.',
      severity: 'error',
      from: { path: '^src/scoring/' },
      to: { path: '^src/', pathNot: ['^src/scoring/', '^src/common/month\\.ts$'], ...valueOnly },
    },
    {
      name: 'common-is-the-floor',
      comment: 'src/common, config and context are used by every layer and so use none above them.',
      severity: 'error',
      from: { path: '^src/(common/|config\\.ts$|context\\.ts$)' },
      to: { path: `^src/(modules|db)/|${TOP}`, ...valueOnly },
    },
    ...MODULES.map((name, i) => ({
      name: `modules-in-order-${name}`,
      comment: `A domain module uses only the modules before it in the order (${MODULES.join(' < ')}).`,
      severity: 'error',
      from: { path: `^src/modules/${name}/` },
      to: {
        path: `^src/modules/(${
          MODULES.filter((_, j) => j >= i)
            .filter((m) => m !== name)
            .join('|') || 'none'
        })/`,
        ...valueOnly,
      },
    })),
    {
      name: 'domain-below-the-edges',
      comment: 'Domain modules know nothing of the database wiring, the scheduler, HTTP, the CLIs or the composition root.',
      severity: 'error',
      from: { path: '^src/modules/' },
      to: { path: `^src/db/|${TOP}`, ...valueOnly },
    },
    {
      name: 'db-below-the-edges',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: TOP, ...valueOnly },
    },
    {
      name: 'jobs-below-http-and-cli',
      severity: 'error',
      from: { path: '^src/jobs/' },
      to: { path: '^src/(http/|cli/|server\\.ts$|main\\.ts$)', ...valueOnly },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No two folders depend on each other, directly or round a loop.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true, ...valueOnly },
    },
    {
      name: 'no-file-cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: valueOnly },
    },
    {
      name: 'unknown-module',
      comment: 'A folder under src/modules must take its place in MODULES above.',
      severity: 'error',
      from: { path: `^src/modules/(?!(${MODULES.join('|')})/)` },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
