// Kubernetes' streaming WebSocket subprotocols (`v4.channel.k8s.io`, `v5.channel.k8s.io`), the wire format this
// module owns: every message is binary, its first byte a channel, the rest the payload.
//
//   0 stdin   client → server   raw bytes for the process
//   1 stdout  server → client   raw bytes (with a tty, everything the terminal shows)
//   2 stderr  server → client   raw bytes (never with a tty: the pty merges them into stdout)
//   3 status  server → client   one metav1.Status JSON when the process has ended (kubectl reads the exit code here)
//   4 resize  client → server   {"Width":W,"Height":H}
//   255 close client → server   v5 only: payload [0] half-closes stdin (the process reads EOF)
//
// v4 and v5 differ only in channel 255; v1–v3 (unstructured errors, no resize) are not offered.
import { EngineError } from '../../errors'

export const V5 = 'v5.channel.k8s.io'
export const V4 = 'v4.channel.k8s.io'
/** What we speak, best first. */
export const SUBPROTOCOLS = [V5, V4] as const
export type Subprotocol = typeof SUBPROTOCOLS[number]

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const

/** Terminal sizes above this are refused, as the exec API refuses them (conmon's limit). */
const MAX_TTY_SIZE = 1000

// Picks our best subprotocol among those the client offered (`Sec-WebSocket-Protocol`, comma-separated), or
// undefined when none matches.
export function negotiateSubprotocol (offered: Iterable<string>): Subprotocol | undefined {
  const set = new Set([...offered].map((p) => p.trim()))
  return SUBPROTOCOLS.find((p) => set.has(p))
}

// One message: the channel byte, then the payload.
export function encodeFrame (channel: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload
  const out = Buffer.allocUnsafe(data.length + 1)
  out[0] = channel
  data.copy(out, 1)
  return out
}

/** A metav1.Status as kubectl's remotecommand client decodes it from the status channel. */
export interface K8sStatus {
  metadata: Record<string, never>
  status: 'Success' | 'Failure'
  message?: string
  reason?: string
  details?: { causes: Array<{ reason: string, message: string }> }
  code?: number
}

// Go's %v of a []string, as the kubelet quotes the command: `[sh -c exit 3]`.
const goList = (argv: string[]): string => `[${argv.join(' ')}]`

// The status for a process that ended with `exitCode`: Success for 0, else kubelet's NonZeroExitCode Failure, whose
// ExitCode cause kubectl turns into its own exit status.
export function exitStatus (command: string[], exitCode: number): K8sStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' }
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command ${goList(command)}, exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  }
}

// The status for a session that failed to start or broke off. A command that could not run (126/127) still has an
// exit code, reported as NonZeroExitCode so that kubectl exits with it; anything else is an InternalError.
export function errorStatus (command: string[], err: unknown): K8sStatus {
  if (err instanceof EngineError && (err.exitCode === 126 || err.exitCode === 127)) {
    return { ...exitStatus(command, err.exitCode), message: `${err.message}: exit code ${err.exitCode}` }
  }
  const message = err instanceof Error ? err.message : String(err)
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: err instanceof EngineError ? err.httpStatus : 500 }
}

// Parses a resize payload; undefined when it is not `{"Width":W,"Height":H}` with sizes in 1..MAX_TTY_SIZE.
export function parseResize (payload: Buffer): { width: number, height: number } | undefined {
  let v: unknown
  try { v = JSON.parse(payload.toString('utf8')) } catch { return undefined }
  if (typeof v !== 'object' || v === null) return undefined
  const { Width: width, Height: height } = v as { Width?: unknown, Height?: unknown }
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= MAX_TTY_SIZE
  return ok(width) && ok(height) ? { width, height } : undefined
}
