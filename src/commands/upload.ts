import { resolve } from 'node:path';
import { Args } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { datasetFlags, sharedFlags } from '../cli/flags.js';
import type { UploadDataResult } from '../services/upload.js';

/** `sdlf upload`: puts files into a dataset's raw prefix. */
export default class Upload extends SdlfCommand<typeof Upload> {
  static override summary = "Upload files into a dataset's raw prefix, which starts its pipeline.";
  static override description =
    'Puts the given files and folders (default: data/<team>/<dataset>/ of the project) into the raw bucket of --env ' +
    "under <team>/<dataset>/, encrypted with the environment's data key (SSE-KMS). Folders keep their layout. The " +
    'dataset must be registered in parameters.json.';
  static override examples = [
    '<%= config.bin %> upload --team demoteam --dataset legislators',
    '<%= config.bin %> upload --env dev --team demoteam --dataset legislators exports/persons.json',
  ];
  static override strict = false;
  static override args = { files: Args.string({ description: 'Files or folders to upload (default: data/<team>/<dataset>/).' }) };
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    ...datasetFlags('upload to'),
  };

  public async run(): Promise<UploadDataResult> {
    const { argv } = await this.parse(Upload);
    const { uploadData } = await import('../services/upload.js');
    const result = await uploadData(
      {
        ...this.awsTarget,
        team: this.flags.team,
        dataset: this.flags.dataset,
        // As a shell user means them: relative to the current folder, wherever the project is.
        files: argv.map((file) => resolve(String(file))),
      },
      this.io,
    );
    if (!this.jsonEnabled()) {
      this.log(`Uploaded ${result.objects.length} file(s) to s3://${result.bucket}/${result.prefix} (SSE-KMS ${result.kmsKey}).`);
    }
    return result;
  }
}
