import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { checkovBin } from '../../scripts/python-env.mjs';
import { buildApp } from '../../src/app/index.js';
import { loadProject } from '../../src/config/load.js';
import { tempDir } from '../helpers/project.js';
import { allStackArtifacts, synthNagClean, testBuildOptions, writeProject } from './helpers.js';

interface CheckovCheck {
  readonly check_id: string;
  readonly resource: string;
  readonly file_path: string;
  readonly check_result?: { readonly suppress_comment?: string };
}

interface CheckovReport {
  readonly results: {
    readonly passed_checks: CheckovCheck[];
    readonly failed_checks: CheckovCheck[];
    readonly skipped_checks: CheckovCheck[];
  };
}

describe('checkov', { timeout: 240_000 }, () => {
  it("fails no check on the lake's templates: every skipped one names its reason in the template", async () => {
    // Given a lake with a standard and a custom dataset, and a second team
    const root = writeProject({
      dev: [
        { team: 'demoteam', dataset: 'legislators' },
        { team: 'demoteam', dataset: 'other', pipeline: 'custom' },
        { team: 'sales', dataset: 'orders' },
      ],
    });
    const project = await loadProject(root);
    const stacks = allStackArtifacts(synthNagClean(await buildApp(project, testBuildOptions({ outdir: tempDir('sdlf-out-') }))));
    const files = stacks.map((s) => join(s.assembly.directory, s.templateFile));
    // When checkov scans every template, as a second scanner beside cdk-nag
    const run = await execa(
      checkovBin,
      ['--framework', 'cloudformation', '--output', 'json', '--compact', ...files.flatMap((file) => ['--file', file])],
      { reject: false, cwd: dirname(files[0] ?? '.') },
    );
    const reports = [JSON.parse(run.stdout) as CheckovReport | CheckovReport[]].flat();
    const results = reports.map((r) => r.results);
    const failed = results.flatMap((r) => r.failed_checks).map((c) => `${c.check_id} ${c.resource} (${c.file_path})`);
    const skipped = results.flatMap((r) => r.skipped_checks);
    // Then nothing fails, checks did run, and each skip carries a reason
    expect(failed).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(results.flatMap((r) => r.passed_checks).length).toBeGreaterThan(100);
    expect(skipped.length).toBeGreaterThan(0);
    for (const check of skipped) expect(check.check_result?.suppress_comment?.length ?? 0, check.check_id).toBeGreaterThan(40);
  });
});
