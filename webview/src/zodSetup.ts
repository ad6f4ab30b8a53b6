/**
 * Imported first by main.tsx: zod must not probe for `new Function` — the page's CSP
 * forbids eval, and each refused probe is reported as a violation. It has to run before
 * any schema (the protocol's) is built, hence its own module.
 */
import { config } from 'zod';

config({ jitless: true });
