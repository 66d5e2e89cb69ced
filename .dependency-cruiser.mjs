// The layers of src/, checked by `npm run lint` (dependency-cruiser). A folder may import its own files and the
// layers below it, never a layer above it nor a folder beside it in the same layer; there are no cycles.
//
//   commands, cli                      oclif commands, the base command, flags, terminal I/O (oclif, inquirer)
//     → services                       one function per command: decides, returns a result
//       → toolkit | app | local | aws | samples
//                                      toolkit-lib wiring | the embedded CDK app | local run | AWS SDK calls
//                                      | the demo's sample data; services wire them together (e.g. pass the app
//                                      builder to the toolkit), they never import each other
//         → constructs | bundling      CDK constructs | esbuild bundling of handlers and transforms
//           → runtime                  Lambda code; constructs and bundling see only runtime/contract.ts
//             → config                 schema, load, naming
//               → core                 errors, the Io port, files, JSON, waits
//
// Commands and the CLI reach everything below services only through services (config and core excepted: the
// project's vocabulary and the ground floor). src/index.ts is the package's public API: nothing in src/ imports it.
//
// Inside runtime: contract.ts and transform/ stand alone (but for config's model, where the dataset registration is
// declared); core/ (the pipeline logic behind ports) sees only them;
// the adapters aws/, memory/ and glue/ see core, contract and transform, never each other; handlers/ wire the aws
// adapters and nothing imports them. The handlers are bundled on their own, so nothing in runtime loads oclif,
// inquirer or the CDK, even through config or core.
//
// A rule's name says what it protects; `npx depcruise src` lists every violation with the rule and the file.

const below = {
  core: 'core',
  config: 'config|core',
  runtime: 'runtime|config|core',
  construction: 'constructs|bundling|runtime|config|core',
};

/** The CLI packages and the CDK: what Lambda code and the embedded app must not load. */
const CLI_PACKAGES = 'node_modules/(@oclif|@inquirer)/';
const CDK_PACKAGES = 'node_modules/(aws-cdk-lib|constructs|cdk-nag|@aws-cdk|esbuild)/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules must not import each other, directly or through others: break the cycle by moving the shared part down.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-the-ground-floor',
      severity: 'error',
      comment: 'src/core imports nothing else of src/.',
      from: { path: '^src/core/' },
      to: { path: `^src/(?!(${below.core})/)` },
    },
    {
      name: 'config-sees-only-core',
      severity: 'error',
      comment: 'src/config imports only src/core.',
      from: { path: '^src/config/' },
      to: { path: `^src/(?!(${below.config})/)` },
    },
    {
      name: 'runtime-sees-only-config-and-core',
      severity: 'error',
      comment: 'src/runtime (Lambda code) imports only src/config and src/core outside itself.',
      from: { path: '^src/runtime/' },
      to: { path: `^src/(?!(${below.runtime})/)` },
    },
    {
      name: 'constructs-and-bundling-stay-in-their-layer',
      severity: 'error',
      comment: 'src/constructs and src/bundling import runtime, config and core, not each other nor anything above.',
      from: { path: '^src/(constructs|bundling)/' },
      to: { path: '^src/(?!($1|runtime|config|core)/)' },
    },
    {
      name: 'constructs-see-only-the-runtime-contract',
      severity: 'error',
      comment:
        'The one thing src/constructs and src/bundling take from src/runtime is its shared contract (runtime/contract.ts).',
      from: { path: '^src/(constructs|bundling)/' },
      to: { path: '^src/runtime/', pathNot: '^src/runtime/contract\\.ts$' },
    },
    {
      name: 'engines-do-not-import-each-other',
      severity: 'error',
      comment:
        'src/toolkit, src/app, src/local, src/aws and src/samples import the layers below them, never each other nor services or commands: a service wires them (e.g. passes the app builder to the toolkit).',
      from: { path: '^src/(toolkit|app|local|aws|samples)/' },
      to: { path: `^src/(?!($1|${below.construction})/)` },
    },
    {
      name: 'services-do-not-import-commands',
      severity: 'error',
      comment: 'src/services never import src/commands or src/cli (oclif, flags, the terminal).',
      from: { path: '^src/services/' },
      to: { path: '^src/(commands|cli)/' },
    },
    {
      name: 'commands-go-through-services',
      severity: 'error',
      comment: 'src/commands and src/cli reach the toolkit, the app, AWS, local runs and the runtime only through src/services.',
      from: { path: '^src/(commands|cli)/' },
      to: { path: '^src/(?!(commands|cli|services|config|core)/)' },
    },
    {
      name: 'nothing-imports-the-public-api',
      severity: 'error',
      comment: 'src/index.ts is the package entry for users; modules of src/ import what it re-exports from its home.',
      from: { path: '^src/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'public-api-has-no-cli',
      severity: 'error',
      comment: 'src/index.ts (what `import "sdlf"` loads) exports no command or terminal code.',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/(commands|cli)/' },
    },
    {
      name: 'only-the-cli-talks-to-the-terminal',
      severity: 'error',
      comment: 'oclif and @inquirer/prompts are imported in src/commands and src/cli only; services ask through the Io port.',
      from: { path: '^src/', pathNot: '^src/(commands|cli)/' },
      to: { path: CLI_PACKAGES },
    },
    {
      name: 'embedded-app-loads-no-cli',
      severity: 'error',
      comment: 'The CDK app (bin/cdk-app.js runs src/app) must not load oclif or inquirer, even through another module.',
      from: { path: '^src/(app|config|core)/' },
      to: { path: CLI_PACKAGES, reachable: true },
    },
    {
      name: 'runtime-core-is-pure',
      severity: 'error',
      comment:
        'src/runtime/core (the pipeline logic) sees only the contract, transform/ and config/model.ts (the dataset registration): never an adapter, handler or SDK.',
      from: { path: '^src/runtime/core/' },
      to: {
        path: ['^src/runtime/(aws|memory|glue|handlers)/', '^src/(config|core)/', 'node_modules/@aws-sdk/'],
        // The dataset registration is declared once, in config's model (no imports of its own).
        pathNot: '^src/config/model\\.ts$',
      },
    },
    {
      name: 'runtime-contract-stands-alone',
      severity: 'error',
      comment:
        'src/runtime/contract.ts and src/runtime/transform (the shared contract and the user transform API) import no other part of src/ but the model of config (the dataset registration).',
      from: { path: '^src/runtime/(contract\\.ts$|transform/)' },
      to: { path: '^src/', pathNot: '^src/(runtime/(contract\\.ts$|transform/)|config/model\\.ts$)' },
    },
    {
      name: 'runtime-adapters-do-not-import-each-other',
      severity: 'error',
      comment: 'src/runtime/aws, memory and glue build on runtime/core, contract.ts and transform/, never on each other.',
      from: { path: '^src/runtime/(aws|memory|glue)/' },
      to: { path: '^src/runtime/(?!($1|core|transform)/|contract\\.ts$)' },
    },
    {
      name: 'handlers-are-entry-points',
      severity: 'error',
      comment: 'src/runtime/handlers are bundled one by one into Lambdas; no other module imports them.',
      from: { path: '^src/', pathNot: '^src/runtime/handlers/' },
      to: { path: '^src/runtime/handlers/' },
    },
    {
      name: 'lambda-code-loads-no-cli-or-cdk',
      severity: 'error',
      comment:
        'Nothing in src/runtime loads oclif, inquirer, the CDK or esbuild, even through config or core: the handlers are bundled on their own.',
      from: { path: '^src/runtime/' },
      to: { path: [CLI_PACKAGES, CDK_PACKAGES], reachable: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/templates/' },
    // Type-only imports are dependencies too: a layer may not even name the types of a layer above it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
