/**
 * Authentication and scopes. Every route except the few listed as public (health, readiness,
 * metrics, the API documents and the original API's preset list) takes `Authorization: Bearer <credential>`,
 * where the credential is an API key (`aiprod_<id>_<secret>`) or, when JWT_* is configured, an ID
 * token from an OpenID provider (Firebase works). The principal (tenant, tier, scopes, actor) is
 * attached to the request.
 *
 * A route names the scope it needs in `config.scope`; without one, reads need productions:read and
 * everything else productions:write. `admin` covers every scope of its own tenant; an admin of the
 * operator tenant (`default`) is an operator and may act on every tenant.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../contract/errors.js';
import type { Database } from '../db/database.js';
import { JwksVerifier, looksLikeJwt, mapClaims, type ClaimMapping } from '../security/jwt.js';
import type { OutputLinks } from '../security/output-links.js';
import type { FailedAuthWatch } from '../services/audit.service.js';
import { KEYS_CHANNEL } from '../db/channels.js';
import { CachedAuthenticator, type Principal, type Scope } from '../services/keys.service.js';
import { DEFAULT_TENANT, getTenant } from '../services/tenants.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The tenant of a signed output link (`?token=`) that this request downloads with, instead of a principal. */
    linkTenant?: string;
  }
  interface FastifyContextConfig {
    /** The scope a route needs (default: productions:read for reads, productions:write otherwise). */
    scope?: Scope;
  }
}

const HINT = { path: 'Authorization', message: 'send "Authorization: Bearer aiprod_<id>_<secret>" (an API key) or an ID token of the configured provider' };

export function principal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthorized', 'no credentials', { details: [HINT] });
  return request.principal;
}

/** Operators are admins of the operator tenant; they may act on any tenant. */
export const isOperator = (who: Principal): boolean => who.tenantId === DEFAULT_TENANT && who.scopes.includes('admin');

/** The tenant a request acts on: its own, or for an operator the one it names. */
export function actingTenant(request: FastifyRequest, named?: string): string {
  const who = principal(request);
  if (!named || named === who.tenantId) return who.tenantId;
  if (!isOperator(who)) throw new AppError('forbidden', 'only an operator may act on another tenant', { details: [{ path: 'tenantId', message: 'leave it out to act on your own tenant' }] });
  return named;
}

export function requireOperator(request: FastifyRequest): Principal {
  const who = principal(request);
  if (!isOperator(who)) throw new AppError('forbidden', 'this needs an operator key (an admin key of the default tenant)', { details: [HINT] });
  return who;
}

/**
 * The routes that answer without credentials; every other route — and any path no route matches —
 * needs them, so a route added anywhere is protected unless it is listed here. Decided on the
 * route the router matched (its pattern), never on the raw URL.
 */
const PUBLIC_ROUTES = new Set(['/health', '/ready', '/metrics', '/openapi.json', '/presets', '/export/formats']);
/** Swagger UI's own routes (the page, its scripts, the document it shows) live under /docs. */
const isPublicRoute = (route: string | undefined): boolean => route !== undefined && (PUBLIC_ROUTES.has(route) || route === '/docs' || route.startsWith('/docs/'));

/**
 * Browsers cannot set headers on EventSource or WebSocket, so the event streams also take the
 * credential as `?access_token=`. Nowhere else: URLs end up in logs and histories.
 */
const STREAM_ROUTES = new Set(['/v1/productions/:id/events', '/v1/productions/:id/ws', '/ws/job/:id']);

function streamToken(route: string | undefined, url: string): string | undefined {
  const query = url.split('?', 2)[1];
  if (!query || !route || !STREAM_ROUTES.has(route)) return undefined;
  return new URLSearchParams(query).get('access_token') ?? undefined;
}

export interface AuthOptions {
  database: Database;
  /**
   * ID tokens are accepted when set. `allowOperator`: an admin token of the operator tenant is an
   * operator (JWT_ALLOW_OPERATOR); otherwise it gets member scopes only.
   */
  jwt?: { verifier: JwksVerifier; mapping: ClaimMapping; allowOperator?: boolean };
  failedAuth?: FailedAuthWatch;
  /**
   * Charged for every failed authentication from an address; throws (429) when it is over its
   * limit. Only failures count: a valid credential authenticates whatever its address did before.
   */
  limitFailures?: (ip: string) => Promise<void>;
  /** Verifies signed links (`?token=` on LINK_ROUTES): such a download needs no credentials. */
  outputLinks?: OutputLinks;
}

/** The download route that signed links (security/output-links.ts) open. */
const OUTPUT_ROUTE = '/v1/productions/:id/outputs/:name';

/**
 * The routes a signed link opens, and what each link is signed for: an output of a production,
 * or a ready export's file (its subject and name as services/exports.service.ts signs them).
 */
const LINK_ROUTES: Record<string, (params: Record<string, string>) => { subject: string; name: string }> = {
  [OUTPUT_ROUTE]: (p) => ({ subject: p.id ?? '', name: p.name ?? '' }),
  '/v1/exports/:id/download': (p) => ({ subject: `export:${p.id ?? ''}`, name: 'download' }),
};

const MEMBER_SCOPES: Scope[] = ['productions:read', 'productions:write', 'webhooks'];

export async function registerAuth(app: FastifyInstance, options: AuthOptions): Promise<() => Promise<void>> {
  const keys = new CachedAuthenticator(options.database.db);
  // A key revoked or rotated in any process stops working here at once (and after the listener
  // reconnects, since notifications in between were lost).
  const unlisten = await options.database.listen(KEYS_CHANNEL, () => keys.clear(), { onReconnect: () => keys.clear() });

  const fromJwt = async (token: string): Promise<Principal> => {
    if (!options.jwt) throw new AppError('unauthorized', 'ID tokens are not accepted by this server', { details: [HINT] });
    const identity = mapClaims(await options.jwt.verifier.verify(token), options.jwt.mapping);
    // Only "no such tenant" is a 403; a database error stays an error.
    const tenant = await getTenant(options.database.db, identity.tenantId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'not_found') return undefined;
      throw error;
    });
    if (!tenant) throw new AppError('forbidden', `the token's tenant ${identity.tenantId} does not exist here`, { details: [{ path: 'Authorization', message: 'ask an operator to create the tenant' }] });
    // The admin scope of the operator tenant reaches every tenant: an identity provider's role claim
    // (often editable by whoever administers the provider, not this server) must not grant it by itself.
    const admin = identity.role === 'admin' && (tenant.id !== DEFAULT_TENANT || options.jwt.allowOperator === true);
    return {
      tenantId: tenant.id,
      tier: tenant.tier,
      actor: `jwt:${identity.subject}`,
      scopes: admin ? ['admin', ...MEMBER_SCOPES] : MEMBER_SCOPES,
    };
  };

  app.addHook('onRequest', async (request) => {
    // Decided on the route the router matched, not the raw URL: /v1/estimat%65 is /v1/estimate.
    const route = request.routeOptions.url;
    if (isPublicRoute(route)) return;
    const header = request.headers.authorization;
    const linked = route === undefined ? undefined : LINK_ROUTES[route];
    if (linked && !header && options.outputLinks) {
      const token = new URLSearchParams(request.url.split('?', 2)[1] ?? '').get('token');
      if (token !== null) {
        const { subject, name } = linked(request.params as Record<string, string>);
        const link = options.outputLinks.verify(token, subject, name);
        if (!link) {
          options.failedAuth?.note(request.ip, 'invalid_link');
          await options.limitFailures?.(request.ip);
          throw new AppError('unauthorized', 'this download link has expired or is not valid', { details: [{ path: 'token', message: 'read the production again for a fresh link, or send an API key' }] });
        }
        request.linkTenant = link.tenantId;
        return;
      }
    }
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : streamToken(route, request.url);
    try {
      if (!token) throw new AppError('unauthorized', 'missing credentials', { details: [HINT] });
      request.principal = looksLikeJwt(token) ? await fromJwt(token) : await keys.authenticate(token);
    } catch (error) {
      if (error instanceof AppError && error.status === 401) {
        options.failedAuth?.note(request.ip, error.code);
        // Guessing keys is limited like any unauthenticated traffic from the address.
        await options.limitFailures?.(request.ip);
      }
      throw error;
    }
    const needed = request.routeOptions.config?.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'productions:read' : 'productions:write');
    const who = request.principal;
    if (!who.scopes.includes(needed) && !who.scopes.includes('admin')) {
      throw new AppError('forbidden', `these credentials lack the ${needed} scope`, { details: [{ path: 'Authorization', message: `use a key with ${needed}` }] });
    }
  });
  return unlisten;
}
