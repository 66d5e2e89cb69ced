import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SdlfError } from '../core/errors.js';
import { parseJson } from '../core/json.js';

/**
 * The `context` object of the project's cdk.json; none when the file is missing. Invalid JSON, or a `context` that
 * is not an object, is refused (plain `cdk` refuses it too) with the file's line and column.
 */
export async function cdkJsonContext(root: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(join(root, CDK_JSON), 'utf8');
  } catch {
    return {};
  }
  const parsed = parseJson(text, CDK_JSON);
  if (!isRecord(parsed))
    throw new SdlfError(`${CDK_JSON} holds ${JSON.stringify(parsed)}, not a JSON object.`, {
      code: 'INVALID_CDK_JSON',
      suggestions: [`Make ${CDK_JSON} an object with "app" and "context" keys, as sdlf init writes it.`],
    });
  const context = parsed.context;
  if (context === undefined) return {};
  if (!isRecord(context))
    throw new SdlfError(`${CDK_JSON}: "context" is ${JSON.stringify(context)}, not an object.`, {
      code: 'INVALID_CDK_JSON',
      suggestions: [`Make "context" in ${CDK_JSON} an object of CDK context keys (sdlf init writes one).`],
    });
  return { ...context };
}

const CDK_JSON = 'cdk.json';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
