// The web console as a person uses it, in headless Chromium (Debian's, driven by playwright-core; no browser is
// downloaded): 401 without the token; with it, the page lists the running container, opens a terminal into it,
// runs what is typed, and follows the window's size. A screenshot is left in /tmp for a human look.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startTestEngine, type TestEngine } from './lib'
import { startWebConsole, type WebConsole } from '../../src/web/web-console'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = '/tmp/conex-web-console.png'
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`

let t: TestEngine
let web: WebConsole
let profile: string
let browser: BrowserContext
let page: Page

before(async () => {
  if (skip !== false) return
  t = await startTestEngine('web-browser')
  web = await startWebConsole({ engine: t.engine, addr: '127.0.0.1:0', runroot: t.store.runroot, log: () => undefined })
  profile = mkdtempSync(join('/tmp', 'conex-chromium-'))
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1100, height: 700 },
    timeout: 30_000,
  })
  page = browser.pages()[0] ?? await browser.newPage()
  page.setDefaultTimeout(15_000)
})
after(async () => {
  await browser?.close()
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
  await web?.close()
  await t?.close()
})

// What the terminal shows, as text (xterm's DOM renderer draws spaces as no-break spaces).
const screen = async (): Promise<string> => (await page.locator('#terminal .xterm-rows').innerText()).replace(/\u00a0/g, ' ')

async function waitScreen (re: RegExp, what: string): Promise<string> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const s = await screen()
    if (re.test(s)) return s
    if (Date.now() > deadline) throw new Error(`the terminal never showed ${what}; it shows:\n${s}`)
    await page.waitForTimeout(100)
  }
}

test('without the token the page, its assets and its API answer 401', { skip }, async () => {
  const base = web.url.replace(/\?token=.*$/, '')
  for (const path of ['', 'assets/console.js', 'api/containers']) {
    const r = await page.goto(base + path)
    assert.equal(r?.status(), 401, path)
  }
})

test('with the token: open a terminal into the running container, type, see the output', { skip }, async () => {
  const r = await page.goto(web.url)
  assert.equal(r?.status(), 200)
  assert.equal(new URL(page.url()).search, '', 'the token left the address bar')
  const entry = page.locator('#containers button', { hasText: 'c1' })
  await entry.waitFor()
  assert.match(await entry.innerText(), /localhost\/busybox:latest/)
  await entry.click()
  await page.locator('#term-status', { hasText: 'connected' }).waitFor()
  await waitScreen(/# *$/m, 'the shell prompt')
  await page.locator('#terminal').click()
  await page.keyboard.type('echo hello-$((40+2))')
  await page.keyboard.press('Enter')
  const s = await waitScreen(/^hello-42 *$/m, 'hello-42')
  assert.match(s, /echo hello-\$\(\(40\+2\)\)/)
  await page.screenshot({ path: SCREENSHOT })
})

test('the terminal follows the window: a smaller window means a smaller stty size', { skip }, async () => {
  await page.keyboard.type('stty size')
  await page.keyboard.press('Enter')
  const before = /^(\d+) (\d+) *$/m.exec(await waitScreen(/^\d+ \d+ *$/m, 'the stty size'))
  assert.ok(before !== null)
  await page.setViewportSize({ width: 700, height: 450 })
  await page.keyboard.type('clear; stty size')
  await page.keyboard.press('Enter')
  // After `clear` the first line of the screen is the new size, once the resize has reached the pty.
  let after: RegExpExecArray | null = null
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    after = /^(\d+) (\d+) *$/m.exec(await screen())
    if (after !== null && Number(after[2]) < Number(before[2])) break
    await page.waitForTimeout(200)
    if (after !== null) { await page.keyboard.type('clear; stty size'); await page.keyboard.press('Enter') }
  }
  assert.ok(after !== null && Number(after[2]) < Number(before[2]) && Number(after[1]) < Number(before[1]), `stty size went from ${before[0]} to ${after?.[0] ?? '?'}`)
  await page.keyboard.type('exit 4')
  await page.keyboard.press('Enter')
  await page.locator('#term-status', { hasText: 'exited with code 4' }).waitFor()
})
