// Phase timing for diagnosis: with CONEX_TRACE=1, `trace('label')` prints `conex-trace +12.3ms label` on stderr,
// measured from process start. Free when off (one boolean check).
const on = process.env.CONEX_TRACE === '1'

export function trace (label: string): void {
  if (!on) return
  process.stderr.write(`conex-trace +${performance.now().toFixed(1)}ms ${label}\n`)
}
