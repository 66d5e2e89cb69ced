// Synth of the embedded CDK app: the default project (1 team, 1 standard dataset) and a generated project of
// 10 teams × 10 datasets (5 standard + 5 custom per team), each synthesized in a fresh node process the way
// `sdlf synth` does it (build the app, bundle light transforms, cdk-nag, write cdk.out). Reports synth time,
// stack count, the largest stack's resource count, and a resource inventory of the default project beside the
// seed's. Writes the "## Synth" section of BENCHMARKS.md.
// Targets: no stack above 200 resources at 10 × 10; time(100 datasets) ≤ 8 × time(1 dataset). Exits 1 when missed.
// Usage: node bench/synth.mjs            (RUNS=3 per project by default; BENCH_RUNS overrides)
//        node bench/synth.mjs --child <project> <outdir> <validation:on|off>   (internal: one measured synth)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAtStart, median, nodeAndCpu, root, utcNow, writeSection } from './lib.mjs';

const MAX_RESOURCES = 200;
/** Half the seed's default lake (129 resources), the target of the resource count. */
const MAX_LAKE_RESOURCES = 65;
const MAX_RATIO = 8;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SEED = { foundations: 68, pipeline: 48, dataset: 13, cicd: 47, lambdas: 17, kmsKeys: 11, queues: 4, ssmParameters: 21 };

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5] === 'on');
  process.exit(0);
}

if (!existsSync(join(root, 'dist', 'app', 'index.js')) || !existsSync(join(root, 'dist', 'handlers', 'routing', 'index.mjs'))) {
  console.log('dist/ is missing: building first');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

const work = mkdtempSync(join(tmpdir(), 'sdlf-bench-synth-'));
const LIGHT = `import type { LightTransform } from 'sdlf/transform';

const transform: LightTransform = async function* (input) {
  yield { table: 'objects', record: { key: input.key } };
};
export default transform;
`;
const small = writeProject('default', [{ team: 'demoteam', dataset: 'legislators' }]);
const teams = Array.from({ length: 10 }, (_, t) => `team${t}`);
const large = writeProject(
  'ten-by-ten',
  teams.flatMap((team) =>
    Array.from({ length: 10 }, (_, d) => ({ team, dataset: `dataset${d}`, pipeline: d < 5 ? 'standard' : 'custom' })),
  ),
);
const cicd = writeProject('default-cicd', [{ team: 'demoteam', dataset: 'legislators' }], true);

const measure = (project, validation) => {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const outdir = join(work, `out-${Date.now()}-${i}`);
    const started = process.hrtime.bigint();
    const run = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', project, outdir, validation ? 'on' : 'off'],
      {
        encoding: 'utf8',
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      },
    );
    const wall = Number(process.hrtime.bigint() - started) / 1e6;
    if (run.status !== 0) {
      console.error(run.stderr);
      throw new Error(`synth of ${project} failed (exit ${run.status})`);
    }
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1));
    runs.push({ ...result, wall });
    rmSync(outdir, { recursive: true, force: true });
  }
  return { ...runs[0], synthMs: median(runs.map((r) => r.synthMs)), wall: median(runs.map((r) => r.wall)) };
};

console.log(`measuring the default project (${RUNS} runs)…`);
const smallResult = measure(small, false);
const smallValidated = measure(small, true);
console.log(`measuring the 10 × 10 project (${RUNS} runs)…`);
const largeResult = measure(large, false);
console.log('measuring the default project with CI/CD…');
const cicdResult = measure(cicd, false);
rmSync(work, { recursive: true, force: true });

const ratio = largeResult.synthMs / smallResult.synthMs;
const largest = largeResult.stacks.reduce((a, b) => (b.resources > a.resources ? b : a));
const met = largest.resources <= MAX_RESOURCES && ratio <= MAX_RATIO;
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
const byKind = (result, kind) => result.stacks.filter((st) => st.kind === kind);
const count = (result, type) => result.stacks.reduce((sum, st) => sum + (st.types[type] ?? 0), 0);
const cicdStack = byKind(cicdResult, 'cicd').find((st) => st.stackName.endsWith('-cicd-pipeline'));

const section = [
  '## Synth',
  '',
  `Measured by \`npm run bench -- synth\` (bench/synth.mjs): each synth in a fresh \`node\` process, as \`sdlf synth\` does it`,
  '(build the app from the config, bundle the light transforms with esbuild, load custom pipeline types, cdk-nag',
  '`AwsSolutionsChecks`, write `cdk.out`); "synth" is that work measured inside the process, "process" adds node start-up',
  `and module loading. Median of ${RUNS} runs. ${nodeAndCpu()},`,
  `${loadAtStart()}, ${utcNow()}.`,
  '',
  '| project | stacks | largest stack (resources) | synth | process |',
  '|---|---:|---|---:|---:|',
  `| default (1 team, 1 standard dataset) | ${smallResult.stacks.length} | ${maxOf(smallResult)} | ${s(smallResult.synthMs)} | ${s(smallResult.wall)} |`,
  `| default, with aws-cdk-lib's template validation on | ${smallValidated.stacks.length} | ${maxOf(smallValidated)} | ${s(smallValidated.synthMs)} | ${s(smallValidated.wall)} |`,
  `| 10 teams × 10 datasets (5 standard + 5 custom each) | ${largeResult.stacks.length} | ${largest.stackName} (${largest.resources}) | ${s(largeResult.synthMs)} | ${s(largeResult.wall)} |`,
  '',
  `Targets: largest stack ≤ ${MAX_RESOURCES} resources — **${largest.resources <= MAX_RESOURCES ? 'met' : 'missed'}** (${largest.resources});`,
  `time(100 datasets) / time(1 dataset) ≤ ${MAX_RATIO} — **${ratio <= MAX_RATIO ? 'met' : 'missed'}** (${ratio.toFixed(2)}, synth time of the same run).`,
  '',
  '### Resource inventory of the default project',
  '',
  'sdlf: `sdlf init` defaults (1 team, 1 standard dataset; the CI/CD stack from the same project with `cicd_enabled`).',
  "Seed: the seed's TypeScript synth, as measured for issue #4.",
  '',
  '| | seed | sdlf |',
  '|---|---:|---:|',
  `| default lake, all stacks (resources) | ${SEED.foundations + SEED.pipeline + SEED.dataset} | ${sum(smallResult.stacks)} |`,
  `| foundations stack (resources) | ${SEED.foundations} | ${sum(byKind(smallResult, 'foundations'))} |`,
  `| team pipeline stack (resources) | ${SEED.pipeline} | ${sum(byKind(smallResult, 'pipeline'))} |`,
  `| dataset stack (resources) | ${SEED.dataset} | ${sum(byKind(smallResult, 'dataset'))} |`,
  `| CI/CD stack (resources) | ${SEED.cicd} | ${cicdStack?.resources ?? 'n/a'} |`,
  `| Lambda functions | ${SEED.lambdas} | ${count(smallResult, 'AWS::Lambda::Function')} |`,
  `| customer-managed KMS keys | ${SEED.kmsKeys} | ${count(smallResult, 'AWS::KMS::Key')} |`,
  `| SQS queues | ${SEED.queues} | ${count(smallResult, 'AWS::SQS::Queue')} |`,
  `| SSM parameters | ${SEED.ssmParameters} | ${count(smallResult, 'AWS::SSM::Parameter')} |`,
  `| CloudWatch alarms | — | ${count(smallResult, 'AWS::CloudWatch::Alarm')} |`,
  `| schedule-driven invocations a day, idle (rules and schedules with a rate or cron; 288 at f07fd1b: one \`rate(5 minutes)\` rule per team pipeline) | — | ${idlePerDay(smallResult)} |`,
  `| custom resources | — | ${smallResult.stacks.reduce(
    (n, st) =>
      n +
      Object.entries(st.types)
        .filter(([t]) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource')
        .reduce((a, [, c]) => a + c, 0),
    0,
  )} |`,
  '',
  'Per stack (default project):',
  '',
  '| stack | resources |',
  '|---|---:|',
  ...smallResult.stacks.map((st) => `| ${st.stackName} | ${st.resources} |`),
  ...(cicdStack ? [`| ${cicdStack.stackName} (CI/CD on) | ${cicdStack.resources} |`] : []),
  '',
  `Target: at most ${MAX_LAKE_RESOURCES} resources in the default lake, half the seed's — **${sum(smallResult.stacks) <= MAX_LAKE_RESOURCES ? 'met' : 'missed'}** (${sum(smallResult.stacks)}).`,
  "Taken out of the default lake, with every feature kept: the alarm topic's own key and its alias (the topic shares",
  "the data key under `kms_strategy: shared`; `per-bucket` keeps one); stage B's schedule rule and its invoke",
  'permission (a wake queue, its policy and its event source mapping instead, +3); the 12 SSM parameters of the',
  "foundations' bucket, table, alarm topic and Glue security configuration names, which every stack derives from the",
  "project's naming; then (issue #16) the 9 `DefaultPolicy` resources (every role of the lake holds its grants in",
  "one inline policy; the policies a dataset stack attaches to its pipeline's roles stay separate); 4 of 6 queue",
  "policies (one per stack covers all its queues; the dataset's stage B queues grant the pipeline's step and trigger",
  'roles there, which also takes 2 of its 4 policies on those roles); 4 of the 5 key-ARN parameters (one under',
  '`kms_strategy: shared`, which has one key; `per-bucket` keeps 5); 6 of 7 log groups (one per team pipeline,',
  "shared by its functions, state machines and its datasets' light transforms; `sdlf logs` tells them apart by",
  'stream name and execution ARN); 4 of 5 pipeline alarms (one over the 5 faults, whose value, a sum of 2^i, and',
  'description name the queue, function or state machine at fault).',
  '',
  'Why it scales: each dataset is its own stack and the pipeline stacks do not list datasets, so adding one adds',
  "one template and changes none; stacks know the foundations by name and read the keys' ARNs from SSM parameters,",
  'never from exports.',
  '',
  '### Idle invocations',
  '',
  'A lake with no arrivals invokes nothing: no template of the default project (or of a project with a custom',
  'pipeline) holds an EventBridge rule with a `ScheduleExpression` or an EventBridge Scheduler schedule',
  '(`test/app/build-app.test.ts`, "invokes nothing on a clock"; the inventory above counts them from the templates).',
  "Stage B is woken by its wake queue's SQS event source, whose polling is not billed as invocations.",
  '',
  '| | before (f07fd1b) | now |',
  '|---|---:|---:|',
  `| schedule-driven Lambda invocations a day, per team pipeline | 288 (\`rate(5 minutes)\`) | ${idlePerDay(smallResult)} |`,
  '| stage B trigger invocations | 1 every 5 minutes, arrivals or not | 1 per 5-minute window with arrivals (+1 when a dataset has more than 10 batches waiting) |',
  '',
].join('\n');

writeSection(join(root, 'BENCHMARKS.md'), section);
console.log(section);
console.log('\nWrote the "## Synth" section of BENCHMARKS.md');
process.exit(met ? 0 : 1);

function maxOf(result) {
  const top = result.stacks.reduce((a, b) => (b.resources > a.resources ? b : a));
  return `${top.stackName} (${top.resources})`;
}

/** Invocations a day that the stacks' schedules make whatever arrives: `rate(n unit)` exactly; a cron counts as unknown. */
function idlePerDay(result) {
  const seconds = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };
  const all = result.stacks.flatMap((st) => st.schedules);
  let total = 0;
  for (const expression of all) {
    const rate = /^rate\((\d+) (\w+)\)$/.exec(expression ?? '');
    if (!rate) return `${all.length} schedule(s), including ${expression}`;
    total += 86400 / (Number(rate[1]) * seconds[rate[2]]);
  }
  return total;
}

function sum(stacks) {
  return stacks.reduce((n, st) => n + st.resources, 0);
}

/** One measured synth, printed as a JSON line. */
async function child(project, outdir, validation) {
  const started = process.hrtime.bigint();
  const { loadProject } = await import(pathToFileURL(join(root, 'dist', 'config', 'load.js')).href);
  const { buildApp } = await import(pathToFileURL(join(root, 'dist', 'app', 'index.js')).href);
  const loaded = process.hrtime.bigint();
  const app = await buildApp(await loadProject(project), {
    outdir,
    validation,
    bundleCacheDir: join(outdir, '..', `bundles-${Date.now()}`),
  });
  const assembly = app.synth();
  const done = process.hrtime.bigint();
  const flatten = (a) => [...a.stacks, ...a.nestedAssemblies.flatMap((n) => flatten(n.nestedAssembly))];
  const stacks = flatten(assembly).map((st) => {
    const resources = Object.values(st.template.Resources ?? {});
    const types = {};
    for (const r of resources) types[r.Type] = (types[r.Type] ?? 0) + 1;
    const name = st.stackName;
    const kind = name.includes('-cicd-pipeline')
      ? 'cicd'
      : name.endsWith('-foundations')
        ? 'foundations'
        : /-(standard|custom)$/.test(name)
          ? 'pipeline'
          : 'dataset';
    // Clock-driven invocations: EventBridge rules and EventBridge Scheduler schedules with a rate or cron.
    const schedules = resources.flatMap((r) =>
      r.Type === 'AWS::Events::Rule' && r.Properties?.ScheduleExpression
        ? [r.Properties.ScheduleExpression]
        : r.Type === 'AWS::Scheduler::Schedule'
          ? [r.Properties?.ScheduleExpression]
          : [],
    );
    return { stackName: name, kind, resources: resources.length, types, schedules };
  });
  process.stdout.write(
    `${JSON.stringify({ synthMs: Number(done - loaded) / 1e6, loadMs: Number(loaded - started) / 1e6, stacks })}\n`,
  );
}

function writeProject(name, datasets, cicdEnabled = false) {
  const dir = join(work, name);
  const files = {
    'ddk.json': JSON.stringify({
      environments: {
        cicd: { account: '111111111111', region: 'us-east-1', cicd_enabled: cicdEnabled },
        dev: { account: '222222222222', region: 'us-east-1', resource_prefix: 'ddk' },
      },
    }),
    'parameters.json': JSON.stringify({ dev: datasets }),
    'transforms/light/sdlf_light_transform.ts': LIGHT,
    'transforms/heavy/sdlf_heavy_transform/main.py': 'print("heavy transform")\n',
    'transforms/heavy/sdlf_heavy_transform/transform.sql': 'create table objects_out as select * from objects;\n',
  };
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), contents);
  }
  return dir;
}
