import path from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC instead of esbuild: esbuild cannot emit decorator metadata, which both MikroORM
// (ReflectMetadataProvider) and type-graphql read to learn property types.
export default defineConfig({
  plugins: [
    swc.vite({
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      },
      module: { type: 'es6' },
    }),
  ],
  resolve: {
    // type-graphql and Apollo load graphql's CommonJS build; without this alias vitest would hand
    // our own modules the ESM build, and graphql-js refuses types from "another module or realm".
    // graphql-query-complexity's ESM build names the .mjs files outright; map those too.
    alias: [
      { find: /^graphql$/, replacement: path.resolve('node_modules/graphql/index.js') },
      { find: /^graphql\/(.+)\.mjs$/, replacement: `${path.resolve('node_modules/graphql')}/$1.js` },
    ],
  },
  test: {
    // Processed by vite so that its own `import 'graphql'` gets the alias above too.
    server: { deps: { inline: ['graphql-query-complexity'] } },
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on the CI machines; each integration file boots its own server and database.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
