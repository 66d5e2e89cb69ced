#!/usr/bin/env node
import { replaceSdkNodeWarning } from '../dist/cli/node-version.js';

replaceSdkNodeWarning();
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
