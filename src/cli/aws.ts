/**
 * `podroute aws plan --input FILE [--budget N] [--previous FILE] [--json]`: the VPC route planner
 * offline, on a JSON description of the nodes (format in src/routes/aws/input.ts and the README).
 * Bad input is refused with exit code 2 and one line per problem naming the key, the value and
 * the rule, like a bad configuration.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Plan } from '../routes/aws/plan-types.js';

/** The default quota of a VPC route table. */
const DEFAULT_BUDGET = 50;

interface PlanOpts {
  input: string;
  budget?: string;
  previous?: string;
  json?: boolean;
}

function fail(problems: readonly string[]): never {
  for (const p of problems) process.stderr.write(`podroute aws plan: ${p}\n`);
  process.exit(2);
}

function readText(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    return fail([
      `${flag}: ${JSON.stringify(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    ]);
  }
}

async function plan(opts: PlanOpts): Promise<void> {
  // The planner loads only for this command: every other one (`run` above all) starts without it.
  const [{ formatPlan }, { PlanInputError, parsePlanInputText, planSchema }, { planRoutes }] =
    await Promise.all([
      import('../routes/aws/format.js'),
      import('../routes/aws/input.js'),
      import('../routes/aws/planner.js'),
    ]);
  let budget: number | undefined;
  if (opts.budget !== undefined) {
    if (!/^\d+$/.test(opts.budget) || Number(opts.budget) > 1000)
      fail([`--budget: ${JSON.stringify(opts.budget)} is not a whole number of routes (0..1000)`]);
    budget = Number(opts.budget);
  }
  try {
    const input = parsePlanInputText(opts.input, readText('--input', opts.input));
    let previous = input.previous;
    if (opts.previous !== undefined) {
      const r = planSchema.safeParse(JSON.parse(readText('--previous', opts.previous)));
      if (!r.success) fail([`--previous: ${JSON.stringify(opts.previous)} is not a plan printed by --json`]);
      previous = r.data as Plan;
    }
    const result = planRoutes(input.nodes, {
      budget: budget ?? input.budget ?? DEFAULT_BUDGET,
      allowCrossZone: input.allowCrossZone,
      networks: input.networks,
      previous,
    });
    process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatPlan(result)}\n`);
  } catch (e) {
    if (e instanceof PlanInputError) fail(e.problems);
    if (e instanceof SyntaxError)
      fail([`--previous: ${JSON.stringify(opts.previous)} is not JSON (${e.message})`]);
    throw e;
  }
}

export function registerAwsCommands(program: Command): void {
  const aws = program.command('aws').description('AWS VPC route tables');
  aws
    .command('plan')
    .description('plan VPC routes for a set of nodes under a route budget, offline')
    .requiredOption(
      '--input <file>',
      'nodes as JSON: {"budget", "nodes": [{"name","zone","subnet","instanceId","eniId","blocks","healthy"}]}',
    )
    .option('--budget <n>', `routes per route table (default: the input's budget, else ${DEFAULT_BUDGET})`)
    .option('--previous <file>', 'the plan in force (--json output), to keep its choices')
    .option('--json', 'machine-readable output')
    .action(plan);
}
