/**
 * The planner's offline input (`podroute aws plan --input FILE`):
 *   { "budget": 50, "allowCrossZone": false, "networks": ["198.19.0.0/16"],
 *     "nodes": [{ "name", "zone", "subnet", "rack"?, "instanceId", "eniId", "blocks": [...],
 *                 "healthy": true }],
 *     "previous": <a plan printed by --json>? }
 * Validated strictly: every problem comes back as `key.path: value why`, e.g.
 * `nodes[2].blocks[0]: "198.19.0.1/26" has host bits set (did you mean 198.19.0.0/26?)`.
 */
import { z } from 'zod';
import { formatPath } from '../../config/load.js';
import { type Prefix, parsePrefix } from '../../net/prefix.js';
import type { Plan, PlanNode } from './plan-types.js';

export class PlanInputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'PlanInputError';
  }
}

const text = (what: string) => z.string({ error: `is not ${what}` }).min(1, { error: `is not ${what}` });

const prefix = z.string({ error: 'is not a prefix' }).transform((s, ctx): Prefix => {
  try {
    return parsePrefix(s);
  } catch (e) {
    // PrefixError messages open with the text itself, which the problem line already shows.
    const m = (e as Error).message;
    const own = [`${JSON.stringify(s)} `, `${s} `].find((head) => m.startsWith(head));
    ctx.addIssue({ code: 'custom', message: own ? m.slice(own.length) : m });
    return z.NEVER;
  }
});

const budget = z
  .number({ error: 'is not a whole number of routes (0..1000)' })
  .int({ error: 'is not a whole number of routes (0..1000)' })
  .min(0, { error: 'is not a whole number of routes (0..1000)' })
  .max(1000, { error: 'is more than a VPC route table can hold (1000)' });

const nodeSchema = z.strictObject(
  {
    name: text('a node name'),
    zone: text('an availability zone name'),
    subnet: text('a subnet id'),
    rack: z.string({ error: 'is not a rack name' }).optional(),
    instanceId: z
      .string({ error: 'is not an instance id' })
      .regex(/^i-[0-9a-f]+$/, { error: 'is not an instance id (i-…)' }),
    eniId: z
      .string({ error: 'is not an ENI id' })
      .regex(/^eni-[0-9a-f]+$/, { error: 'is not an ENI id (eni-…)' }),
    blocks: z.array(prefix, { error: 'is not a list of prefixes' }),
    healthy: z.boolean({ error: 'is not true or false' }).default(true),
  },
  { error: 'is not a node object' },
);

const routeSchema = z.looseObject({
  destination: z.string(),
  node: z.string(),
  instanceId: z.string(),
  eniId: z.string(),
  via: z.enum(['node', 'forwarder']).default('node'),
  group: z.string().optional(),
});

const forwarderSchema = z.looseObject({
  node: z.string(),
  instanceId: z.string().default(''),
  eniId: z.string().default(''),
  group: z.string(),
  level: z.enum(['rack', 'zone', 'subnet']).default('zone'),
  for: z.array(z.string()).default([]),
});

/** A plan printed by `--json` (extra fields allowed), used as the previous plan. */
export const planSchema = z.looseObject({
  budget: z.number().default(0),
  routes: z.array(routeSchema).default([]),
  forwarders: z.array(forwarderSchema).default([]),
  unplanned: z.array(z.looseObject({ block: z.string(), node: z.string(), reason: z.string() })).default([]),
});

const inputSchema = z
  .strictObject({
    budget: budget.optional(),
    allowCrossZone: z.boolean({ error: 'is not true or false' }).default(false),
    networks: z.array(prefix, { error: 'is not a list of prefixes' }).optional(),
    nodes: z.array(nodeSchema, { error: 'is not a list of nodes' }),
    previous: planSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const seen = new Map<string, number>();
    v.nodes.forEach((n, i) => {
      const j = seen.get(n.name);
      if (j !== undefined)
        ctx.addIssue({ code: 'custom', path: ['nodes', i, 'name'], message: `is nodes[${j}].name too` });
      seen.set(n.name, i);
    });
  });

export interface PlanInput {
  readonly budget: number | undefined;
  readonly allowCrossZone: boolean;
  readonly networks: Prefix[] | undefined;
  readonly nodes: PlanNode[];
  readonly previous: Plan | undefined;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[part];
  }
  return v;
}

function describe(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: is not a known key`);
  const value = valueAt(input, issue.path);
  const path = formatPath(issue.path);
  if (value === undefined) return [`${path}: is required`];
  return [`${path}: ${JSON.stringify(value)} ${issue.message}`];
}

/** Validates parsed JSON. Throws PlanInputError naming every problem. */
export function parsePlanInput(doc: unknown): PlanInput {
  const r = inputSchema.safeParse(doc);
  if (!r.success) throw new PlanInputError(r.error.issues.flatMap((i) => describe(i, doc)));
  const v = r.data;
  return {
    budget: v.budget,
    allowCrossZone: v.allowCrossZone,
    networks: v.networks,
    nodes: v.nodes.map((n) => ({ ...n, rack: n.rack })),
    previous: v.previous as Plan | undefined,
  };
}

/** Parses the text of an input file; JSON syntax errors are one problem with the parser's words. */
export function parsePlanInputText(source: string, textIn: string): PlanInput {
  let doc: unknown;
  try {
    doc = JSON.parse(textIn);
  } catch (e) {
    throw new PlanInputError([`${source}: is not JSON (${(e as Error).message})`]);
  }
  return parsePlanInput(doc);
}
