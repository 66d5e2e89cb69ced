import type { DatasetConfig } from '../../src/config/model.js';

/**
 * A dataset registration (an entry of `parameters.json`, defaults applied): team `demoteam`, dataset
 * `legislators` of the standard pipeline, unless `overrides` say otherwise.
 */
export function datasetRegistration(overrides: Partial<DatasetConfig> = {}): DatasetConfig {
  return {
    team: 'demoteam',
    dataset: 'legislators',
    pipeline: 'standard',
    stageATransform: 'sdlf_light_transform',
    stageBTransform: 'sdlf_heavy_transform',
    minItemsProcess: 1,
    maxItemsProcess: 100,
    ...overrides,
  };
}
