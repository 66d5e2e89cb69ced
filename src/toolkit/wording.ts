/**
 * What the toolkit says in its own CLI's terms, in sdlf's: a message that points at a flag or an id sdlf does not
 * take is rewritten or dropped before it reaches the user. Each entry names the toolkit message it matches.
 */
const REWRITES: ReadonlyArray<readonly [pattern: RegExp, replacement: string | undefined]> = [
  // synth without a stack id: sdlf synth prints its own table of stacks and templates.
  [/^Supply a stack id .*to display its template\.$/s, undefined],
  // diff: sdlf diff always uses the change set; there is no --method flag.
  [/ \(use --method=template to use a less accurate but faster template-only diff\)/, ''],
  // bootstrap over a newer or other-variant stack: sdlf bootstrap has no --force; the stack is kept.
  [/ \(use --force if you intend to (?:overwrite|downgrade)\)/, ''],
  // hotswap: sdlf does not hotswap, but say nothing about a flag it lacks if the toolkit ever does.
  [/ \(use --force to override\)/, ''],
  [/ \(--no-execute\)/, ''],
];

/** Rewrites a toolkit message in sdlf's terms; undefined when it should not be shown at all. */
export function ownWording(message: string): string | undefined {
  let text = message;
  for (const [pattern, replacement] of REWRITES) {
    if (!pattern.test(text)) continue;
    if (replacement === undefined) return undefined;
    text = text.replace(pattern, replacement);
  }
  return text;
}
