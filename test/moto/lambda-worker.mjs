// One Lambda "container" of the local Lambda runtime (lambda-runtime.mjs): imports the function's handler once,
// in its own process with the function's environment, then runs the events it is sent, one at a time.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [codeDir, handlerSpec] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf('.');
const file = handlerSpec.slice(0, dot);
const exportName = handlerSpec.slice(dot + 1);
const candidates = ['.mjs', '.js', '.cjs'].map((ext) => join(codeDir, `${file}${ext}`));
const modulePath = candidates.find((candidate) => existsSync(candidate));
let handler;

async function load() {
  if (handler) return handler;
  if (!modulePath)
    throw Object.assign(new Error(`Cannot find module '${file}' in ${codeDir}`), { name: 'Runtime.ImportModuleError' });
  const loaded = await import(pathToFileURL(modulePath).href);
  handler = loaded[exportName] ?? loaded.default?.[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${handlerSpec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  return handler;
}

process.on('message', async ({ id, event, context }) => {
  try {
    const run = await load();
    const deadline = Date.now() + context.timeoutMs;
    const result = await run(event, { ...context, getRemainingTimeInMillis: () => deadline - Date.now() });
    process.send({ id, ok: true, payload: JSON.stringify(result ?? null) });
  } catch (error) {
    const errorType = error?.name ?? 'Error';
    const payload = JSON.stringify({
      errorType,
      errorMessage: error?.message ?? String(error),
      trace: String(error?.stack ?? '').split('\n'),
    });
    process.send({ id, ok: false, payload });
  }
});
