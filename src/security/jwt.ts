/**
 * Bearer JWTs from an OpenID provider (Firebase Authentication, Auth0, Keycloak …), checked
 * against the provider's published JSON Web Key Set with node:crypto alone.
 *
 * Only asymmetric algorithms exist here, and a token's `alg` must be both in the allow-list and
 * of the same family as the key its `kid` names: neither `none` nor an HMAC keyed with a public
 * key (algorithm confusion) can pass. Refusals are 401s naming the reason; none quotes the token.
 */
import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AppError } from '../contract/errors.js';

interface AlgorithmSpec {
  kty: 'RSA' | 'EC' | 'OKP';
  hash: string | null;
  crv?: string;
  pss?: boolean;
  /** Bytes of an ECDSA signature as JWS carries it: r||s, each the curve's size (RFC 7518 §3.4). */
  ecSignatureBytes?: number;
}

const ALGORITHMS = {
  RS256: { kty: 'RSA', hash: 'sha256' },
  RS384: { kty: 'RSA', hash: 'sha384' },
  RS512: { kty: 'RSA', hash: 'sha512' },
  PS256: { kty: 'RSA', hash: 'sha256', pss: true },
  PS384: { kty: 'RSA', hash: 'sha384', pss: true },
  PS512: { kty: 'RSA', hash: 'sha512', pss: true },
  ES256: { kty: 'EC', hash: 'sha256', crv: 'P-256', ecSignatureBytes: 64 },
  ES384: { kty: 'EC', hash: 'sha384', crv: 'P-384', ecSignatureBytes: 96 },
  ES512: { kty: 'EC', hash: 'sha512', crv: 'P-521', ecSignatureBytes: 132 },
  EdDSA: { kty: 'OKP', hash: null, crv: 'Ed25519' },
} satisfies Record<string, AlgorithmSpec>;

export type JwtAlgorithm = keyof typeof ALGORITHMS;
export const SUPPORTED_ALGORITHMS = Object.keys(ALGORITHMS) as JwtAlgorithm[];

/** Where Firebase publishes the keys that sign its ID tokens. */
export const FIREBASE_JWKS_URL = 'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

/** The claims of a verified token: the registered ones checked, everything else (custom claims) as sent. */
export interface JwtClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  nbf?: number;
  iat?: number;
  auth_time?: number;
  [claim: string]: unknown;
}

export interface JwksVerifierOptions {
  /** http(s) URL of the provider's JWKS (`jwks_uri` of its OpenID configuration). */
  jwksUrl: string;
  /** Exact `iss` the tokens must carry. */
  issuer: string;
  /** Value that `aud` (a string or an array) must contain. */
  audience: string;
  /** Accepted `alg` values. Default: every supported asymmetric algorithm. */
  algorithms?: JwtAlgorithm[];
  /** Allowed clock skew for exp, nbf, iat and auth_time. Default 60. */
  clockToleranceSec?: number;
  /** How long a fetched JWKS is used when the response has no Cache-Control max-age. Default 600. */
  cacheTtlSec?: number;
  /** Least time between two fetches (a token with an unknown kid, a failing provider). Default 30. */
  refetchIntervalSec?: number;
  /** Timeout of one JWKS fetch, body included. Default 5000. */
  fetchTimeoutMs?: number;
  /** Refuse tokens without `auth_time` (Firebase ID tokens always carry it). Default false. */
  requireAuthTime?: boolean;
  fetch?: typeof fetch;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

/**
 * Options for Firebase ID tokens of one project.
 * @example new JwksVerifier(firebaseVerifierOptions('my-project'))
 */
export function firebaseVerifierOptions(projectId: string): JwksVerifierOptions {
  return { jwksUrl: FIREBASE_JWKS_URL, issuer: `https://securetoken.google.com/${projectId}`, audience: projectId, algorithms: ['RS256'], requireAuthTime: true };
}

interface SigningKey {
  key: KeyObject;
  kty: string;
  kid?: string;
  crv?: string;
  alg?: string;
}

interface KeySet {
  keys: SigningKey[];
  expiresAt: number;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function unauthorized(reason: string, remedy = 'send a fresh token from the identity provider'): AppError {
  return new AppError('unauthorized', `invalid bearer token: ${reason}`, { details: [{ path: 'Authorization', message: remedy }] });
}

function keysUnavailable(reason: string, cause?: unknown): AppError {
  return new AppError('not_ready', `token signing keys unavailable: ${reason}`, { cause });
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const MAX_TOKEN_CHARS = 16_384;

/** Strict base64url: the alphabet only, no padding, and no bits a re-encoding would not give back. */
function segment(text: string): Buffer | undefined {
  if (!SEGMENT.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function jsonObject(bytes: Buffer): Json | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

interface CompactJws {
  header: Json;
  payload: Buffer;
  signingInput: Buffer;
  signature: Buffer;
}

function parseCompact(token: string): CompactJws {
  if (token.length > MAX_TOKEN_CHARS) throw unauthorized('malformed (too long)');
  const parts = token.split('.');
  if (parts.length !== 3) throw unauthorized('malformed (not three dot-separated parts)');
  const [h, p, s] = parts.map(segment);
  if (!h || !p || !s) throw unauthorized('malformed (a part is not base64url)');
  const header = jsonObject(h);
  if (!header) throw unauthorized('malformed (header is not a JSON object)');
  // RFC 7515 §4.1.11: an extension we do not understand must not be ignored.
  if (header.crit !== undefined) throw unauthorized('malformed (unsupported critical header)');
  return { header, payload: p, signingInput: Buffer.from(`${parts[0]}.${parts[1]}`), signature: s };
}

/** True for something shaped like a compact JWS (as opposed to an `aiprod_<id>_<secret>` key); says nothing about validity. */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > MAX_TOKEN_CHARS || !parts.every((part) => SEGMENT.test(part))) return false;
  const header = jsonObject(Buffer.from(parts[0] ?? '', 'base64url'));
  return typeof header?.alg === 'string';
}

function fits(key: SigningKey, alg: JwtAlgorithm): boolean {
  const spec: AlgorithmSpec = ALGORITHMS[alg];
  return key.kty === spec.kty && (spec.crv === undefined || key.crv === spec.crv) && (key.alg === undefined || key.alg === alg);
}

function signatureValid(alg: JwtAlgorithm, key: KeyObject, input: Buffer, signature: Buffer): boolean {
  const spec: AlgorithmSpec = ALGORITHMS[alg];
  if (spec.ecSignatureBytes !== undefined && signature.length !== spec.ecSignatureBytes) return false;
  const options = spec.pss
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
    : spec.kty === 'EC'
      ? { key, dsaEncoding: 'ieee-p1363' as const }
      : { key };
  try {
    return verify(spec.hash, input, options, signature);
  } catch {
    return false;
  }
}

/** The public signing keys of a JWKS document; keys this process cannot use (encryption, HMAC, Ed448, RSA under 2048 bits) are skipped. */
function signingKeys(document: unknown): SigningKey[] {
  const listed: unknown[] = isObject(document) && Array.isArray(document.keys) ? document.keys : [];
  const usable: SigningKey[] = [];
  for (const jwk of listed) {
    if (!isObject(jwk) || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') continue;
    try {
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      if (jwk.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) continue;
      const text = (name: string): string | undefined => (typeof jwk[name] === 'string' ? (jwk[name] as string) : undefined);
      usable.push({ key, kty: jwk.kty, kid: text('kid'), crv: text('crv'), alg: text('alg') });
    } catch {
      // One unreadable key must not take the others down with it.
    }
  }
  return usable;
}

function maxAgeSec(cacheControl: string | null): number | undefined {
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)/i.exec(cacheControl ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Verifies bearer JWTs against one issuer's JWKS. The key set is cached (Cache-Control max-age,
 * else cacheTtlSec), concurrent fetches share one request, an unknown kid refetches at most once
 * per refetchIntervalSec (key rotation), and a failing provider leaves the cached keys in use.
 *
 * @example
 * const verifier = new JwksVerifier(firebaseVerifierOptions('my-project'));
 * const claims = await verifier.verify(token); // AppError 'unauthorized' when refused
 */
export class JwksVerifier {
  private keySet?: KeySet;
  private inflight?: Promise<KeySet>;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private readonly algorithms: ReadonlySet<JwtAlgorithm>;
  private readonly fetchJson: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: JwksVerifierOptions) {
    if (!/^https?:\/\//.test(options.jwksUrl)) throw new AppError('internal', `JWKS URL must be http(s): got ${options.jwksUrl}`);
    if (!options.issuer || !options.audience) throw new AppError('internal', 'JWT issuer and audience must be set');
    const algorithms = options.algorithms ?? SUPPORTED_ALGORITHMS;
    const unsupported = algorithms.filter((alg) => !Object.hasOwn(ALGORITHMS, alg));
    if (algorithms.length === 0 || unsupported.length > 0) {
      throw new AppError('internal', `JWT algorithms must be among ${SUPPORTED_ALGORITHMS.join(', ')}${unsupported.length ? `: got ${unsupported.join(', ')}` : ''}`);
    }
    this.algorithms = new Set(algorithms);
    this.fetchJson = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<JwtClaims> {
    const jws = parseCompact(token);
    const alg = jws.header.alg;
    if (typeof alg !== 'string' || !this.algorithms.has(alg as JwtAlgorithm)) {
      const named = typeof alg === 'string' && /^[A-Za-z0-9]{1,10}$/.test(alg) ? `${alg} ` : '';
      throw unauthorized(`algorithm ${named}not allowed`, `sign tokens with one of ${[...this.algorithms].join(', ')}`);
    }
    const kid = typeof jws.header.kid === 'string' ? jws.header.kid : undefined;
    const key = await this.keyFor(kid, alg as JwtAlgorithm);
    if (!signatureValid(alg as JwtAlgorithm, key.key, jws.signingInput, jws.signature)) throw unauthorized('bad signature');
    const payload = jsonObject(jws.payload);
    if (!payload) throw unauthorized('malformed (payload is not a JSON object)');
    return this.checkClaims(payload);
  }

  private async keyFor(kid: string | undefined, alg: JwtAlgorithm): Promise<SigningKey> {
    // Without a kid, only a set of one key is unambiguous.
    const named = (set: KeySet): SigningKey[] => (kid === undefined ? (set.keys.length === 1 ? set.keys : []) : set.keys.filter((k) => k.kid === kid));
    let candidates = named(await this.currentKeys());
    if (candidates.length === 0 && this.mayFetch()) candidates = named(await this.refresh(this.keySet));
    if (candidates.length === 0) throw unauthorized('unknown signing key', 'the token was signed by a key the issuer does not publish');
    const key = candidates.find((candidate) => fits(candidate, alg));
    if (!key) throw unauthorized(`algorithm ${alg} does not match the signing key`);
    return key;
  }

  private mayFetch(): boolean {
    return this.now() - this.lastFetchAt >= (this.options.refetchIntervalSec ?? 30) * 1000;
  }

  private async currentKeys(): Promise<KeySet> {
    const cached = this.keySet;
    if (cached && (cached.expiresAt > this.now() || !this.mayFetch())) return cached;
    return this.refresh(cached);
  }

  /** One fetch at a time, shared by everyone who asks meanwhile; with keys cached, a failed fetch keeps them. */
  private async refresh(cached: KeySet | undefined): Promise<KeySet> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    try {
      return await this.inflight;
    } catch (error) {
      if (cached) return cached;
      throw error;
    }
  }

  private async fetchKeys(): Promise<KeySet> {
    this.lastFetchAt = this.now();
    const url = this.options.jwksUrl;
    let document: unknown;
    let maxAge: number | undefined;
    try {
      const response = await this.fetchJson(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 5000) });
      if (!response.ok) throw keysUnavailable(`${url} answered ${response.status}`);
      maxAge = maxAgeSec(response.headers.get('cache-control'));
      document = await response.json();
    } catch (error) {
      throw error instanceof AppError ? error : keysUnavailable(`fetching ${url} failed (${error instanceof Error ? error.message : String(error)})`, error);
    }
    const keys = signingKeys(document);
    if (keys.length === 0) throw keysUnavailable(`${url} lists no usable signing key`);
    // A max-age of 0 must not mean a fetch per request; a huge one must not pin keys for days.
    const ttlSec = Math.min(Math.max(maxAge ?? this.options.cacheTtlSec ?? 600, this.options.refetchIntervalSec ?? 30), 86_400);
    this.keySet = { keys, expiresAt: this.now() + ttlSec * 1000 };
    return this.keySet;
  }

  private checkClaims(claims: Json): JwtClaims {
    const now = this.now() / 1000;
    const tolerance = this.options.clockToleranceSec ?? 60;
    const { issuer, audience } = this.options;
    if (claims.iss !== issuer) throw unauthorized('wrong issuer', `the token must be issued by ${issuer}`);
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!aud.includes(audience)) throw unauthorized('wrong audience', `the token must be meant for ${audience}`);
    if (!isNumericDate(claims.exp)) throw unauthorized('no expiry (exp)');
    if (claims.exp <= now - tolerance) throw unauthorized('expired');
    if (claims.nbf !== undefined && !(isNumericDate(claims.nbf) && claims.nbf <= now + tolerance)) throw unauthorized('not yet valid (nbf)');
    if (claims.iat !== undefined && !(isNumericDate(claims.iat) && claims.iat <= now + tolerance)) throw unauthorized('issued in the future (iat)');
    if (claims.auth_time === undefined ? this.options.requireAuthTime : !(isNumericDate(claims.auth_time) && claims.auth_time <= now + tolerance)) {
      throw unauthorized('auth_time missing or in the future');
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') throw unauthorized('no subject (sub)');
    return claims as JwtClaims;
  }
}

export interface ClaimMapping {
  /** Claim holding the tenant id: a top-level name (`tenant`, `https://aiprod.dev/tenant`) or a dotted path (`app_metadata.tenant`). Default `tenant`. */
  tenantClaim?: string;
  /** Claim holding the role; `admin` (or an array containing it) is admin, anything else member. Default `role`. */
  roleClaim?: string;
  /** Tenant of tokens without the tenant claim; unset refuses them. */
  defaultTenant?: string;
}

export interface JwtIdentity {
  tenantId: string;
  role: 'admin' | 'member';
  subject: string;
}

/** A claim by name, else by dotted path; names that themselves contain dots (namespaced URLs) win. */
function claimAt(value: unknown, path: string[]): unknown {
  if (!isObject(value)) return undefined;
  for (let i = path.length; i >= 1; i--) {
    const name = path.slice(0, i).join('.');
    if (!Object.hasOwn(value, name)) continue;
    const found = i === path.length ? value[name] : claimAt(value[name], path.slice(i));
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Who a verified token speaks for.
 * @example mapClaims(claims, { tenantClaim: 'https://aiprod.dev/tenant', defaultTenant: 'default' })
 */
export function mapClaims(claims: JwtClaims, mapping: ClaimMapping = {}): JwtIdentity {
  const tenantClaim = mapping.tenantClaim ?? 'tenant';
  const tenant = claimAt(claims, tenantClaim.split('.'));
  let tenantId: string;
  if (tenant === undefined || tenant === null) {
    if (mapping.defaultTenant === undefined) {
      throw new AppError('forbidden', 'token has no tenant claim', { details: [{ path: tenantClaim, message: 'give the user a tenant custom claim' }] });
    }
    tenantId = mapping.defaultTenant;
  } else if (typeof tenant === 'string' && tenant.trim() !== '' && tenant.length <= 128) {
    tenantId = tenant;
  } else {
    throw new AppError('forbidden', 'token tenant claim is not a tenant id', { details: [{ path: tenantClaim, message: 'use a non-empty string of at most 128 characters' }] });
  }
  const role = claimAt(claims, (mapping.roleClaim ?? 'role').split('.'));
  const admin = role === 'admin' || (Array.isArray(role) && role.includes('admin'));
  return { tenantId, role: admin ? 'admin' : 'member', subject: claims.sub };
}
