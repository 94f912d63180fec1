/**
 * Bearer JWTs from an OpenID provider (Firebase Authentication, Auth0, Keycloak …), checked
 * against the provider's published JSON Web Key Set. Signatures, the algorithm allow-list, key
 * selection and the registered claims are checked by `jose` (jwtVerify over a local JWK set);
 * this file adds what the service needs around it: a strict look at the token's shape before any
 * work, the key set fetched and cached on the verifier's own clock (Cache-Control max-age, one
 * fetch at a time, an unknown kid refetches at most once per interval, a failing provider leaves
 * the cached keys in use), and 401s naming the reason.
 *
 * Only asymmetric algorithms are allowed: neither `none` nor an HMAC keyed with a public key
 * (algorithm confusion) can pass, and jose only picks a key of the family the `alg` names.
 * Refusals are 401s naming the reason; none quotes the token.
 */
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import { AppError } from '../contract/errors.js';

export const SUPPORTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

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

interface KeySet {
  /** The usable signing keys as published (for kid lookups). */
  keys: JWK[];
  /** jose's view of them: imports each key once and picks by kid and algorithm family. */
  local: ReturnType<typeof createLocalJWKSet>;
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

/**
 * The token's protected header, after a strict look at its shape: three canonical base64url parts
 * (a lenient decoder would accept signatures with extra bits), a JSON header, no critical
 * extensions (RFC 7515 §4.1.11: one we do not understand must not be ignored).
 */
function header(token: string): Json {
  if (token.length > MAX_TOKEN_CHARS) throw unauthorized('malformed (too long)');
  const parts = token.split('.');
  if (parts.length !== 3) throw unauthorized('malformed (not three dot-separated parts)');
  const [h, p, s] = parts.map(segment);
  if (!h || !p || !s) throw unauthorized('malformed (a part is not base64url)');
  const parsed = jsonObject(h);
  if (!parsed) throw unauthorized('malformed (header is not a JSON object)');
  if (parsed.crit !== undefined) throw unauthorized('malformed (unsupported critical header)');
  return parsed;
}

/** True for something shaped like a compact JWS (as opposed to an `aiprod_<id>_<secret>` key); says nothing about validity. */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > MAX_TOKEN_CHARS || !parts.every((part) => SEGMENT.test(part))) return false;
  const parsed = jsonObject(Buffer.from(parts[0] ?? '', 'base64url'));
  return typeof parsed?.alg === 'string';
}

/** Bits of an RSA modulus given as base64url (`n` of a JWK). */
function modulusBits(n: unknown): number {
  if (typeof n !== 'string') return 0;
  const bytes = Buffer.from(n, 'base64url');
  const first = bytes.findIndex((b) => b !== 0);
  return first < 0 ? 0 : (bytes.length - first) * 8 - (Math.clz32(bytes[first] as number) - 24);
}

/** The public signing keys of a JWKS document; encryption, symmetric and RSA keys under 2048 bits are left out. */
function signingKeys(document: unknown): JWK[] {
  const listed: unknown[] = isObject(document) && Array.isArray(document.keys) ? document.keys : [];
  return listed.filter((jwk): jwk is JWK => {
    if (!isObject(jwk) || (jwk.use !== undefined && jwk.use !== 'sig')) return false;
    if (jwk.kty === 'RSA') return modulusBits(jwk.n) >= 2048;
    return jwk.kty === 'EC' || jwk.kty === 'OKP';
  });
}

function maxAgeSec(cacheControl: string | null): number | undefined {
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)/i.exec(cacheControl ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** jose's refusals, in the words of this API. */
function refusal(error: unknown, alg: string, allowed: readonly string[]): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof errors.JWTExpired) return unauthorized('expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return unauthorized('wrong issuer');
      case 'aud':
        return unauthorized('wrong audience');
      case 'exp':
        return unauthorized('no expiry (exp)');
      case 'nbf':
        return unauthorized('not yet valid (nbf)');
      case 'iat':
        return unauthorized('issued in the future (iat)');
      case 'sub':
        return unauthorized('no subject (sub)');
      default:
        return unauthorized(`claim ${error.claim} refused`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    const named = /^[A-Za-z0-9]{1,10}$/.test(alg) ? `${alg} ` : '';
    return unauthorized(`algorithm ${named}not allowed`, `sign tokens with one of ${allowed.join(', ')}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthorized('bad signature');
  if (error instanceof errors.JWKSNoMatchingKey) return unauthorized(`algorithm ${alg} does not match the signing key`);
  if (error instanceof errors.JWTInvalid) return unauthorized('malformed (payload is not a JSON object)');
  if (error instanceof errors.JWSInvalid || error instanceof errors.JOSENotSupported) return unauthorized('malformed');
  // A key jose cannot use (an odd curve, a broken JWK): the token cannot be checked, so it is refused.
  return new AppError('unauthorized', 'invalid bearer token: could not be verified', { cause: error, details: [{ path: 'Authorization', message: 'send a fresh token from the identity provider' }] });
}

/**
 * Verifies bearer JWTs against one issuer's JWKS.
 *
 * @example
 * const verifier = new JwksVerifier(firebaseVerifierOptions('my-project'));
 * const claims = await verifier.verify(token); // AppError 'unauthorized' when refused
 */
export class JwksVerifier {
  private keySet?: KeySet;
  private inflight?: Promise<KeySet>;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private readonly algorithms: readonly JwtAlgorithm[];
  private readonly fetchJson: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: JwksVerifierOptions) {
    if (!/^https?:\/\//.test(options.jwksUrl)) throw new AppError('internal', `JWKS URL must be http(s): got ${options.jwksUrl}`);
    if (!options.issuer || !options.audience) throw new AppError('internal', 'JWT issuer and audience must be set');
    const algorithms = options.algorithms ?? [...SUPPORTED_ALGORITHMS];
    const unsupported = algorithms.filter((alg) => !(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg));
    if (algorithms.length === 0 || unsupported.length > 0) {
      throw new AppError('internal', `JWT algorithms must be among ${SUPPORTED_ALGORITHMS.join(', ')}${unsupported.length ? `: got ${unsupported.join(', ')}` : ''}`);
    }
    this.algorithms = algorithms;
    this.fetchJson = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<JwtClaims> {
    const given = header(token);
    const alg = typeof given.alg === 'string' ? given.alg : '';
    // Refused before any key is fetched: `none`, HMAC and anything else not on the list.
    if (!(this.algorithms as readonly string[]).includes(alg)) throw refusal(new errors.JOSEAlgNotAllowed('not allowed'), alg, this.algorithms);
    const keys = await this.keysFor(typeof given.kid === 'string' ? given.kid : undefined);
    const tolerance = this.options.clockToleranceSec ?? 60;
    let claims: Json;
    try {
      ({ payload: claims } = await jwtVerify(token, keys.local, {
        algorithms: [...this.algorithms],
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: tolerance,
        currentDate: new Date(this.now()),
      }));
    } catch (error) {
      throw refusal(error, alg, this.algorithms);
    }
    // What jose leaves to the caller: iat and auth_time in the future, an empty subject.
    const now = this.now() / 1000;
    if (claims.iat !== undefined && !(isNumericDate(claims.iat) && claims.iat <= now + tolerance)) throw unauthorized('issued in the future (iat)');
    if (claims.auth_time === undefined ? this.options.requireAuthTime : !(isNumericDate(claims.auth_time) && claims.auth_time <= now + tolerance)) {
      throw unauthorized('auth_time missing or in the future');
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') throw unauthorized('no subject (sub)');
    return claims as JwtClaims;
  }

  /** The key set that has the token's key, refetched once (rotation) when it does not. Without a kid, only a set of one key is unambiguous. */
  private async keysFor(kid: string | undefined): Promise<KeySet> {
    const has = (set: KeySet): boolean => (kid === undefined ? set.keys.length === 1 : set.keys.some((k) => k.kid === kid));
    let set = await this.currentKeys();
    if (!has(set) && this.mayFetch()) set = await this.refresh(set);
    if (!has(set)) throw unauthorized('unknown signing key', 'the token was signed by a key the issuer does not publish');
    return set;
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
    this.keySet = { keys, local: createLocalJWKSet({ keys } as JSONWebKeySet), expiresAt: this.now() + ttlSec * 1000 };
    return this.keySet;
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
