// The one error table of conex: every failure the engine can report, with the HTTP status the API answers and the
// exit code the CLI exits with. Both are required, so nothing silently becomes a 500 or an exit 1.
// docs/errors.md lists the same codes; src/errors.test.ts fails when the two drift apart.

export const ERRORS = {
  INVALID_ARGUMENT: { http: 400, exit: 125, doc: 'a flag, body field or query value is malformed or out of range' },
  UNSAFE_ARCHIVE: { http: 400, exit: 125, doc: 'an image archive tries to escape the store or exceeds a limit' },
  PAYLOAD_TOO_LARGE: { http: 413, exit: 125, doc: 'a request body is larger than the service accepts' },
  REQUEST_TIMEOUT: { http: 408, exit: 125, doc: 'an upload (image import or load) stopped sending data for longer than the idle timeout' },
  UNAUTHORIZED: { http: 401, exit: 125, doc: 'the request lacks the access token' },
  NO_SUCH_CONTAINER: { http: 404, exit: 125, doc: 'no container has that name or id (prefix)' },
  NO_SUCH_IMAGE: { http: 404, exit: 125, doc: 'no image has that name or id (prefix)' },
  NO_SUCH_EXEC_SESSION: { http: 404, exit: 125, doc: 'no exec session has that id' },
  NO_SUCH_ROUTE: { http: 404, exit: 125, doc: 'the API has no such endpoint' },
  AMBIGUOUS_ID: { http: 409, exit: 125, doc: 'an id prefix matches more than one object' },
  NAME_IN_USE: { http: 409, exit: 125, doc: 'the container name is already taken' },
  CONTAINER_NOT_RUNNING: { http: 409, exit: 125, doc: 'the container must be running for this' },
  CONTAINER_PAUSED: { http: 409, exit: 125, doc: 'the container is paused' },
  CONTAINER_STATE: { http: 409, exit: 125, doc: 'the container is in a state that does not allow this' },
  EXEC_STATE: { http: 409, exit: 125, doc: 'the exec session is in a state that does not allow this' },
  IMAGE_IN_USE: { http: 409, exit: 125, doc: 'a container still uses the image' },
  EXEC_CANNOT_INVOKE: { http: 500, exit: 126, doc: 'the command exists but cannot be invoked (permission denied, a directory)' },
  EXEC_NOT_FOUND: { http: 500, exit: 127, doc: 'the command was not found in the container' },
  RUNTIME_ERROR: { http: 500, exit: 125, doc: 'the OCI runtime or conmon failed' },
  TIMEOUT: { http: 500, exit: 125, doc: 'the engine gave up waiting for conmon or the runtime' },
  NOT_IMPLEMENTED: { http: 501, exit: 125, doc: 'conex does not support this option' },
  INTERNAL: { http: 500, exit: 125, doc: 'an unexpected engine failure (a bug)' },
} as const satisfies Record<string, { http: number; exit: number; doc: string }>

export type ErrorCode = keyof typeof ERRORS

const kEngineError = Symbol.for('conex.error')

// EngineError is the only error class conex throws on purpose; `code` selects the row of ERRORS.
export class EngineError extends Error {
  readonly code: ErrorCode
  /** The same error in dockerd's words, where clients of the Docker API look for them (the message is podman's). */
  readonly docker?: string
  constructor (code: ErrorCode, message: string, opts?: { cause?: unknown, docker?: string }) {
    super(message, opts)
    this.code = code
    if (opts?.docker !== undefined) this.docker = opts.docker
    this.name = 'EngineError'
    ;(this as unknown as Record<symbol, boolean>)[kEngineError] = true
  }

  get httpStatus (): number { return ERRORS[this.code].http }
  get exitCode (): number { return ERRORS[this.code].exit }

  static override [Symbol.hasInstance] (instance: unknown): boolean {
    return typeof instance === 'object' && instance !== null && (instance as Record<symbol, unknown>)[kEngineError] === true
  }
}

// Shorthand constructors keep call sites short: `throw invalid('bad --env-file %s')`.
export const invalid = (message: string): EngineError => new EngineError('INVALID_ARGUMENT', message)

// Turns anything thrown into an EngineError; unknown errors become INTERNAL with the original as cause.
export function toEngineError (err: unknown): EngineError {
  if (err instanceof EngineError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new EngineError('INTERNAL', message, { cause: err })
}
