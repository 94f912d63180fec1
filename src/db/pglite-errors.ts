/**
 * What went wrong when the embedded database (PGlite) could not start or write. Its file system
 * runs in WebAssembly and throws Emscripten `ErrnoError` objects — `{ name, errno }` with WASI
 * numbers, not Error instances — which print as "[object Object]". This names the errno, says what
 * it means, and names the data directory.
 */

/** WASI errno numbers (what Emscripten's file system uses) that a data directory can run into. */
const ERRNO: Record<number, [string, string]> = {
  2: ['EACCES', 'permission denied'],
  19: ['EDQUOT', 'disk quota exceeded'],
  20: ['EEXIST', 'file exists'],
  29: ['EIO', 'input/output error'],
  31: ['EISDIR', 'is a directory'],
  44: ['ENOENT', 'no such file or directory'],
  51: ['ENOSPC', 'no space left on device'],
  54: ['ENOTDIR', 'not a directory'],
  63: ['EPERM', 'operation not permitted'],
  69: ['EROFS', 'read-only file system'],
};

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object') {
    const { name, errno } = error as { name?: unknown; errno?: unknown };
    if (typeof errno === 'number') {
      const known = ERRNO[errno];
      return known ? `${known[0]} (${known[1]})` : `${typeof name === 'string' ? name : 'file-system error'} errno ${errno}`;
    }
    try {
      return JSON.stringify(error);
    } catch {
      return Object.prototype.toString.call(error);
    }
  }
  return String(error);
}

/** An Error for a failure of the embedded database in `dataDir`, with the original as its cause. */
export function pgliteStartError(error: unknown, dataDir: string | undefined): Error {
  const where = dataDir ? ` in ${dataDir}` : '';
  return new Error(`the embedded database${where} failed: ${describe(error)}; check free space and permissions of the data directory (AIPROD_DATA_DIR), or use PostgreSQL (DATABASE_URL)`, { cause: error });
}
