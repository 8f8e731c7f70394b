// Container lifecycle commands: run, create, start, stop, kill, restart, pause, unpause, rm, wait.
import type { Command, CliContext } from '../command'
import { bool, int, str } from '../args'
import { CREATE_FLAGS, toCreateOptions } from './create-flags'
import { withTerminal, type TerminalGuard } from '../terminal'
import type { ContainerRecord } from '../../engine/types'
import { EngineError } from '../../errors'

// Runs an attached start with the caller's stdio; returns the container's exit code (0 when detached). With a tty,
// the caller's window size goes with the start and every SIGWINCH after it becomes a resize, as with podman.
async function attachedStart (ctx: CliContext, c: ContainerRecord, o: { stdin: boolean, detachKeys?: string }): Promise<number> {
  return withTerminal({ tty: c.config.tty, stdin: o.stdin }, (term, streams) => {
    forwardResizes(ctx, c, term)
    return ctx.engine().startContainer(c.id, { streams, consoleSize: term.size, detachKeys: o.detachKeys })
  })
}

// SIGWINCH → the container's pty. A resize before the container runs (no ctl fifo yet) is dropped; the start sends
// the size the window has when the start begins.
function forwardResizes (ctx: CliContext, c: ContainerRecord, term: TerminalGuard): void {
  if (c.config.tty) term.onResize((h, w) => { void ctx.engine().resizeContainer(c.id, h, w).catch(() => undefined) })
}

export const run: Command = {
  name: 'run',
  usage: 'conex run [options] IMAGE [COMMAND [ARG...]]',
  summary: 'Run a command in a new container',
  examples: ['conex run --rm busybox sh -c \'echo hi; exit 3\'', 'conex run -d --name web busybox sleep 1000', 'conex run -it busybox sh'],
  interspersed: false,
  minArgs: 1,
  flags: [
    ...CREATE_FLAGS,
    { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container. Format is a single character [a-Z] or a comma separated sequence of `ctrl-<value>`' },
  ],
  run: async (ctx, p) => {
    const [image, ...command] = p.args
    const e = ctx.engine()
    const c = await e.createContainer(toCreateOptions(p.flags, image, command))
    if (bool(p.flags, 'detach')) {
      try {
        await e.startContainer(c.id)
      } catch (err) {
        if (c.config.autoRemove) await e.removeContainer(c.id, { force: true }).catch(() => undefined)
        throw err
      }
      ctx.out(c.id + '\n')
      return 0
    }
    let code: number
    try {
      code = await attachedStart(ctx, c, { stdin: bool(p.flags, 'interactive'), detachKeys: str(p.flags, 'detach-keys') })
    } catch (err) {
      if (c.config.autoRemove) await e.removeContainer(c.id, { force: true }).catch(() => undefined)
      throw err
    }
    if (c.config.autoRemove) {
      // conmon's exit command removes a --rm container too; when it has begun ('removing'), this process finishes the
      // removal with it (every step is idempotent), so that the container is gone when `run` returns, as with podman
      // (a `ps -a` right after 8 parallel `run --rm` listed 2 of them while their exit commands were still at it).
      const now = await e.getContainer(c.id).catch(() => undefined)
      if (now !== undefined && (now.state === 'exited' || now.state === 'removing')) await e.removeContainer(c.id, {}).catch(() => undefined)
    }
    return code
  },
}

export const create: Command = {
  name: 'create',
  usage: 'conex create [options] IMAGE [COMMAND [ARG...]]',
  summary: 'Create but do not start a container',
  interspersed: false,
  minArgs: 1,
  flags: CREATE_FLAGS,
  run: async (ctx, p) => {
    const [image, ...command] = p.args
    const c = await ctx.engine().createContainer(toCreateOptions(p.flags, image, command))
    ctx.out(c.id + '\n')
    return 0
  },
}

// Runs `fn` for each named container, printing each name as podman does; the first error decides the exit code,
// the others are printed.
async function forEach (ctx: CliContext, refs: string[], fn: (ref: string) => Promise<string | undefined>): Promise<number> {
  let firstErr: unknown
  for (const ref of refs) {
    try {
      const shown = await fn(ref)
      if (shown !== undefined) ctx.out(shown + '\n')
    } catch (err) {
      if (firstErr !== undefined) ctx.err(`Error: ${(err as Error).message}\n`)
      else firstErr = err
    }
  }
  if (firstErr !== undefined) throw firstErr
  return 0
}

async function allOr (ctx: CliContext, all: boolean, args: string[], filter: (c: ContainerRecord) => boolean = () => true): Promise<string[]> {
  if (!all) return args
  return (await ctx.engine().listContainers({ all: true })).filter(filter).map((c) => c.id)
}

const ALL_FLAG = { name: 'all', short: 'a', type: 'bool' as const, help: 'Apply to all containers' }

export const start: Command = {
  name: 'start',
  usage: 'conex start [options] CONTAINER [CONTAINER...]',
  summary: 'Start one or more containers',
  minArgs: 1,
  flags: [
    { name: 'attach', short: 'a', type: 'bool', help: 'Attach container\'s STDOUT and STDERR' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Make STDIN available to the contained process' },
    { name: 'detach-keys', type: 'string', help: 'Select the key sequence for detaching a container' },
  ],
  run: async (ctx, p) => {
    if (bool(p.flags, 'attach')) {
      if (p.args.length > 1) throw new EngineError('INVALID_ARGUMENT', 'you cannot start and attach multiple containers at once')
      const c = await ctx.engine().getContainer(p.args[0])
      return attachedStart(ctx, c, { stdin: bool(p.flags, 'interactive'), detachKeys: str(p.flags, 'detach-keys') })
    }
    return forEach(ctx, p.args, async (ref) => { await ctx.engine().startContainer(ref); return ref })
  },
}

export const stop: Command = {
  name: 'stop',
  usage: 'conex stop [options] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more containers',
  flags: [ALL_FLAG, { name: 'time', short: 't', type: 'int', help: 'Seconds to wait for stop before killing the container' }, { name: 'ignore', short: 'i', type: 'bool', help: 'Ignore errors when a specified container is missing' }],
  run: async (ctx, p) => {
    const refs = await allOr(ctx, bool(p.flags, 'all'), p.args, (c) => c.state === 'running' || c.state === 'paused')
    if (refs.length === 0 && !bool(p.flags, 'all')) throw new EngineError('INVALID_ARGUMENT', '"conex stop" requires at least 1 argument (see \'conex stop --help\')')
    return forEach(ctx, refs, async (ref) => {
      try { await ctx.engine().stopContainer(ref, int(p.flags, 'time')) } catch (err) {
        if (bool(p.flags, 'ignore') && err instanceof EngineError && err.code === 'NO_SUCH_CONTAINER') return undefined
        throw err
      }
      return ref
    })
  },
}

export const kill: Command = {
  name: 'kill',
  usage: 'conex kill [options] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers with a specific signal',
  flags: [ALL_FLAG, { name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container', default: 'KILL' }],
  run: async (ctx, p) => forEach(ctx, await allOr(ctx, bool(p.flags, 'all'), p.args, (c) => c.state === 'running'), async (ref) => {
    await ctx.engine().killContainer(ref, str(p.flags, 'signal'))
    return ref
  }),
}

export const restart: Command = {
  name: 'restart',
  usage: 'conex restart [options] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  flags: [ALL_FLAG, { name: 'time', short: 't', type: 'int', help: 'Seconds to wait for stop before killing the container' }],
  run: async (ctx, p) => forEach(ctx, await allOr(ctx, bool(p.flags, 'all'), p.args), async (ref) => {
    await ctx.engine().restartContainer(ref, int(p.flags, 'time'))
    return ref
  }),
}

export const pause: Command = {
  name: 'pause',
  usage: 'conex pause [options] CONTAINER [CONTAINER...]',
  summary: 'Pause all the processes in one or more containers',
  flags: [ALL_FLAG],
  run: async (ctx, p) => forEach(ctx, await allOr(ctx, bool(p.flags, 'all'), p.args, (c) => c.state === 'running'), async (ref) => {
    await ctx.engine().pauseContainer(ref)
    return ref
  }),
}

export const unpause: Command = {
  name: 'unpause',
  usage: 'conex unpause [options] CONTAINER [CONTAINER...]',
  summary: 'Unpause the processes in one or more containers',
  flags: [ALL_FLAG],
  run: async (ctx, p) => forEach(ctx, await allOr(ctx, bool(p.flags, 'all'), p.args, (c) => c.state === 'paused'), async (ref) => {
    await ctx.engine().unpauseContainer(ref)
    return ref
  }),
}

export const rm: Command = {
  name: 'rm',
  usage: 'conex rm [options] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  flags: [
    ALL_FLAG,
    { name: 'force', short: 'f', type: 'bool', help: 'Force removal of a running or unusable container' },
    { name: 'time', short: 't', type: 'int', help: 'Seconds to wait for stop before killing the container (default: kill at once)' },
    { name: 'ignore', short: 'i', type: 'bool', help: 'Ignore errors when a specified container is missing' },
  ],
  run: async (ctx, p) => {
    const all = bool(p.flags, 'all')
    if (!all && p.args.length === 0) throw new EngineError('INVALID_ARGUMENT', '"conex rm" requires at least 1 argument (see \'conex rm --help\')')
    return forEach(ctx, await allOr(ctx, all, p.args), async (ref) => {
      const id = await ctx.engine().removeContainer(ref, { force: bool(p.flags, 'force'), timeout: int(p.flags, 'time'), ignore: bool(p.flags, 'ignore') })
      return id
    })
  },
}

export const wait: Command = {
  name: 'wait',
  usage: 'conex wait [options] CONTAINER [CONTAINER...]',
  summary: 'Block on one or more containers',
  minArgs: 1,
  flags: [{ name: 'condition', type: 'string', help: 'Condition to wait on (stopped, running, removed)', default: 'stopped' }],
  run: async (ctx, p) => {
    const cond = str(p.flags, 'condition') as 'stopped' | 'running' | 'removed'
    if (!['stopped', 'running', 'removed', 'exited'].includes(cond)) throw new EngineError('INVALID_ARGUMENT', `invalid condition "${cond}": use stopped, running or removed`)
    return forEach(ctx, p.args, async (ref) => String(await ctx.engine().waitContainer(ref, { condition: cond === ('exited' as string) ? 'stopped' : cond })))
  },
}

export const attach: Command = {
  name: 'attach',
  usage: 'conex attach [options] CONTAINER',
  summary: 'Attach to a running container',
  minArgs: 1,
  maxArgs: 1,
  flags: [
    { name: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
    { name: 'detach-keys', type: 'string', help: 'Select the key sequence for detaching a container' },
  ],
  run: async (ctx, p) => {
    const c = await ctx.engine().getContainer(p.args[0])
    const stdin = !bool(p.flags, 'no-stdin') && c.config.stdin
    return withTerminal({ tty: c.config.tty, stdin }, async (term, streams) => {
      // The pty takes the attaching terminal's size, as podman attach does, then follows its resizes.
      const e = ctx.engine()
      if (c.config.tty && term.size !== undefined) await e.resizeContainer(c.id, term.size[0], term.size[1]).catch(() => undefined)
      forwardResizes(ctx, c, term)
      return e.attachContainer(c.id, streams, { detachKeys: str(p.flags, 'detach-keys') })
    })
  },
}
