/**
 * The Powertools logger of the handlers and the helpers that tag each record's lines with its team and dataset.
 */
import { Logger } from '@aws-lambda-powertools/logger';

/** Creates a handler's logger: JSON lines with the service name and the given persistent keys. */
export function createLogger(handler: string, keys: Record<string, string> = {}): Logger {
  return new Logger({ serviceName: `sdlf-${handler}`, persistentKeys: keys });
}

/**
 * Runs `work` with `team`/`dataset` appended to every line the logger writes meanwhile, then removes them, so a
 * batch's records never leak keys into each other's lines.
 */
export async function withRecordKeys<T>(
  logger: Logger,
  keys: { readonly team?: string; readonly dataset?: string },
  work: () => Promise<T>,
): Promise<T> {
  const defined = Object.fromEntries(Object.entries(keys).filter(([, value]) => typeof value === 'string' && value.length > 0));
  logger.appendKeys(defined);
  try {
    return await work();
  } finally {
    logger.removeKeys(Object.keys(defined));
  }
}

/** Reads `team`/`dataset` from a JSON body for log keys; returns nothing for anything unreadable. */
export function keysOfBody(body: string): { team?: string; dataset?: string } {
  try {
    const value = JSON.parse(body) as { team?: unknown; dataset?: unknown };
    return {
      ...(typeof value.team === 'string' ? { team: value.team } : {}),
      ...(typeof value.dataset === 'string' ? { dataset: value.dataset } : {}),
    };
  } catch {
    return {};
  }
}
