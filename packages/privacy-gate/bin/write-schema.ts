// Regenerates the published data contract JSON Schema from the zod schema:
// `pnpm --filter @tracemend/privacy-gate schema`. Commit the result; a test fails while it is stale.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATA_CONTRACT_SCHEMA_FILE, dataContractJsonSchema } from '../src/contract';

const file = fileURLToPath(new URL(`../../../${DATA_CONTRACT_SCHEMA_FILE}`, import.meta.url));
await mkdir(dirname(file), { recursive: true });
await writeFile(file, `${JSON.stringify(dataContractJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${DATA_CONTRACT_SCHEMA_FILE}\n`);
