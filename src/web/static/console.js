// The web console's page script (plain browser JavaScript, served as is). It lists the running containers and opens
// one terminal at a time: POST /api/containers/{id}/exec creates a tty session running sh at the terminal's size,
// then a WebSocket to /conex/v1/exec/{id}/attach speaks Kubernetes' v5.channel.k8s.io: every message is one
// channel byte (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize) and the payload. The token travels as the cookie
// the first visit set.
'use strict'
;(function () {
  const $ = (id) => document.getElementById(id)
  const enc = new TextEncoder()
  const dec = new TextDecoder()
  const CH = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4 }
  let current = null

  function setStatus (text, kind) {
    const el = $('term-status')
    el.textContent = text
    el.className = 'note' + (kind ? ' ' + kind : '')
  }

  async function api (path, init) {
    const r = await fetch(path, Object.assign({ credentials: 'same-origin' }, init))
    const body = await r.json().catch(() => ({}))
    if (!r.ok) throw new Error(body.message || r.status + ' ' + r.statusText)
    return body
  }

  function el (tag, cls, text) {
    const e = document.createElement(tag)
    if (cls) e.className = cls
    if (text !== undefined) e.textContent = text
    return e
  }

  async function refresh () {
    const list = $('containers')
    $('error').hidden = true
    let rows
    try { rows = await api('/api/containers') } catch (err) {
      $('error').textContent = 'Cannot list containers: ' + err.message
      $('error').hidden = false
      return
    }
    list.replaceChildren()
    $('empty').hidden = rows.length > 0
    for (const c of rows) {
      const li = el('li')
      const b = el('button')
      b.type = 'button'
      b.dataset.id = c.id
      b.title = 'Open a shell in ' + c.name
      b.append(el('span', 'name', c.name), el('span', 'meta', c.image + ' · ' + c.id.slice(0, 12) + ' · ' + c.state))
      if (current && current.container.id === c.id) b.classList.add('active')
      b.addEventListener('click', () => { openTerminal(c).catch((err) => setStatus(err.message, 'bad')) })
      li.append(b)
      list.append(li)
    }
  }

  function closeTerminal () {
    if (!current) return
    const c = current
    current = null
    c.dispose()
    $('terminal').replaceChildren()
    $('terminal').hidden = true
    $('placeholder').hidden = false
    $('close').hidden = true
    $('term-title').textContent = 'No terminal open'
    setStatus('')
    for (const b of document.querySelectorAll('#containers button')) b.classList.remove('active')
  }

  // The exit code carried by a metav1.Status from channel 3.
  function exitCodeOf (st) {
    if (st.status === 'Success') return 0
    const cause = st.details && st.details.causes && st.details.causes.find((x) => x.reason === 'ExitCode')
    return cause ? Number(cause.message) : null
  }

  async function openTerminal (container) {
    closeTerminal()
    $('placeholder').hidden = true
    $('terminal').hidden = false
    $('close').hidden = false
    $('term-title').textContent = container.name + ' — sh'
    for (const b of document.querySelectorAll('#containers button')) b.classList.toggle('active', b.dataset.id === container.id)
    const term = new window.Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      scrollback: 5000,
      theme: { background: '#0f1115', foreground: '#d7dae0', cursor: '#4aa3ff' },
    })
    const fit = new window.FitAddon.FitAddon()
    term.loadAddon(fit)
    term.open($('terminal'))
    fit.fit()
    const disposers = []
    const me = { container, term, ws: null, dispose: () => { disposers.forEach((d) => d()); if (me.ws) me.ws.close(); term.dispose() } }
    current = me
    setStatus('starting…')
    const session = await api('/api/containers/' + encodeURIComponent(container.id) + '/exec', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ cmd: ['sh'], rows: term.rows, cols: term.cols }),
    })
    if (current !== me) return
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    const ws = new WebSocket(scheme + '//' + location.host + '/conex/v1/exec/' + session.id + '/attach', ['v5.channel.k8s.io', 'v4.channel.k8s.io'])
    me.ws = ws
    ws.binaryType = 'arraybuffer'
    const send = (channel, bytes) => {
      if (ws.readyState !== WebSocket.OPEN) return
      const m = new Uint8Array(bytes.length + 1)
      m[0] = channel
      m.set(bytes, 1)
      ws.send(m)
    }
    const sendSize = () => send(CH.resize, enc.encode(JSON.stringify({ Width: term.cols, Height: term.rows })))
    let ended = false
    ws.onopen = () => { setStatus('connected', 'ok'); sendSize(); term.focus() }
    ws.onmessage = (ev) => {
      const d = new Uint8Array(ev.data)
      if (d.length === 0) return
      if (d[0] === CH.stdout || d[0] === CH.stderr) term.write(d.subarray(1))
      else if (d[0] === CH.status) {
        ended = true
        let st = {}
        try { st = JSON.parse(dec.decode(d.subarray(1))) } catch { /* keep {} */ }
        const code = exitCodeOf(st)
        setStatus(code === null ? 'failed: ' + (st.message || 'unknown error') : 'exited with code ' + code, code === 0 ? 'ok' : 'bad')
        term.write('\r\n\x1b[2m[' + (code === null ? (st.message || 'session failed') : 'process exited with code ' + code) + ']\x1b[0m\r\n')
      }
    }
    ws.onclose = () => { if (!ended && current === me) setStatus('disconnected', 'bad') }
    const onData = term.onData((s) => send(CH.stdin, enc.encode(s)))
    const onBinary = term.onBinary((s) => send(CH.stdin, Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 255)))
    const onResize = term.onResize(sendSize)
    // Follow the window: the fit addon recomputes rows and columns, onResize tells the process.
    const ro = new ResizeObserver(() => { try { fit.fit() } catch { /* hidden */ } })
    ro.observe($('terminal'))
    disposers.push(() => onData.dispose(), () => onBinary.dispose(), () => onResize.dispose(), () => ro.disconnect())
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('refresh').addEventListener('click', () => { refresh() })
    $('close').addEventListener('click', closeTerminal)
    $('terminal').hidden = true
    refresh()
  })
})()
