import { base, workflows } from '@tracemend/eslint-config';

export default [...base, ...workflows(['packages/workflows/src/**/*.ts'])];
