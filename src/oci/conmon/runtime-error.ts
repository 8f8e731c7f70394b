// Classifies an OCI runtime failure message into conex's error codes, once, from the text the runtime gave
// (conmon's sync-pipe message or the runtime's JSON log), as podman's getOCIRuntimeError does.
import { readFileSync } from 'node:fs'
import { EngineError, type ErrorCode } from '../../errors'

const NOT_FOUND = /executable file not found|no such file or directory|open executable|not found in \$PATH/i
const CANNOT_INVOKE = /permission denied|operation not permitted|is a directory|exec format error|not a directory/i

// 127 for a missing command, 126 for one that cannot be run, 125 (RUNTIME_ERROR) for anything else.
export function classifyRuntimeError (message: string): ErrorCode {
  if (NOT_FOUND.test(message)) return 'EXEC_NOT_FOUND'
  if (CANNOT_INVOKE.test(message)) return 'EXEC_CANNOT_INVOKE'
  return 'RUNTIME_ERROR'
}

// The last error-level message of a runtime's --log-format=json log, if any.
export function readOciLog (path: string): string | undefined {
  let text: string
  try { text = readFileSync(path, 'utf8') } catch { return undefined }
  let last: string | undefined
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try {
      const v = JSON.parse(line) as { level?: string, msg?: string }
      if (typeof v.msg === 'string' && (v.level === 'error' || v.level === 'fatal')) last = v.msg
    } catch { last = line }
  }
  return last
}

// Builds the EngineError for a runtime failure; the message is made one line and stripped of runc's prefixes.
export function runtimeError (runtimeName: string, raw: string, context: string): EngineError {
  const msg = raw.trim().split('\n').filter((l) => l !== '').pop() ?? 'unknown error'
  const code = classifyRuntimeError(msg)
  const clean = msg.replace(/^(runc|crun) (exec|create|start) failed: /, '')
  return new EngineError(code, `${context}: ${runtimeName}: ${clean}`)
}
