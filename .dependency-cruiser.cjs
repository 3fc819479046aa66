/**
 * Import boundaries (see ../shared/STYLE.md): imports point inward.
 * src/ is the domain and sees no adapter and no Node I/O module; src/main.ts is the one
 * composition root. sip/, api/ and db/ are adapters: they import src/, never each other.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-adapter',
      comment: 'src/ (the domain) must not import sip/, api/ or db/; only src/main.ts may.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^(sip|api|db)/' },
    },
    {
      name: 'domain-imports-node-io',
      comment: 'src/ has no I/O: no Node built-ins that touch the network, files or processes.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|net|dgram|tls|http|https|http2|child_process|cluster|worker_threads|dns|fs/promises)$',
      },
    },
    {
      name: 'sip-imports-other-adapter',
      severity: 'error',
      from: { path: '^sip/' },
      to: { path: '^(api|db)/' },
    },
    {
      name: 'api-imports-other-adapter',
      severity: 'error',
      from: { path: '^api/' },
      to: { path: '^(sip|db)/' },
    },
    {
      name: 'db-imports-other-adapter',
      severity: 'error',
      from: { path: '^db/' },
      to: { path: '^(sip|api)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
