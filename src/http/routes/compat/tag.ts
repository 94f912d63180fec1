/** The OpenAPI tag of every route of the original API (its own module, so route files need not import index.ts, which imports them). */
export const COMPAT_TAG = 'compat';
