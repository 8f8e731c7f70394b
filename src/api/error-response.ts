// The one place an error becomes an HTTP status: EngineError → its row of ERRORS (err.httpStatus) and Docker's
// `{"message": "..."}` body; anything else is a bug, answered 500 and logged with its stack (as moby's FromError).
// Errors after a hijack cannot change the status: hijack.ts writes them into the stream instead.
import { EngineError, toEngineError } from '../errors'
import type { Exchange } from './exchange'

// The status and message for `err`; `isBug` marks errors that were not EngineErrors.
export function errorStatus (err: unknown): { status: number, message: string, isBug: boolean } {
  if (err instanceof EngineError) return { status: err.httpStatus, message: err.message, isBug: err.code === 'INTERNAL' }
  const e = toEngineError(err)
  return { status: e.httpStatus, message: e.message, isBug: true }
}

// Answers `x` with the error, if nothing has been sent yet; streams already under way are just ended.
export function sendError (x: Exchange, err: unknown, log: (line: string) => void): void {
  const { status, message, isBug } = errorStatus(err)
  if (isBug) log(`API ${x.method} ${x.url}: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  if (x.state === 'open') { x.json(status, { message }); return }
  if (x.state === 'streaming') x.endStream()
}
