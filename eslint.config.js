// Lint rules that guard the project's invariants (see docs/architecture.md): no floating promises,
// exhaustive switches, contract/ free of server imports, the layers of src/ importing only downwards,
// and no import cycles.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first. A directory may import its own layer and those listed before
 * it, never one after it: adapters know nothing of the pipeline, the pipeline nothing of the
 * service, services reach webhooks only through the ProductionEvents port, and only main/ wires
 * everything together.
 */
const LAYERS = [
  ['contract', 'config', 'lib', 'observability', 'types'],
  ['media', 'net', 'storage', 'db', 'providers', 'queue'],
  ['pipeline', 'security', 'design'],
  ['services'],
  // The original API's shapes over the v1 services (routes in http/routes/compat).
  ['compat'],
  ['webhooks'],
  ['jobs'],
  ['http'],
  ['main'],
];
const layerZones = LAYERS.slice(0, -1).flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return layer.map((dir) => ({
    target: `./src/${dir}`,
    from: above.map((d) => `./src/${d}`),
    message: `src/${dir} sits below ${above.join(', ')} (see LAYERS in eslint.config.js): depend on a port it owns, and let main/ pass the implementation in.`,
  }));
});
// Within the middle layers, siblings that must not know each other.
const siblingZones = [
  { target: './src/pipeline', from: ['./src/security', './src/db', './src/storage', './src/queue'], message: 'the pipeline renders a brief; the service around it (database, queue, storage, security) is not its business.' },
  { target: './src/security', from: ['./src/pipeline'], message: 'security does not render.' },
  { target: ['./src/media', './src/storage', './src/db', './src/providers', './src/queue'], from: ['./src/net'], message: 'only the pipeline and services fetch media from the network.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'bin/**', '.aiprod-cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() returns a promise the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: [...layerZones, ...siblingZones] }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Tests may reach across layers to set up what they test.
    files: ['src/**/*.test.ts'],
    rules: { 'import-x/no-restricted-paths': 'off' },
  },
  {
    files: ['src/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', '!../contract/*'], message: 'contract/ is shared with the SDK: import only zod and contract/ files.' }] },
      ],
    },
  },
);
