// A second process appending to an audit log, for the test that several writers keep one chain:
// `node --import tsx audit-writer.ts <log> <key JSON> <writer number> <records>`.
import { createAuditLog } from '../audit';

const [file, keyJson, writer, count] = process.argv.slice(2);
if (!file || !keyJson || !writer || !count) throw new Error('usage: audit-writer.ts <log> <key JSON> <writer number> <records>');
const log = createAuditLog({ file, key: JSON.parse(keyJson) as { id: string; secret: string } });
for (let n = 0; n < Number(count); n++) {
  await log.append({
    incidentId: `writer-${writer}-${n}`,
    service: 'users-api',
    outcome: 'released',
    decisions: [],
    droppedUnknown: [],
    detectorHits: [],
  });
}
