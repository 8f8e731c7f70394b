// Template errors, worded like Go's (`template: output:1: ...`), and the source positions they cite.

export const NAME = 'output' // the template name in messages, as podman prints `template: output:1: ...`

// Thrown for parse and execution errors; one line, worded like Go's (`template: output:1: ...`).
export class TemplateError extends Error {
  constructor (message: string) {
    super(message.replaceAll('\n', '\\n'))
    this.name = 'TemplateError'
  }
}

// An error a builtin returns; the evaluator reports it as `error calling NAME: ...`.
export class FuncError extends Error {}

// The 1-based line of string index `pos` in `src`.
export function lineAt (src: string, pos: number): number {
  let line = 1
  for (let i = src.indexOf('\n'); i >= 0 && i < pos; i = src.indexOf('\n', i + 1)) line++
  return line
}

// `line:column` of `pos` (column in UTF-8 bytes, as Go counts), for execution errors.
export function location (src: string, pos: number): string {
  const nl = src.lastIndexOf('\n', pos - 1)
  return `${lineAt(src, pos)}:${Buffer.byteLength(src.slice(nl + 1, pos))}`
}
