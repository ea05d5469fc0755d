import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';

/** One entry of an image root filesystem: a directory, a file (from the host or inline) or a symlink. */
export type RootfsEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode: number; readonly uid?: number; readonly gid?: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly source: string; readonly size: number }
  | { readonly type: 'inline'; readonly path: string; readonly mode: number; readonly content: Buffer }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

const BLOCK = 512;

function writeString(header: Buffer, value: string, offset: number, length: number): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar header field too long: ${value}`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  writeString(header, value.toString(8).padStart(length - 1, '0'), offset, length - 1);
}

function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  const cut = path.lastIndexOf('/', 155);
  if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`tar path too long: ${path}`);
  return { name: path.slice(cut + 1), prefix: path.slice(0, cut) };
}

/** A POSIX ustar header block. */
function ustarHeader(entry: RootfsEntry, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const isDir = entry.type === 'dir';
  const { name, prefix } = splitName(entry.path.replace(/^\/+/, '') + (isDir ? '/' : ''));
  const typeflag = entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0';
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  const uid = entry.type === 'dir' ? (entry.uid ?? 0) : 0;
  const gid = entry.type === 'dir' ? (entry.gid ?? 0) : 0;
  writeString(header, name, 0, 100);
  writeOctal(header, mode, 100, 8);
  writeOctal(header, uid, 108, 8);
  writeOctal(header, gid, 116, 8);
  writeOctal(header, size, 124, 12);
  // A fixed mtime keeps the layer identical across builds of the same contents.
  writeOctal(header, 0, 136, 12);
  header.fill(' ', 148, 156);
  writeString(header, typeflag, 156, 1);
  if (entry.type === 'symlink') writeString(header, entry.target, 157, 100);
  writeString(header, 'ustar\u000000', 257, 8);
  writeString(header, prefix, 345, 155);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  writeString(header, checksum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8);
  return header;
}

async function writeChunk(out: PassThrough, chunk: Buffer): Promise<void> {
  if (!out.write(chunk)) {
    await new Promise<void>((resolve) => out.once('drain', resolve));
  }
}

async function writeEntry(out: PassThrough, entry: RootfsEntry): Promise<void> {
  const size = entry.type === 'file' ? entry.size : entry.type === 'inline' ? entry.content.length : 0;
  await writeChunk(out, ustarHeader(entry, size));
  if (entry.type === 'inline') await writeChunk(out, entry.content);
  if (entry.type === 'file') {
    let written = 0;
    for await (const chunk of createReadStream(entry.source)) {
      const buffer = chunk as Buffer;
      written += buffer.length;
      await writeChunk(out, buffer);
    }
    if (written !== size) throw new Error(`file changed while archiving: ${entry.source}`);
  }
  const padding = (BLOCK - (size % BLOCK)) % BLOCK;
  if (padding > 0) await writeChunk(out, Buffer.alloc(padding));
}

/** Streams the entries as an uncompressed tar archive, in the given order. */
export function createTarStream(entries: readonly RootfsEntry[]): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const pump = async (): Promise<void> => {
    for (const entry of entries) await writeEntry(out, entry);
    out.end(Buffer.alloc(BLOCK * 2));
  };
  pump().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}
