// Bad CLI input, fuzzed with fast-check (seeded; the seed and the shrunk counterexample are printed on failure):
// wrong flags and values, broken --format templates, broken env files and -e values, impossible references. Every
// one must end with exit 125 and a single `Error: ...` line on stderr (or succeed, where the random input happens to
// be valid) — never a stack trace, another exit code, or a hang. The template and env parsers are also fuzzed
// in-process, where hundreds of runs are cheap: they may only throw conex's own errors.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { makeStore, type RunResult } from '../helpers'

const SEED = Number(process.env.FUZZ_SEED ?? 20261129)

// A failed command's stderr: exactly one line, `Error: ...`, and no stack frame anywhere.
function oneLineError (r: RunResult): string | undefined {
  const lines = r.stderr.split('\n').filter((l) => l !== '')
  if (lines.length !== 1) return `stderr has ${lines.length} lines: ${JSON.stringify(r.stderr.slice(0, 400))}`
  if (!lines[0].startsWith('Error: ')) return `stderr is not "Error: ...": ${JSON.stringify(lines[0].slice(0, 200))}`
  return undefined
}

const junk = fc.string({ maxLength: 24, unit: 'grapheme' })
// Template-ish text: brace pairs, dots, pipes and function names mixed with random characters.
const templateish = fc.array(fc.oneof(
  fc.constantFrom('{{', '}}', '{{.', '.ID', '.Names', '.State', '.Foo.Bar', ' | ', 'json', 'upper', 'printf "%d"', 'range .', 'end', 'if', 'else', 'index . 3', 'len', '(', ')', '$x := 1', '"', '`', '\\n', '\\t', 'table '),
  junk,
), { maxLength: 8 }).map((parts) => parts.join(''))

const COMMANDS_WITH_FORMAT = ['ps -a', 'images', 'inspect victim', 'info', 'version', 'events --stream=false', 'exec inspect 0000']
const INT_FLAGS = [['stop', '-t'], ['rm', '-t'], ['exec', '--timeout'], ['exec', '--preserve-fds'], ['logs', '--tail'], ['system service', '--time'], ['restart', '-t']]

test('CLI: wrong flags, values, templates, env files and references → exit 125 and one Error line', { timeout: 600_000 }, async () => {
  const store = makeStore('fuzz-cli')
  const dir = mkdtempSync('/tmp/conex-fuzz-env-')
  try {
    const run = await store.conex(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '100000'])
    assert.equal(run.code, 0, run.stderr)
    let n = 0
    const argvArb = fc.oneof(
      // An unknown long or short flag on any command.
      fc.tuple(fc.constantFrom('exec victim true', 'ps', 'rm', 'stop victim', 'kill victim', 'logs victim', 'images', 'events', 'inspect victim', 'run busybox true', 'create busybox', 'top victim', 'system service'), fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), fc.boolean())
        .map(([cmd, name, short]) => { const [c, ...rest] = cmd.split(' '); return { argv: [...c === 'system' ? ['system', 'service'] : [c], short ? `-Z${name}` : `--zz-${name}`, ...c === 'system' ? [] : rest], expect125: true } }),
      // An integer flag with something that is not an integer.
      fc.tuple(fc.constantFrom(...INT_FLAGS), junk.filter((s) => !/^-?\d+$/.test(s) && !s.startsWith('-')))
        .map(([[cmd, flag], v]) => ({ argv: [...cmd.split(' '), flag, v, 'victim', 'true'], expect125: true })),
      // A random --format template: valid ones print, broken ones are a one-line error.
      fc.tuple(fc.constantFrom(...COMMANDS_WITH_FORMAT), templateish)
        .map(([cmd, t]) => ({ argv: [...cmd.split(' '), '--format', t], expect125: false })),
      // A random env file and -e values on an exec.
      fc.tuple(fc.array(fc.oneof(junk, fc.constantFrom('=x', 'A B=1', 'K=v', '# c', '', 'X\tY=2', 'Ü=1', 'PATH*')), { maxLength: 6 }), fc.array(junk, { maxLength: 2 }))
        .map(([lines, envs]) => {
          const f = join(dir, `env-${n++}`)
          writeFileSync(f, lines.join('\n'))
          return { argv: ['exec', '--env-file', f, ...envs.flatMap((e) => ['-e', e]), 'victim', 'true'], expect125: false }
        }),
      // References that name nothing (or cannot name anything).
      fc.tuple(fc.constantFrom('inspect', 'logs', 'top', 'stop', 'kill', 'rm', 'wait', 'start', 'exec', 'pause', 'attach'), fc.oneof(junk.filter((s) => s !== '' && !s.startsWith('-')), fc.constantFrom('../../etc', 'a/../b', 'x'.repeat(5000), '%00', '\u202e')))
        .map(([cmd, ref]) => ({ argv: cmd === 'exec' ? [cmd, ref, 'true'] : [cmd, ref], expect125: true })),
      // Signals and other enumerated values that do not exist.
      fc.tuple(fc.constantFrom(['kill', '-s'], ['create', '--stop-signal'], ['exec', '--detach-keys'], ['create', '--ulimit'], ['events', '--since'], ['events', '--filter']), junk.filter((s) => s !== '' && !s.startsWith('-')))
        .map(([[cmd, flag], v]) => ({ argv: cmd === 'create' ? [cmd, flag, v, 'busybox', 'true'] : cmd === 'exec' ? [cmd, flag, `bogus-${v}`, 'victim', 'true'] : cmd === 'events' ? [cmd, flag, `?${v}`, '--stream=false'] : [cmd, flag, `SIGBOGUS${v}`, 'victim'], expect125: true })),
    )
    await fc.assert(fc.asyncProperty(argvArb, async ({ argv, expect125 }) => {
      const r = await store.conex(argv, { timeoutMs: 60_000 })
      if (r.code === 0 && !expect125) return
      assert.equal(r.code, 125, `conex ${JSON.stringify(argv)} exited ${r.code}: ${r.stderr.slice(0, 300)}`)
      const bad = oneLineError(r)
      assert.equal(bad, undefined, `conex ${JSON.stringify(argv)}: ${bad ?? ''}`)
    }), { seed: SEED, numRuns: Number(process.env.FUZZ_CLI_RUNS ?? 60), verbose: 1 })
    // Whatever was created by valid random input goes; the victim still works.
    assert.equal((await store.conex(['exec', 'victim', 'true'])).code, 0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await store.cleanup()
  }
})

test('templates and env files, in-process: only conex errors, never a TypeError or a hang', () => {
  const { formatList } = require('../../src/cli/format/format-output') as typeof import('../../src/cli/format/format-output')
  const { TemplateError } = require('../../src/cli/format/template/errors') as typeof import('../../src/cli/format/template/errors')
  const { EngineError } = require('../../src/errors') as typeof import('../../src/errors')
  const { expandEnv, readEnvFiles } = require('../../src/cli/env') as typeof import('../../src/cli/env')
  const { checkEnv } = require('../../src/engine/container/create') as typeof import('../../src/engine/container/create')
  const item = { ID: 'abc', Names: 'victim', State: { Status: 'running', Pid: 42 }, Labels: { a: 'b' }, Ports: [], Mounts: [{ Source: '/x' }], Size: 1024, Created: 1700000000 }
  const expected = (err: unknown): boolean => err instanceof TemplateError || err instanceof EngineError
  fc.assert(fc.property(templateish, (t) => {
    try { formatList(t, [item, item]) } catch (err) {
      assert.ok(expected(err), `template ${JSON.stringify(t)} threw ${(err as Error).name}: ${(err as Error).message}`)
      assert.ok(!(err as Error).message.includes('\n'), `template error with a newline: ${JSON.stringify((err as Error).message)}`)
    }
  }), { seed: SEED, numRuns: 300 })
  const dir = mkdtempSync('/tmp/conex-fuzz-envfile-')
  try {
    let n = 0
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 40, unit: 'binary' }), { maxLength: 10 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }), (lines, flags) => {
      const f = join(dir, `e${n++}`)
      writeFileSync(f, lines.join('\n'))
      try {
        const env = expandEnv([...readEnvFiles([f]), ...flags], { HOME: '/root', PATH: '/bin' })
        env.forEach(checkEnv)
      } catch (err) {
        assert.ok(err instanceof EngineError, `env file ${JSON.stringify(lines)} / -e ${JSON.stringify(flags)} threw ${(err as Error).name}: ${(err as Error).message}`)
      }
    }), { seed: SEED, numRuns: 300 })
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
