/**
 * The published package as npm users get it: the file list of `npm pack`, CommonJS `require` of
 * both entry points, and the types under TypeScript's node16, nodenext and bundler resolution,
 * each checked against the packed tarball installed in a throw-away project.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FIXTURES_DIR } from './helpers/fixtures.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
/** packages/esl: the directory above test/fixtures. */
const PACKAGE_DIR = dirname(dirname(FIXTURES_DIR));
const TSC = require.resolve('typescript/bin/tsc');
const NODE_TYPES = dirname(require.resolve('@types/node/package.json'));

/** Every .ts file under src/, as package-relative posix paths (src/x/y.ts). */
function sourceFiles(dir = join(PACKAGE_DIR, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(PACKAGE_DIR, path).split('\\').join('/')] : [];
  });
}

async function npmPack(args: string[]): Promise<Array<{ filename: string; files: Array<{ path: string }> }>> {
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd: PACKAGE_DIR, maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
}

describe('npm pack --dry-run', () => {
  let files: Set<string>;
  before(async () => {
    const [report] = await npmPack(['--dry-run']);
    files = new Set(report!.files.map((f) => f.path));
  });

  it('holds the manifest, README, LICENSE and the bin launcher', () => {
    for (const path of ['package.json', 'README.md', 'LICENSE', 'bin/fs-esl.js']) assert.ok(files.has(path), `${path} is packed`);
  });

  it('holds nothing private: only bin/, dist/src/, src/ and the three top files', () => {
    const top = new Set(['package.json', 'README.md', 'LICENSE']);
    const stray = [...files].filter((p) => !top.has(p) && !/^(bin|dist\/src|src)\//.test(p));
    assert.deepEqual(stray, []);
    assert.deepEqual([...files].filter((p) => /(^|\/)(test|bench|fixtures)\/|tsbuildinfo/.test(p)), []);
  });

  it('ships every source file with its compiled module, declarations and both source maps', () => {
    const sources = sourceFiles();
    assert.ok(sources.length > 20, `found ${sources.length} source files`);
    for (const src of sources) {
      const base = `dist/${src.slice(0, -'.ts'.length)}`;
      for (const path of [src, `${base}.js`, `${base}.d.ts`, `${base}.js.map`, `${base}.d.ts.map`]) assert.ok(files.has(path), `${path} is packed`);
    }
    // And nothing compiled from a source that no longer exists (a stale dist/ would put it there).
    const expected = new Set(sources.flatMap((s) => ['.js', '.d.ts', '.js.map', '.d.ts.map'].map((ext) => `dist/${s.slice(0, -3)}${ext}`)));
    assert.deepEqual([...files].filter((p) => p.startsWith('dist/') && !expected.has(p)), []);
  });

  it('every source map points at a file that is packed', () => {
    const maps = [...files].filter((p) => p.endsWith('.map'));
    assert.ok(maps.length > 0);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(PACKAGE_DIR, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), source));
        assert.ok(files.has(target), `${map} points at ${target}, which is packed`);
      }
    }
  });

  it('the manifest names the entry points, the bin and the metadata npm shows', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['description', 'keywords', 'homepage', 'bugs', 'repository', 'license', 'author', 'engines']) {
      assert.ok(manifest[key] !== undefined, `package.json has ${key}`);
    }
    assert.deepEqual(Object.keys(manifest['exports'] as object), ['.', './testing', './package.json']);
    assert.deepEqual(manifest['bin'], { 'fs-esl': './bin/fs-esl.js' });
  });
});

describe('the packed tarball in a consumer project', { concurrency: true }, () => {
  let project: string;
  before(async () => {
    project = mkdtempSync(join(tmpdir(), 'esl-consumer-'));
    const [report] = await npmPack(['--pack-destination', project]);
    const installed = join(project, 'node_modules', 'freeswitch-esl');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['xzf', join(project, report!.filename), '-C', installed, '--strip-components=1']);
    mkdirSync(join(project, 'node_modules', '@types'));
    symlinkSync(NODE_TYPES, join(project, 'node_modules', '@types', 'node'), 'dir');
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  /** Runs `node file` in the project; the script talks to a simulator and prints what it got. */
  async function node(file: string): Promise<string> {
    const { stdout } = await run(process.execPath, [file], { cwd: project, timeout: 30_000 });
    return stdout;
  }

  // A client and a simulator from the two entry points, one api round trip: proves the modules
  // load and work, not only that require() returns something.
  const roundTrip = (prefix: string) => `${prefix}
async function main() {
  const sim = await Simulator.start();
  const client = await connect({ host: sim.host, port: sim.port, password: 'ClueCon' });
  const reply = await client.api('echo packed');
  await client.close();
  await sim.stop();
  console.log(typeof EslError, reply.trim());
}
main().catch((err) => { console.error(err); process.exit(1); });
`;

  it('require() loads freeswitch-esl and freeswitch-esl/testing from a CommonJS script', async () => {
    writeFileSync(
      join(project, 'require.cjs'),
      roundTrip(`const { connect, EslError } = require('freeswitch-esl');\nconst { Simulator } = require('freeswitch-esl/testing');`),
    );
    assert.equal((await node('require.cjs')).trim(), 'function packed');
  });

  it('import loads both entry points from an ES module', async () => {
    writeFileSync(
      join(project, 'import.mjs'),
      roundTrip(`import { connect, EslError } from 'freeswitch-esl';\nimport { Simulator } from 'freeswitch-esl/testing';`),
    );
    assert.equal((await node('import.mjs')).trim(), 'function packed');
  });

  // The consumer uses the types for real: the @ts-expect-error line fails the compile if the
  // package's types did not resolve (everything would be `any` and the line would be no error).
  const consumerSource = `import { connect, type EslClient } from 'freeswitch-esl';
import { Simulator } from 'freeswitch-esl/testing';
export async function probe(): Promise<string> {
  const sim = await Simulator.start();
  const client: EslClient = await connect({ host: sim.host, port: sim.port, password: 'ClueCon' });
  // @ts-expect-error the client's state is a string union, not a number
  const wrong: number = client.state;
  await client.close();
  await sim.stop();
  return String(wrong);
}
`;

  /** Compiles the consumer in its own directory with the given compiler options; returns tsc's output. */
  async function compile(name: string, type: 'module' | 'commonjs', file: string, options: string[]): Promise<void> {
    const dir = join(project, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
    writeFileSync(join(dir, file), consumerSource);
    const args = [TSC, '--strict', '--target', 'es2022', '--types', 'node', '--outDir', join(dir, 'out'), ...options, join(dir, file)];
    await run(process.execPath, args, { cwd: dir }).catch((err: { stdout?: string }) => {
      assert.fail(`tsc ${options.join(' ')} failed:\n${err.stdout ?? String(err)}`);
    });
  }

  for (const [name, options] of [
    ['node16', ['--module', 'node16', '--moduleResolution', 'node16']],
    ['nodenext', ['--module', 'nodenext', '--moduleResolution', 'nodenext']],
    ['bundler', ['--module', 'esnext', '--moduleResolution', 'bundler']],
  ] as const) {
    it(`types resolve in an ES module project under moduleResolution ${name}`, async () => {
      await compile(`esm-${name}`, 'module', 'consumer.ts', [...options]);
    });
  }

  it('a CommonJS TypeScript project (module nodenext) compiles and its output runs', async () => {
    await compile('cjs-nodenext', 'commonjs', 'consumer.cts', ['--module', 'nodenext', '--moduleResolution', 'nodenext']);
    writeFileSync(join(project, 'cjs-nodenext', 'main.cjs'), `require('./out/consumer.cjs').probe().then((s) => console.log(s));\n`);
    assert.equal((await node(join('cjs-nodenext', 'main.cjs'))).trim(), 'connected');
  });
});
