// ESLint (flat config): typescript-eslint's recommended rules on product, test and benchmark
// code; formatting is Prettier's (eslint-config-prettier turns the overlapping rules off).
// Run by `npm run lint` and by the lint tests (test/lint/).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'test/interop/**/target/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      eqeqeq: ['error', 'always'],
      'no-restricted-syntax': ['error', { selector: "ConditionalExpression[test.type='BinaryExpression'][test.operator='instanceof'][test.right.name='Error'][consequent.property.name='message']", message: 'use errorMessage(err) from src/common/error-message.ts' }],
    },
  },
  {
    // The one place that spells the rule out.
    files: ['src/common/error-message.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
