import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-output/**', 'web/dist/**', 'reports/**', '.stryker-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/machines/**/*.ts', 'src/actors/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Simulation code uses virtual time only.' },
        { object: 'Math', property: 'random', message: 'Simulation code uses the seeded PRNG only.' },
        { object: 'performance', property: 'now', message: 'Simulation code uses virtual time only.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Simulation code schedules on the kernel queue.' },
        { name: 'setInterval', message: 'Simulation code schedules on the kernel queue.' },
        { name: 'setImmediate', message: 'Simulation code schedules on the kernel queue.' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'Simulation code uses virtual time only.' }],
    },
  },
);
