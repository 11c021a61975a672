import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { worldCommand } from '../../src/cli/world.js';
import { UsageError } from '../../src/cli/command.js';
import { loadConfig } from '../../src/config.js';

describe('world command', () => {
  let root = '';
  afterAll(async () => {
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('generates a world and draws a user contact sheet as valid SVG', async () => {
    root = await mkdtemp(join(tmpdir(), 'world-cli-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const config = loadConfig({});
    const dir = join(root, 'tiny');
    await worldCommand.run(['generate', '--seed', '2', '--preset', 'tiny', '--out', dir], config);
    const out = join(root, 'sheet.svg');
    await worldCommand.run(['sheet', '--world', dir, '--user', 'u-001', '--out', out], config);
    log.mockRestore();
    const svg = await readFile(out, 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Taste of u-001');
    expect(svg).toMatch(/Liked \(\d+\)/);
    expect(svg).toMatch(/Disliked \(\d+\)/);
    // Well-formed enough for an XML parser: balanced tags, unique ids.
    const opened = (svg.match(/<svg[\s>]/g) ?? []).length;
    expect((svg.match(/<\/svg>/g) ?? []).length).toBe(opened);
    const ids = [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;)/);
  });

  it('reports bad flags as usage errors', async () => {
    const config = loadConfig({});
    await expect(
      worldCommand.run(['generate', '--preset', 'huge', '--seed', '1', '--out', 'x'], config),
    ).rejects.toThrow(UsageError);
    await expect(worldCommand.run(['sheet', '--world', 'x'], config)).rejects.toThrow(/--user is required/);
    await expect(worldCommand.run([], config)).rejects.toThrow(UsageError);
  });
});
