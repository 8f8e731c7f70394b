// Turns the measurements into the target verdicts and a Markdown report. The verdicts are printed only;
// they never change the exit status of the harness.
import { fmt } from './util.mjs'

// A difference with its sign: +1.9, −2.2.
const signed = (x) => `${x < 0 ? '−' : '+'}${fmt(Math.abs(x))}`

function rowStatus (r) {
  if (r.unavailable) return r.unavailable
  if (r.n === 0 || r.n === undefined) return r.broken ? `failed: ${r.broken}` : `failed: ${r.errors?.[0] ?? 'no samples'}`
  return null
}

function why (r, what) {
  if (!r) return `${what}: not measured`
  return `${what}: ${rowStatus(r) ?? 'no data'}`
}

export function computeTargets (res) {
  const T = []
  const notRun = (section, texts) => { for (const [id, text] of texts) T.push({ id, text, result: `n/a (${section} section not run)` }) }
  const lat = (group, engine) => res.latency?.find((r) => r.group === group && r.engine === engine)
  const ok = (r) => r && !r.unavailable && r.n > 0
  const ratioTarget = (id, text, conexRow, refRow, threshold, lowerIsBetter, unit, valueOf) => {
    const t = { id, text, threshold }
    if (!ok(conexRow)) t.result = `n/a (${why(conexRow, 'conex')})`
    else if (!ok(refRow)) t.result = `n/a (${why(refRow, 'reference')})`
    else {
      t.conex = valueOf(conexRow); t.reference = valueOf(refRow)
      t.ratio = t.conex / t.reference
      t.pass = lowerIsBetter ? t.ratio <= threshold : t.ratio >= threshold
      t.result = t.pass ? 'PASS' : 'FAIL'
    }
    t.unit = unit
    T.push(t)
  }
  // A docker-CLI row cannot be faster than the docker CLI's own cost (its row against the null engine) plus one
  // runtime exec: when that sum is above the target, no engine that runs the same runtime can pass it on this host.
  // Said for the runtimes the host runs, and for the what-if row (crun where it refuses the host) apart.
  const dockerCliFloor = (t) => {
    const cli = lat('docker CLI', 'null')
    const cheapest = (engines) => engines.map((e) => lat('floor', e)).filter(ok).reduce((a, b) => (a && a.median <= b.median ? a : b), undefined)
    const best = cheapest(['runc(sealed)→conex', 'runc→conex', 'runc', 'crun'])
    if (t.pass !== false || !ok(cli) || !best) return
    const budget = t.threshold * t.reference
    const sum = (r) => `${fmt(cli.median)} + ${r.engine} ${fmt(r.median)} = ${fmt(cli.median + r.median)} ms ${cli.median + r.median > budget ? '>' : '≤'} ${fmt(budget)} ms`
    t.floor = { cliMs: cli.median, runtime: best.engine, runtimeMs: best.median, budgetMs: budget }
    t.result += ` (floor: the docker CLI's own cost (null engine) + the cheapest runtime exec this host runs: ${sum(best)}`
    const whatIf = cheapest(['crun(v2 hidden)'])
    if (whatIf) {
      t.floor.whatIf = { runtime: whatIf.engine, runtimeMs: whatIf.median }
      t.result += `; with crun, which refuses this host (what-if row): ${sum(whatIf)}`
    }
    t.result += ')'
  }
  if (!res.latency) {
    notRun('latency', [['docker-cli-latency', 'docker CLI exec latency via conex ≤ 0.5× dockerd'], ['engine-cli-latency', '`conex exec` latency ≤ 0.5× `podman exec`']])
  }
  if (res.latency) ratioTarget('docker-cli-latency', 'docker CLI exec latency via conex ≤ 0.5× dockerd (median)',
    lat('docker CLI', 'conex'), lat('docker CLI', 'dockerd'), 0.5, true, 'ms', (r) => r.median)
  if (res.latency) dockerCliFloor(T.at(-1))
  if (res.latency) ratioTarget('engine-cli-latency', '`conex exec` latency ≤ 0.5× `podman exec` (median)',
    lat('engine CLI', 'conex'), lat('engine CLI', 'podman'), 0.5, true, 'ms', (r) => r.median)

  const tp = res.throughput ?? []
  if (!res.throughput) {
    notRun('throughput', [['stdout-api-throughput', 'stdout throughput ≥ 1.5× dockerd (in-process API)'], ['stdout-cli-throughput', 'stdout throughput ≥ 1.5× dockerd (`conex exec` vs `docker exec`)'],
      ['stdin-api-throughput', 'stdin throughput ≥ 1.5× dockerd (in-process API)'], ['stdin-cli-throughput', 'stdin throughput ≥ 1.5× dockerd (`conex exec` vs `docker exec`)']])
  }
  const sizes = [...new Set(tp.filter((r) => r.kind === 'stdout').map((r) => r.sizeMiB))].sort((a, b) => b - a)
  const big = sizes[0]
  for (const [kind, path] of res.throughput ? [['stdout', 'API'], ['stdout', 'CLI'], ['stdin', 'API'], ['stdin', 'CLI']] : []) {
    const pick = (engine) => tp.find((r) => r.kind === kind && r.path === path && r.engine === engine && r.variant === undefined && (kind === 'stdin' || r.sizeMiB === big))
    const c = pick('conex'); const d = pick('dockerd')
    const fix = (r) => r && { ...r, n: r.n, median: r.medianMBps }
    const size = (c ?? d)?.sizeMiB
    const via = path === 'API' ? 'in-process API' : '`conex exec` vs `docker exec`'
    ratioTarget(`${kind}-${path.toLowerCase()}-throughput`, `${kind} throughput ≥ 1.5× dockerd (${via}, ${size ?? '?'} MiB, median)`,
      fix(c), fix(d), 1.5, false, 'MB/s', (r) => r.medianMBps)
  }

  const cc = res.concurrency ?? []
  const levels = [...new Set(cc.map((r) => r.level))].sort((a, b) => b - a)
  const level = levels.includes(128) ? 128 : levels[0]
  if (!res.concurrency) notRun('concurrency', [['concurrency', '128-way concurrent API execs: rate ≥ 2× dockerd with zero failures']])
  else {
    const t = { id: 'concurrency', text: `${level ?? 128}-way concurrent API execs: rate ≥ 2× dockerd with zero failures${level !== 128 && level ? ' (128-way not run in this mode)' : ''}`, threshold: 2, unit: 'execs/s' }
    const c = cc.find((r) => r.engine === 'conex' && r.level === level)
    const d = cc.find((r) => r.engine === 'dockerd' && r.level === level)
    if (!c || c.unavailable || !c.execsPerSec) t.result = `n/a (conex: ${c?.unavailable ?? 'not measured'})`
    else if (!d || d.unavailable || !d.execsPerSec) t.result = `n/a (dockerd: ${d?.unavailable ?? 'not measured'})`
    else {
      t.conex = c.execsPerSec; t.reference = d.execsPerSec; t.ratio = t.conex / t.reference; t.failures = c.failures
      t.pass = t.ratio >= 2 && c.failures === 0
      t.result = t.pass ? 'PASS' : `FAIL${c.failures ? ` (${c.failures} failures)` : ''}`
    }
    T.push(t)
  }
  {
    if (!res.latency) { T.push({ id: 'service-overhead', text: 'conex service overhead above bare runc exec ≤ 5 ms', result: 'n/a (latency section not run)' }); return T }
    const t = { id: 'service-overhead', text: 'conex service overhead above bare runc exec ≤ 5 ms (Docker API round trip − runc exec into the same container as conex runs it, medians)', threshold: 5, unit: 'ms' }
    const api = lat('Docker API', 'conex')
    // Judged against runc started as conex's service starts it (from a sealed copy): what it saves is the runtime's
    // work, not the service's. The installed binary's row, where it was measured, is shown beside it.
    const sealed = lat('floor', 'runc(sealed)→conex')
    const own = lat('floor', 'runc→conex')
    const harness = lat('floor', 'runc')
    const floor = ok(sealed) ? sealed : ok(own) ? own : harness
    if (!ok(api)) t.result = `n/a (${why(api, 'conex')})`
    else if (!ok(floor)) t.result = `n/a (${why(floor, 'runc floor')})`
    else {
      t.conex = api.median; t.reference = floor.median; t.floorRow = floor.label
      t.delta = api.median - floor.median
      t.pass = t.delta <= 5
      t.result = t.pass ? 'PASS' : 'FAIL'
      // The round trip includes the client's own work (three HTTP requests), which the null engine's row measures:
      // what is left after it is the service's own share. Shown beside the target, which is judged without it.
      const client = lat('Docker API', 'null')
      if (ok(client)) {
        t.clientMedian = client.median
        t.serviceDelta = t.delta - client.median
        t.result += ` (without the client's own ${fmt(client.median)} ms, null engine: ${signed(t.serviceDelta)} ms)`
      }
      if (floor === sealed && ok(own)) {
        t.installedDelta = api.median - own.median
        t.result += `; against the installed runc binary (${fmt(own.median)} ms): ${signed(t.installedDelta)} ms`
      }
    }
    T.push(t)
  }
  return T
}

// ------------------------------------------------------------------------------------------ markdown

const esc = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ')

function table (header, rows) {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
}

function statusOr (r, values) {
  const s = rowStatus(r)
  return s ? [s, ...values.slice(1).map(() => '')] : values
}

const part = (p) => p.ok ? 'ok' : p.na ? `– (${p.reason})` : `unavailable: ${p.reason}`

export function renderMarkdown (res) {
  const m = res.meta
  const out = []
  out.push(`# conex benchmark — ${m.mode} run`, '')
  out.push(`- date (UTC): ${m.date}`)
  out.push(`- command: \`${m.command}\``)
  out.push(`- machine: ${m.machine.nproc} CPUs (${m.machine.cpuModel}), ${m.machine.memGiB} GiB RAM, kernel ${m.machine.kernel}, cgroup ${m.machine.cgroup}, hard nofile ${m.machine.nofileHard}`)
  out.push(`- versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join('; ')}`)
  out.push(`- conex commit: ${m.gitCommit}`)
  out.push(`- load average (1/5/15 min): ${m.loadavgStart} at start, ${m.loadavgEnd} at end — other work on the host skews every row alike, but widens p99`)
  out.push(`- duration: ${fmt(m.durationSec, 0)} s; cleanup: ${m.cleanup}`)
  if (m.podmanCleanupWait) {
    const w = m.podmanCleanupWait
    out.push(`- after the concurrency section: waited ${w.waitedSec} s for podman's delayed exec cleanups (${w.pendingAtStart} processes pending, ${w.pendingAtEnd} left)`)
  }
  out.push('')
  out.push('## Engines', '')
  out.push(table(['engine', 'engine CLI', 'docker CLI → API', 'Docker API', 'libpod API', 'setup'], Object.values(res.engines).map((e) => [
    e.name, part(e.cli), part(e.dockerCli),
    e.api.ok ? 'ok' : `unavailable: ${e.api.reason}`, e.libpod.ok ? 'ok' : (e.libpod.reason === 'not applicable' ? '–' : `unavailable: ${e.libpod.reason}`),
    [e.storageDriver ? `storage ${e.storageDriver}` : '', ...(e.notes ?? [])].filter(Boolean).join('; ') || '–'
  ])))
  out.push('')
  for (const [name, cmd] of Object.entries(m.engineCommands ?? {})) out.push(`- ${name}: \`${cmd}\``)
  if (m.floor) out.push(`- floor: runc ${m.floor.runc}; crun ${m.floor.crun}${m.floor.crunHidden ? `; crun what-if (cgroup2 mount hidden) ${m.floor.crunHidden}` : ''}`)
  if (m.serviceRssKiB?.afterSetup) {
    const mib = (k) => (k === null || k === undefined ? '–' : `${(k / 1024).toFixed(1)} MiB`)
    out.push(`- service RSS (dockerd without its containerd; podman and conex: the \`system service\` process), after setup → at the end: ${
      ['conex', 'dockerd', 'podman'].map((n) => `${n} ${mib(m.serviceRssKiB.afterSetup[n])} → ${mib(m.serviceRssKiB.atEnd?.[n])}`).join('; ')}`)
  }
  out.push('')
  out.push('## Targets (informational; they do not affect the exit status)', '')
  out.push(table(['target', 'conex', 'reference', 'ratio / delta', 'result'], res.targets.map((t) => [
    t.text,
    t.conex !== undefined ? `${fmt(t.conex)} ${t.unit}` : '–',
    t.reference !== undefined ? `${fmt(t.reference)} ${t.unit}${t.floorRow ? ` (${t.floorRow})` : ''}` : '–',
    t.delta !== undefined ? `${signed(t.delta)} ms` : t.ratio !== undefined ? `${fmt(t.ratio, 2)}×` : '–',
    t.result
  ])))
  out.push('')
  if (res.latency) {
    out.push(`## Exec latency (ms) — \`true\` in the running container, ${m.params.iterations} iterations after ${m.params.warmup} warm-up, all rows interleaved, in a new order each iteration`, '')
    const conexMed = (group) => res.latency.find((r) => r.group === group && r.engine === 'conex' && r.n > 0)?.median
    out.push(table(['path', 'what', 'engine', 'n', 'fail', 'median', 'p99', 'min', 'conex ÷ this'], res.latency.map((r) => {
      const cm = conexMed(r.group)
      const ratio = r.group !== 'floor' && r.engine !== 'conex' && r.engine !== 'null' && cm && r.median ? `${fmt(cm / r.median, 2)}×` : ''
      return [r.group, r.label, r.engine, ...statusOr(r, [String(r.n), String(r.failures), fmt(r.median), fmt(r.p99), fmt(r.min), ratio])]
    })))
    out.push('')
  }
  if (res.throughput) {
    out.push(`## Exec stream throughput (MB/s, 1 MB = 10⁶ bytes; ${m.params.reps} repetitions, interleaved)`, '')
    // each row against conex's row of the same kind, path, size and variant (the terminal rows against conex's own)
    const conexMed = (r) => res.throughput.find((x) => x.kind === r.kind && x.path === r.path && x.sizeMiB === r.sizeMiB && x.variant === r.variant && x.engine === 'conex' && x.n > 0)?.medianMBps
    out.push(table(['stream', 'path', 'MiB', 'engine', 'how', 'n', 'fail', 'median MB/s', 'worst MB/s', 'conex ÷ this'], res.throughput.map((r) => {
      const cm = conexMed(r)
      const ratio = r.engine !== 'conex' && r.engine !== 'null' && cm && r.medianMBps ? `${fmt(cm / r.medianMBps, 2)}×` : ''
      return [r.kind, r.path, String(r.sizeMiB), r.engine, r.label, ...statusOr(r, [String(r.n), String(r.failures), fmt(r.medianMBps, 0), fmt(r.minMBps, 0), ratio])]
    })))
    out.push('')
  }
  if (res.concurrency) {
    out.push(`## Concurrent execs through the Docker API (in-process client; ${m.params.rounds} rounds per level, median round shown)`, '')
    const conexRate = (level) => res.concurrency.find((x) => x.level === level && x.engine === 'conex' && x.execsPerSec)?.execsPerSec
    out.push(table(['concurrency', 'engine', 'execs', 'failures', 'wall ms', 'execs/s', 'p50 ms', 'p99 ms', 'conex ÷ this (rate)'], res.concurrency.map((r) => {
      if (r.unavailable) return [String(r.level), r.engine, r.unavailable, '', '', '', '', '', '']
      const cr = conexRate(r.level)
      return [String(r.level), r.engine, String(r.attempts), String(r.failures), fmt(r.wallMs, 0), fmt(r.execsPerSec), fmt(r.p50), fmt(r.p99),
        r.engine !== 'conex' && r.engine !== 'null' && cr && r.execsPerSec ? `${fmt(cr / r.execsPerSec, 2)}×` : '']
    })))
    const errs = res.concurrency.filter((r) => r.errors?.length)
    if (errs.length) out.push('', ...errs.map((r) => `- ${r.engine} ${r.level}-way errors, e.g.: ${r.errors.map((x) => x.slice(0, 160)).join(' / ')}`))
    out.push('')
  }
  if (res.scale) {
    out.push('## Scale — sequential API execs against one service (leaks show as growth)', '')
    const rows = []
    for (const r of res.scale) {
      if (r.unavailable) { rows.push([r.engine, String(r.count), r.unavailable, '', '', '', '', '', '', '']); continue }
      const d = (k) => `${r.before[k] ?? '–'} → ${r.after[k] ?? '–'}`
      rows.push([r.engine, `${r.done}/${r.count}${r.stopped ? ` (${r.stopped})` : ''}`, String(r.failures), `${fmt(r.execsPerSec)} /s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms`,
        `${fmt((r.before.rssKiB ?? NaN) / 1024)} → ${fmt((r.after.rssKiB ?? NaN) / 1024)}`, d('fds'), d('conmon'), d('processesUnderState'), d('runrootFiles'), d('mounts')])
    }
    out.push(table(['engine', 'execs', 'failures', 'rate / latency', 'service RSS MiB', 'service fds', 'conmon procs', 'procs under state dir', 'files under runroot', 'mounts'], rows))
    out.push('', '(before → 3 s after the last exec)')
    out.push('')
  }
  const problems = []
  for (const section of ['latency', 'throughput']) {
    for (const r of res[section] ?? []) if (r.failures > 0 && r.errors?.length) problems.push(`- ${section} ${r.group ?? r.kind + ' ' + r.path} / ${r.engine}: ${r.failures} failures, e.g. ${r.errors[0]}`)
  }
  if (problems.length) out.push('## Failures', '', ...problems, '')
  return out.join('\n')
}
