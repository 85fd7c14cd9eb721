// Lint: typescript-eslint on top of ESLint's recommended rules; formatting is
// Prettier's job (eslint-config-prettier turns off the overlapping rules).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { layersPlugin } from './eslint/layers.js';

const pure = 'src/domain is pure: no I/O here (see STYLE.md). Pass values in, return values out.';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.dist-*/', '.lastday/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['ioredis', 'bullmq', 'fastify', 'pino', 'standardwebhooks'].map((name) => ({
            name,
            message: pure,
          })),
          patterns: [
            { group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', 'dgram'], message: pure },
          ],
        },
      ],
    },
  },
  {
    // Imports point down the layers (eslint/layers.js): every folder, not only src/domain.
    files: ['src/**/*.ts', 'jobs/**/*.ts'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/imports': 'error' },
  },
  prettier,
);
