/**
 * Zip archives written as the reader pulls (fflate's streaming Zip), so a stored video goes
 * through in chunks and never sits whole in memory. Shared by the original API's exports
 * (compat/export.ts) and the /v1 exports (services/exports.service.ts).
 */
import { Readable } from 'node:stream';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

/**
 * A file of a zip: a text (deflated), text produced in pieces (deflated as it comes: a table too
 * large to hold as one string), or stored bytes read from a stream (kept as they are: a video does
 * not compress).
 */
export type ZipEntry =
  | { name: string; text: string }
  | { name: string; pieces: () => AsyncIterable<string> }
  | { name: string; bytes: number; open: () => Promise<AsyncIterable<Uint8Array>> };

/** The bytes an entry puts into the archive before compression (0 for pieces: not known until written). */
export const entryBytes = (entry: ZipEntry): number => ('text' in entry ? Buffer.byteLength(entry.text) : 'bytes' in entry ? entry.bytes : 0);

/**
 * The zip of `entries`, produced as the reader pulls: each stored chunk is read only when the
 * previous output was taken, so a slow client holds back the storage read instead of filling
 * memory. Stops reading (and closes the stored stream) when the reader goes away.
 *
 * fflate writes no ZIP64 records, so an archive must stay under 4 GiB (callers cap it lower).
 */
export function zipStream(entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>, modifiedAt = new Date()): Readable {
  return Readable.from(zipChunks(entries, modifiedAt), { objectMode: false });
}

async function* zipChunks(entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>, modifiedAt: Date): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failure: Error | null = null;
  // fflate calls back synchronously from push() and end(): what it produced is taken from `ready` after each call.
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else if (chunk.length > 0) ready.push(chunk);
  });
  function* take(): Generator<Uint8Array> {
    if (failure) throw failure;
    while (ready.length > 0) yield ready.shift() as Uint8Array;
  }
  for await (const entry of entries) {
    if ('text' in entry) {
      const file = new ZipDeflate(entry.name, { level: 6 });
      file.mtime = modifiedAt;
      zip.add(file);
      file.push(Buffer.from(entry.text), true);
    } else if ('pieces' in entry) {
      const file = new ZipDeflate(entry.name, { level: 6 });
      file.mtime = modifiedAt;
      zip.add(file);
      for await (const piece of entry.pieces()) {
        file.push(Buffer.from(piece));
        yield* take();
      }
      file.push(new Uint8Array(0), true);
    } else {
      const file = new ZipPassThrough(entry.name);
      file.mtime = modifiedAt;
      zip.add(file);
      for await (const chunk of await entry.open()) {
        file.push(chunk);
        yield* take();
      }
      file.push(new Uint8Array(0), true);
    }
    yield* take();
  }
  zip.end();
  yield* take();
}
