/**
 * The LISTEN/NOTIFY channels every process shares. A NOTIFY on them is a hint to look again (the
 * rows are the truth), so a lost notification costs latency, never correctness.
 */

/** A production's status or progress changed: `{ id, tenantId }`. Event streams re-read it. */
export const EVENTS_CHANNEL = 'aiprod_production';
/** A production was canceled: `{ id }`. The worker rendering it aborts at once. */
export const CANCEL_CHANNEL = 'aiprod_cancel';
/** API keys changed (revoked, rotated): every API process drops its key cache. */
export const KEYS_CHANNEL = 'aiprod_keys';
