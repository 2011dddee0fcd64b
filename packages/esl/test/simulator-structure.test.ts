// The simulator's parts depend on narrow interfaces, never on the Simulator class, and its
// modules import each other without cycles (type-only imports count too).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

/** packages/esl/src, from this file's place (test/ or dist/test/). */
function sourceRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (path.basename(dir) !== 'esl') dir = path.dirname(dir);
  return path.join(dir, 'src');
}

/** Relative imports (and re-exports) of every .ts file under `dir`, as files under `dir`. */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)'/gms)]
      .map((m) => path.normalize(path.join(path.dirname(file), m[1]!.replace(/\.js$/, '.ts'))))
      .filter((dep) => files.includes(dep));
    graph.set(file, deps);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, as the files along it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const dep of graph.get(file) ?? []) {
      if (state.get(dep) === 'open') found.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

test('the cycle finder finds a cycle', () => {
  const graph = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  assert.deepEqual(cycles(graph), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});

test('src/testing has no import cycles, and only simulator.ts and index.ts import the Simulator class', () => {
  const graph = importGraph(path.join(sourceRoot(), 'testing'));
  assert.ok(graph.size >= 10, `found ${graph.size} files`);
  assert.deepEqual(cycles(graph), []);
  const importers = [...graph].filter(([, deps]) => deps.includes('simulator.ts')).map(([file]) => file);
  assert.deepEqual(importers, ['index.ts']);
});

test('fs-esl simulate and the rest of the CLI import each other without cycles', () => {
  const graph = importGraph(path.join(sourceRoot(), 'cli'));
  assert.ok(graph.has('simulate.ts'));
  assert.deepEqual(cycles(graph), []);
});
