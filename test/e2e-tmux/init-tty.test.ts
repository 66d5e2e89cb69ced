import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, ensureBuilt, sdlf } from '../helpers/cli.js';
import { ACME_INIT_FLAGS } from '../helpers/init.js';
import { snapshotTree, tempDir } from '../helpers/project.js';

// A private tmux server (its own socket), so the test never touches anyone's sessions.
const socket = `sdlf-test-${process.pid}`;
let session = 'init';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

function screen(): string {
  return tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', session);
}

/** Waits until the pane shows `text` (after `after` characters of the screen), failing with the screen's contents. */
async function waitFor(text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (screen().includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`tmux never showed "${text}"; the screen was:\n${screen()}`);
}

/** Types an answer and presses enter, once the question is on screen. */
async function answer(question: string, keys: string): Promise<void> {
  await waitFor(question);
  tmux('send-keys', '-t', session, '-l', keys);
  tmux('send-keys', '-t', session, 'Enter');
}

// Both projects get the same id (init's --project-id), so the trees compare byte for byte.
const PROJECT_ID = '0f8c1a52-3d4e-4b6a-9c1d-2e3f4a5b6c7d';

beforeAll(() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('tmux is not installed: this test drives sdlf init on a real terminal (apt-get install -y tmux).');
  }
  ensureBuilt();
});

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // the server is gone already
  }
});

describe('sdlf init on a terminal', () => {
  it('asks its questions, re-asks a bad answer, and creates the same project as the flags', async () => {
    // Given a terminal running sdlf init with a clean environment (nothing inferred)
    const parent = tempDir();
    const done = join(parent, 'exit-code');
    const command = [
      'env -i',
      `PATH="${process.env.PATH ?? ''}"`,
      `HOME="${process.env.HOME ?? '/tmp'}"`,
      'TERM=xterm-256color',
      'CDK_DISABLE_CLI_TELEMETRY=true',
      // --no-install: the questions are under test here; the install is (test/package/pack-install-use.test.ts).
      `node "${binPath}" init lake --path "${join(parent, 'tty')}" --no-install --project-id ${PROJECT_ID}`,
      `; echo $? > "${done}"; sleep 600`,
    ].join(' ');
    tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', command);

    // When the questions are answered, the first account with 10 digits
    await answer('Resource prefix', 'acme');
    await answer('AWS account id of the environment', '1234567890');
    await waitFor('"1234567890" must be a 12-digit AWS account id');
    tmux('send-keys', '-t', session, ...Array.from({ length: 10 }, () => 'BSpace'));
    tmux('send-keys', '-t', session, '-l', '123456789012');
    tmux('send-keys', '-t', session, 'Enter');
    await answer('AWS region of the environment', 'eu-west-1');
    await answer('Deploy through a CI/CD pipeline', 'y');
    await answer('AWS account id of the CI/CD pipeline', '210987654321');
    await answer('AWS region of the CI/CD pipeline', 'eu-central-1');
    await answer('CodeCommit repository name', 'acme-lake');

    // Then init finishes successfully
    const deadline = Date.now() + 60_000;
    while (!existsSync(done) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(done), `sdlf init did not finish; the screen was:\n${screen()}`).toBe(true);
    expect(readFileSync(done, 'utf8').trim()).toBe('0');
    expect(screen()).toContain('Created the sdlf project');

    // And the project equals the one the flags create
    const byFlags = await sdlf([
      'init',
      'lake',
      '--path',
      join(parent, 'flags'),
      '--no-install',
      '--project-id',
      PROJECT_ID,
      ...ACME_INIT_FLAGS,
    ]);
    expect(byFlags.exitCode).toBe(0);
    const tty = snapshotTree(join(parent, 'tty'));
    expect(Object.keys(tty).length).toBeGreaterThan(10);
    expect(tty).toEqual(snapshotTree(join(parent, 'flags')));
  });
  it('exits 2 and writes nothing when a question is cancelled with Ctrl+C', async () => {
    session = 'cancel';
    const parent = tempDir();
    const done = join(parent, 'exit-code');
    const command = [
      'env -i',
      `PATH="${process.env.PATH ?? ''}"`,
      `HOME="${process.env.HOME ?? '/tmp'}"`,
      'TERM=xterm-256color',
      `node "${binPath}" init lake --path "${parent}" --no-install`,
      `; echo $? > "${done}"; sleep 600`,
    ].join(' ');
    tmux('new-session', '-d', '-s', session, '-x', '200', '-y', '50', command);
    await answer('Resource prefix', 'acme');
    await waitFor('AWS account id of the environment');
    tmux('send-keys', '-t', session, 'C-c');
    const deadline = Date.now() + 30_000;
    while (!existsSync(done) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(readFileSync(done, 'utf8').trim()).toBe('2');
    expect(screen()).toContain('sdlf init was cancelled at a question; nothing was written.');
    expect(Object.keys(snapshotTree(parent))).toEqual(['exit-code']);
  });
});
