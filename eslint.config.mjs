// The lint of `npm test` (`npm run lint`): typescript-eslint's recommended rules, plus the house
// habits of STYLE.md that a machine can check. Formatting is Prettier's job (.prettierrc.json),
// not the linter's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/generated/**', 'src/db/migrations/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Unused names are dead code; a leading underscore marks one kept on purpose (a destructured drop).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Named exports only (STYLE.md): a default export has no name to search for.
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use a named export.' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-console': 'off',
    },
  },
  {
    // CommonJS config files (dependency-cruiser's).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // Config files of tools that require a default export.
    files: ['vitest.config.ts', '*.config.ts', '*.config.mjs'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
