import { execFileSync } from 'node:child_process';

/**
 * Calls the Glue API of moto_server through boto3 (this package ships no Glue client), in `region` (default
 * us-east-1); returns the parsed reply.
 */
export function motoGlue(
  endpoint: string,
  operation: string,
  parameters: Record<string, unknown>,
  region = 'us-east-1',
): unknown {
  const script = [
    'import boto3, json, sys',
    'client = boto3.client("glue", endpoint_url=sys.argv[1], region_name=sys.argv[4])',
    'print(json.dumps(getattr(client, sys.argv[2])(**json.loads(sys.argv[3])), default=str))',
  ].join('\n');
  const output = execFileSync('python3', ['-c', script, endpoint, operation, JSON.stringify(parameters), region], {
    encoding: 'utf8',
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
  });
  return JSON.parse(output);
}
