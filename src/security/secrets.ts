/**
 * Secrets at rest (webhook signing secrets, tenants' provider keys): envelope encryption with
 * AES-256-GCM. Each value is encrypted with a data key; data keys live in the database, each
 * wrapped (encrypted) with the master key from AIPROD_MASTER_KEY. Rotating the master key re-wraps
 * the data keys only — a few rows — so it runs while the service runs: running processes keep the
 * data keys they unwrapped at start, and new processes start with the new master key.
 *
 * Stored form of a value: `enc:v1:<dataKeyId>:<iv>:<ciphertext>:<tag>` (base64url parts). The
 * database row id and the purpose are bound in as additional authenticated data, so a ciphertext
 * copied to another row or column does not decrypt.
 *
 * @example
 *   const box = await SecretBox.open(db, masterKeys);
 *   const stored = box.seal('whsec_…', 'webhook:wh_1');
 *   box.open(stored, 'webhook:wh_1'); // 'whsec_…'
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { AppError } from '../contract/errors.js';
import type { AppDb } from '../db/database.js';
import { dataKeys } from '../db/schema.js';

const PREFIX = 'enc:v1:';
const FIRST_DATA_KEY = 'dk_0000000000000001';
const b64 = (buf: Buffer): string => buf.toString('base64url');
const unb64 = (text: string): Buffer => Buffer.from(text, 'base64url');

/** A 32-byte master key and its fingerprint (which identifies it without revealing it). */
export interface MasterKey {
  id: string;
  key: Buffer;
}

/** Parses AIPROD_MASTER_KEY-style text: 32 bytes as base64 (44 chars) or hex (64 chars). */
export function parseMasterKey(text: string, variable = 'AIPROD_MASTER_KEY'): MasterKey {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new AppError('internal', `invalid configuration: ${variable}: use 32 random bytes as base64 or hex (e.g. \`openssl rand -base64 32\`)`);
  }
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 12), key };
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

function encrypt(key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; ct: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ct, tag: cipher.getAuthTag() };
}

function decrypt(key: Buffer, parts: { iv: Buffer; ct: Buffer; tag: Buffer }, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, parts.iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(parts.tag);
  return Buffer.concat([decipher.update(parts.ct), decipher.final()]);
}

const wrapAad = (dataKeyId: string): string => `aiprod-data-key:${dataKeyId}`;

function wrap(master: MasterKey, dataKeyId: string, dataKey: Buffer): string {
  const { iv, ct, tag } = encrypt(master.key, dataKey, wrapAad(dataKeyId));
  return [b64(iv), b64(ct), b64(tag)].join('.');
}

function unwrap(master: MasterKey, dataKeyId: string, wrapped: string): Buffer {
  const [iv, ct, tag] = wrapped.split('.').map(unb64);
  if (!iv || !ct || !tag) throw new Error('malformed wrapped key');
  return decrypt(master.key, { iv, ct, tag }, wrapAad(dataKeyId));
}

export class SecretBox {
  private constructor(
    private readonly keys: Map<string, Buffer>,
    private readonly activeId: string,
  ) {}

  /**
   * Loads and unwraps every data key with `current` (or, during a rotation, `previous`), creating
   * the first data key on an empty database.
   */
  static async open(db: AppDb, masters: { current: MasterKey; previous?: MasterKey }): Promise<SecretBox> {
    let rows = await db.select().from(dataKeys);
    if (rows.length === 0) {
      // One fixed id for the first key: processes starting together on an empty database race for
      // one row, and every one of them then reads the winner's key.
      const id = FIRST_DATA_KEY;
      await db.insert(dataKeys).values({ id, wrappedKey: wrap(masters.current, id, randomBytes(32)), masterKeyId: masters.current.id, active: true }).onConflictDoNothing();
      rows = await db.select().from(dataKeys);
    }
    const keys = new Map<string, Buffer>();
    for (const row of rows) {
      const master = [masters.current, masters.previous].find((m) => m?.id === row.masterKeyId);
      if (!master) {
        throw new AppError('internal', `data key ${row.id} is wrapped with master key ${row.masterKeyId}, and AIPROD_MASTER_KEY is ${masters.current.id}: set the key it was made with (or put it in AIPROD_MASTER_KEY_PREVIOUS during a rotation)`);
      }
      keys.set(row.id, unwrap(master, row.id, row.wrappedKey));
    }
    const active = rows.find((r) => r.active) ?? rows[0];
    return new SecretBox(keys, active?.id ?? '');
  }

  /**
   * A 32-byte key for `purpose` (e.g. `output-links`), derived (HKDF-SHA256) from the first data
   * key: the same in every process of the installation, and never the data key itself.
   */
  deriveKey(purpose: string): Buffer {
    const base = this.keys.get(FIRST_DATA_KEY) ?? this.keys.get(this.activeId);
    if (!base) throw new AppError('internal', 'no data key to derive from');
    return Buffer.from(hkdfSync('sha256', base, Buffer.alloc(0), `aiprod:${purpose}`, 32));
  }

  /** Encrypts `plaintext` for the place named by `context` (e.g. `webhook:<id>`). */
  seal(plaintext: string, context: string): string {
    const key = this.keys.get(this.activeId);
    if (!key) throw new AppError('internal', 'no active data key');
    const { iv, ct, tag } = encrypt(key, Buffer.from(plaintext, 'utf8'), context);
    return `${PREFIX}${this.activeId}:${b64(iv)}:${b64(ct)}:${b64(tag)}`;
  }

  open(stored: string, context: string): string {
    if (!stored.startsWith(PREFIX)) throw new AppError('internal', 'a stored secret is not in the encrypted format');
    const [id, iv, ct, tag] = stored.slice(PREFIX.length).split(':');
    const key = id ? this.keys.get(id) : undefined;
    if (!key || !iv || !ct || !tag) throw new AppError('internal', `cannot decrypt a secret: unknown data key ${id ?? '?'}`);
    try {
      return decrypt(key, { iv: unb64(iv), ct: unb64(ct), tag: unb64(tag) }, context).toString('utf8');
    } catch {
      throw new AppError('internal', `cannot decrypt the secret of ${context}: it was altered or belongs elsewhere`);
    }
  }
}

/**
 * Re-wraps every data key from `from` to `to`, in one transaction; values encrypted with the data
 * keys are untouched, so running processes (which hold the unwrapped data keys) carry on.
 * Returns how many keys were re-wrapped; keys already under `to` are left as they are.
 */
export async function rotateMasterKey(db: AppDb, from: MasterKey, to: MasterKey): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx.select().from(dataKeys).for('update');
    let moved = 0;
    for (const row of rows) {
      if (row.masterKeyId === to.id) continue;
      if (row.masterKeyId !== from.id) {
        throw new AppError('internal', `data key ${row.id} is wrapped with master key ${row.masterKeyId}, neither the old (${from.id}) nor the new (${to.id})`);
      }
      const dataKey = unwrap(from, row.id, row.wrappedKey);
      await tx.update(dataKeys).set({ wrappedKey: wrap(to, row.id, dataKey), masterKeyId: to.id, rotatedAt: new Date() }).where(eq(dataKeys.id, row.id));
      moved++;
    }
    return moved;
  });
}
