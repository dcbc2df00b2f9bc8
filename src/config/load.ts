/**
 * Reads, parses and validates the YAML configuration. Every problem is reported as
 * `key.path: value rule` so an operator can fix the file without reading code.
 */
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

/** Formats a zod path as `bgp.peers[1].asn`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: is not a known key`);
  }
  const value = valueAt(input, issue.path);
  const path = formatPath(issue.path);
  if (value === undefined) return [`${path}: is required`];
  let message = issue.message;
  if (issue.code === 'invalid_type' && message.startsWith('Invalid'))
    message = `is not ${article(issue.expected)}`;
  else if (issue.code === 'invalid_value' && 'values' in issue)
    message = `is not one of ${issue.values.map((v) => String(v)).join(', ')}`;
  else if (message.startsWith('Too') || message.startsWith('Invalid')) message = message.toLowerCase();
  // A secret is never echoed (the line may end up in logs).
  const shown = isSecret(issue.path) ? '(hidden)' : JSON.stringify(value);
  return [`${path}: ${shown} ${message}`];
}

/**
 * A BGP peer's `password`, an OSPF interface's `auth.key` (RFC 2328 D.3: simple, MD5, HMAC keys), a
 * BFD `authentication.key` (RFC 5880 6.7).
 */
function isSecret(path: readonly PropertyKey[]): boolean {
  const last = path.at(-1);
  return (
    last === 'password' || (last === 'key' && (path.at(-2) === 'auth' || path.at(-2) === 'authentication'))
  );
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Validates an already-parsed document. Throws ConfigError listing every problem. */
export function validateConfig(input: unknown): Config {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(result.error.issues.flatMap((i) => describeIssue(i, input)));
  return result.data;
}

export function parseConfig(text: string, source = 'config'): Config {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${source}: YAML ${e.message.split('\n')[0]}`));
  }
  return validateConfig(doc.toJS());
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([
      `${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    ]);
  }
  return parseConfig(text, file);
}

/** The default node name (docs/configuration.md): $NODE_NAME, else the hostname. */
export function nodeName(config: Config): string {
  return config.node.name ?? process.env.NODE_NAME ?? hostname();
}

/**
 * The default router id: the lowest IPv4 address of an uplink interface (non-loopback here,
 * as the daemon does not know which interface is the uplink before it has a session).
 */
export function routerId(config: Config): string | undefined {
  if (config.node.routerId) return config.node.routerId;
  const candidates: number[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) {
        candidates.push(a.address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0));
      }
    }
  }
  if (candidates.length === 0) return undefined;
  const n = Math.min(...candidates);
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
