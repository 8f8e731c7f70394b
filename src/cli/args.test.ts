import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseArgs, flagsHelp, str, bool, list, int, type FlagSpec } from './args'
import { EngineError } from '../errors'

const SPECS: FlagSpec[] = [
  { name: 'detach', short: 'd', type: 'bool', help: 'Run in background' },
  { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open' },
  { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { name: 'name', type: 'string', help: 'Assign a name' },
  { name: 'env', short: 'e', type: 'strings', help: 'Set environment variables' },
  { name: 'tail', type: 'int', help: 'Lines', default: -1 },
  { name: 'user', short: 'u', type: 'string', help: 'Username or UID' },
  { name: 'network', type: 'string', help: 'Network', default: 'none' },
  { name: 'secret', type: 'bool', help: 'hidden', hidden: true },
]

// Asserts that `fn` throws INVALID_ARGUMENT with exactly `message`.
function rejects (fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EngineError)
    assert.equal(err.code, 'INVALID_ARGUMENT')
    assert.equal(err.exitCode, 125)
    assert.equal(err.message, message)
    return true
  })
}

test('long flags take =value or the next argument; defaults fill what is not given', () => {
  assert.deepEqual(parseArgs(['--name=web', '--user', '1000', 'busybox'], SPECS), {
    flags: { name: 'web', user: '1000', tail: -1, network: 'none' },
    args: ['busybox'],
  })
  assert.deepEqual(parseArgs(['--name', '--user'], SPECS).flags.name, '--user')
  assert.deepEqual(parseArgs(['--name='], SPECS).flags.name, '')
  assert.deepEqual(parseArgs(['--network', 'host'], SPECS).flags.network, 'host')
})

test('booleans: bare, =true, =false; anything else is refused with strconv\'s words', () => {
  assert.equal(parseArgs(['--detach'], SPECS).flags.detach, true)
  assert.equal(parseArgs(['--detach=true'], SPECS).flags.detach, true)
  assert.equal(parseArgs(['--detach=false'], SPECS).flags.detach, false)
  assert.equal(parseArgs(['-d=false'], SPECS).flags.detach, false)
  // A bool never takes the next argument.
  assert.deepEqual(parseArgs(['--detach', 'false'], SPECS).args, ['false'])
  rejects(() => parseArgs(['--detach=yes'], SPECS), 'invalid argument "yes" for "--detach" flag: strconv.ParseBool: parsing "yes": invalid syntax')
})

test('short flags cluster; a value-taking one takes the rest of the cluster or the next argument', () => {
  assert.deepEqual(parseArgs(['-it', 'busybox'], SPECS).flags, { interactive: true, tty: true, tail: -1, network: 'none' })
  assert.equal(parseArgs(['-u1000'], SPECS).flags.user, '1000')
  assert.equal(parseArgs(['-u=1000'], SPECS).flags.user, '1000')
  assert.equal(parseArgs(['-u', '1000'], SPECS).flags.user, '1000')
  assert.deepEqual(parseArgs(['-itu', 'nobody', 'x'], SPECS), { flags: { interactive: true, tty: true, user: 'nobody', tail: -1, network: 'none' }, args: ['x'] })
  assert.deepEqual(parseArgs(['-diuroot'], SPECS).flags.user, 'root')
})

test('string arrays accumulate in order, from both spellings', () => {
  assert.deepEqual(parseArgs(['-e', 'A=1', '--env=B=2', '-eC=3', '--env', 'D'], SPECS).flags.env, ['A=1', 'B=2', 'C=3', 'D'])
  assert.deepEqual(list(parseArgs([], SPECS).flags, 'env'), [])
})

test('ints accept negatives and refuse anything else', () => {
  assert.equal(parseArgs(['--tail', '-1'], SPECS).flags.tail, -1)
  assert.equal(parseArgs(['--tail=20'], SPECS).flags.tail, 20)
  rejects(() => parseArgs(['--tail=2x'], SPECS), 'invalid argument "2x" for "--tail" flag: strconv.ParseInt: parsing "2x": invalid syntax')
  rejects(() => parseArgs(['--tail='], SPECS), 'invalid argument "" for "--tail" flag: strconv.ParseInt: parsing "": invalid syntax')
})

test('`--` ends flags; `-` alone is a positional (stdin)', () => {
  assert.deepEqual(parseArgs(['-d', '--', '--name', 'x'], SPECS).args, ['--name', 'x'])
  assert.deepEqual(parseArgs(['-', '-d'], SPECS), { flags: { detach: true, tail: -1, network: 'none' }, args: ['-'] })
})

test('interspersed: false stops at the first positional, leaving the command\'s own flags alone', () => {
  assert.deepEqual(parseArgs(['-d', 'busybox', 'ls', '-d', '--name', 'x'], SPECS, { interspersed: false }), {
    flags: { detach: true, tail: -1, network: 'none' },
    args: ['busybox', 'ls', '-d', '--name', 'x'],
  })
  // By default flags may follow positionals (`conex import t.tar mini:1 --change ...`).
  assert.deepEqual(parseArgs(['a', '-d', 'b'], SPECS), { flags: { detach: true, tail: -1, network: 'none' }, args: ['a', 'b'] })
})

test('unknown flags and missing values are refused with cobra\'s wording and the command\'s help hint', () => {
  rejects(() => parseArgs(['--bogus'], SPECS, { command: 'ps' }), 'unknown flag: --bogus (see \'conex ps --help\')')
  rejects(() => parseArgs(['--bogus=1'], SPECS), 'unknown flag: --bogus')
  rejects(() => parseArgs(['-dZ'], SPECS), 'unknown shorthand flag: \'Z\' in -dZ')
  rejects(() => parseArgs(['--name'], SPECS, { command: 'run' }), 'flag needs an argument: --name (see \'conex run --help\')')
  rejects(() => parseArgs(['-u'], SPECS), 'flag needs an argument: \'u\' in -u')
})

test('the accessors read typed values', () => {
  const f = parseArgs(['-d', '--name', 'n', '--tail', '3', '-e', 'A'], SPECS).flags
  assert.equal(str(f, 'name'), 'n')
  assert.equal(str(f, 'user'), undefined)
  assert.equal(bool(f, 'detach'), true)
  assert.equal(bool(f, 'tty'), false)
  assert.equal(int(f, 'tail'), 3)
  assert.deepEqual(list(f, 'env'), ['A'])
})

test('flagsHelp aligns the columns, shows defaults and placeholders, and hides hidden flags', () => {
  assert.equal(flagsHelp(SPECS), [
    '  -d, --detach            Run in background',
    '  -i, --interactive       Keep STDIN open',
    '  -t, --tty               Allocate a pseudo-TTY',
    '      --name string       Assign a name',
    '  -e, --env stringArray   Set environment variables',
    '      --tail int          Lines (default -1)',
    '  -u, --user string       Username or UID',
    '      --network string    Network (default "none")',
  ].join('\n'))
})
