"""The built book as a reader sees it: every page opened in headless Chromium with the network blocked.

The pages of the ``smoke`` build (the ``built_book`` fixture, shared with test_book.py) are served
from 127.0.0.1; every other request the browser makes is refused and reported. Per page:

* math is typeset: MathJax (served from the site itself) rendered every formula, no raw ``\\(``
  is left in the text, and rendered math elements are present where the page has math;
* every image, script, style sheet and font loads (no failed request, no broken image);
* no code is cut off at the page's width (code wraps: ``book/_static/rnncourse.css``);
* the browser console shows no errors;
* internal links and their anchors resolve to files and ids of the build;
* a chapter's launch buttons (Colab, Binder) open notebooks that exist in the repository, its
  downloads exist, and its exercises box links its assignment's notebook.

How each page reads, at 1280 px and on a 390 px phone (``test_page_reads_well``):

* a code or output line that wraps continues right of its own indentation (a hanging indent,
  ``book/_ext/rnncourse_reading.py``), never at the block's left edge;
* an output wider than the column scrolls in a box of its own; the page is no wider than the screen;
* images are at most 1,000 px tall and have alt text that is not a file name;
* no folder of the build machine (the checkout, the build, the Python environment, the home and
  temporary folders) and no idle progress bar appears in the text, and no ``--option`` has become
  an en dash.

One screenshot per page is saved for a person to look at, in ``book/_build/screenshots`` (or
``RNNCOURSE_SCREENSHOTS``), and one of every chapter at the phone's width (``...@390.png``); the
folder is printed (``pytest -s``) and named in every failure.

The browser is Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it),
driven over the DevTools protocol with ``websocket-client``. Without either the tests are skipped.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

pytestmark = [pytest.mark.slow]

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--hide-scrollbars", "--window-size=1280,1600",
                  "--remote-debugging-port=0", "--remote-allow-origins=*"]


def _pages() -> list[str]:
    """The root page and every file the table of contents lists, in order."""
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                found.append(entry["file"])
            walk(entry.get("sections"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return found


PAGES = _pages()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class DevTools:
    """A minimal DevTools-protocol client for one browser tab: commands, and the events they cause.

    With ``Fetch`` enabled every request of the tab pauses until answered: requests under ``base``
    go on, every other one fails as if there were no network and is listed in ``refused``.
    """

    def __init__(self, ws_url: str, base: str):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.base = base
        self.next_id = 0
        self.events: list[dict] = []
        self.refused: list[str] = []

    def _post(self, method: str, **params) -> int:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def _receive(self, timeout: float) -> dict | None:
        """The next message (None after ``timeout``); paused requests are answered on the way."""
        import websocket

        self.ws.settimeout(max(0.05, timeout))
        try:
            message = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if message.get("method") == "Fetch.requestPaused":
            params = message["params"]
            if params["request"]["url"].startswith(self.base):
                self._post("Fetch.continueRequest", requestId=params["requestId"])
            else:
                self.refused.append(params["request"]["url"])
                self._post("Fetch.failRequest", requestId=params["requestId"],
                           errorReason="InternetDisconnected")
            return {}
        if "method" in message:
            self.events.append(message)
        return message

    def send(self, method: str, timeout: float = 60, **params) -> dict:
        wanted = self._post(method, **params)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._receive(left)
            if message and message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
        raise TimeoutError(f"{method} got no answer in {timeout} s")

    def wait_for(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._receive(left)
            if message and message.get("method") == method:
                return message
        raise TimeoutError(f"no {method} in {timeout} s")

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive in the next ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._receive(left)

    def open(self, url: str) -> None:
        """Load ``url`` with fresh event and refusal lists; return when its load event fired."""
        self.events.clear()
        self.refused.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired", timeout=120)

    def evaluate(self, expression: str, timeout: float = 60):
        result = self.send("Runtime.evaluate", timeout=timeout, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")


@pytest.fixture(scope="module")
def site(built_book):
    """``(base_url, html_dir)``: the built HTML served on 127.0.0.1 for the browser."""
    build, _ = built_book
    html = build / "html"
    # A build that only warned (test_book.py fails for that) still wrote every page: look at them.
    if not (html / "intro.html").exists():
        pytest.fail("the book was not built (see test_book.py::test_book_builds_with_warnings_as_errors)")
    handler = functools.partial(_Quiet, directory=str(html))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", html
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def screenshots():
    """The folder for one screenshot per page: ``RNNCOURSE_SCREENSHOTS``, else
    ``book/_build/screenshots`` (kept after the run, unlike pytest's rotating temporary folders)."""
    folder = Path(os.environ.get("RNNCOURSE_SCREENSHOTS") or ROOT / "book" / "_build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    print(f"\nbrowser screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def browser(site):
    """One headless Chromium tab whose requests outside the local site are refused."""
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium: install Debian's `chromium` package (.ci/run installs it with apt)")
    try:
        import websocket  # noqa: F401
    except ImportError:
        pytest.skip("no websocket-client: it comes with the course environment (jupyter_server)")
    base, _ = site
    profile = Path(tempfile.mkdtemp(prefix="rnncourse-chromium-"))
    process = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode(errors="replace")[-2000:] if process.poll() is not None else ""
                pytest.fail(f"Chromium did not start its DevTools endpoint: {error}")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            tab = next(t for t in json.load(answer) if t["type"] == "page")
        tools = DevTools(tab["webSocketDebuggerUrl"], base)
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable")
        # The network is blocked: only the local site answers; every other request fails.
        tools.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
        yield tools, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


# Runs in the page: waits for MathJax (when the page loads it), then reports what a reader sees.
PAGE_FACTS = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest('pre, code, script, style, mjx-container, textarea')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  while (walker.nextNode()) {
    const t = walker.currentNode.nodeValue;
    const m = t.match(/\\\(|\\\[|\$\$/);
    if (m) raw.push(t.slice(Math.max(0, m.index - 30), m.index + 50));
  }
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    mathjax: !!(window.MathJax && MathJax.version),
    mathjaxSrc: Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s)),
    mathElements: math.length,
    untypeset: math.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80)),
    rendered: document.querySelectorAll('mjx-container').length,
    raw: raw,
    brokenImages: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)
      .map(i => i.src),
    cutOff: Array.from(document.querySelectorAll('article div.highlight pre'))
      .filter(p => !p.closest('.cell_output') && p.scrollWidth > p.clientWidth + 1)
      .map(p => p.textContent.split('\n').reduce((a, b) => a.length >= b.length ? a : b).slice(0, 60)),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    boxes: Array.from(document.querySelectorAll('.admonition')).filter(
      b => /^Assignment /.test((b.querySelector('.admonition-title') || {}).textContent || ''))
      .map(b => Array.from(b.querySelectorAll('a[href]')).map(a => a.href)),
  };
})()
"""


def _problems_in_events(events: list[dict], base: str) -> list[str]:
    problems = []
    for event in events:
        method, params = event["method"], event["params"]
        if "/favicon.ico" in json.dumps(params):
            continue  # the browser asks every site for one on its own; the book declares none
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            problems.append(f"uncaught exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            problems.append(f"console error: {args}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            problems.append(f"console error: {entry['text']} {entry.get('url', '')}".strip())
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            problems.append(f"HTTP {params['response']['status']} for {params['response']['url']}")
    return problems


def _ids(html_file: Path) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html_file.read_text(encoding="utf-8", errors="replace")))


def _repo_file_of_launch_link(url: str) -> str | None:
    """The repository path a Colab or Binder button opens, or None for other links."""
    parsed = urllib.parse.urlparse(url)
    if parsed.netloc == "colab.research.google.com":
        match = re.match(r"/github/[^/]+/[^/]+/blob/[^/]+/(.+)$", parsed.path)
        return match.group(1) if match else ""
    if parsed.netloc == "mybinder.org":
        target = urllib.parse.parse_qs(parsed.query).get("urlpath", [""])[0]
        match = re.match(r"(?:lab/tree|tree)/(.+)$", target)
        return match.group(1) if match else ""
    return None


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline_in_a_browser(browser, site, screenshots, page):
    tools, base = browser
    _, html = site
    url = urllib.parse.urljoin(base, f"{page}.html")
    tools.open(url)
    facts = tools.evaluate(PAGE_FACTS)
    tools.drain(0.5)  # late console messages (scripts that run after load)
    shot = screenshots / f"{page.replace('/', '__')}.png"
    size = tools.send("Page.getLayoutMetrics")["cssContentSize"]
    # The whole page as one tall viewport (at most 16,000 px, Chromium's texture limit): capturing
    # beyond the viewport instead drew long pages shifted sideways, although readers see them right.
    width, height = int(size["width"]), int(min(size["height"], 16000))
    tools.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
               mobile=False)
    clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
    shot.write_bytes(base64.b64decode(tools.send("Page.captureScreenshot", format="png", clip=clip)["data"]))
    tools.send("Emulation.clearDeviceMetricsOverride")
    where = f"{page} (screenshot: {shot})"

    problems = [f"tried the network: {u}" for u in tools.refused]
    problems += _problems_in_events(tools.events, base)
    problems += [f"image did not load: {src}" for src in facts["brokenImages"]]
    # Math: typeset from the site itself, nothing left raw.
    problems += [f"MathJax is not served by the site: {src}" for src in facts["mathjaxSrc"]
                 if not src.startswith(base)]
    if facts["mathElements"]:
        if not facts["mathjax"] or not facts["rendered"]:
            problems.append(f"{facts['mathElements']} formulas but MathJax rendered none")
        problems += [f"formula not typeset: {text!r}" for text in facts["untypeset"]]
    problems += [f"raw TeX left in the text: {text!r}" for text in facts["raw"]]
    problems += [f"code cut off at the page width: {text!r}..." for text in facts["cutOff"]]

    # Internal links and anchors resolve to files and ids of the build.
    ids_cache: dict[Path, set[str]] = {}
    for link in sorted(set(facts["links"])):
        if not link.startswith(base):
            continue
        parsed = urllib.parse.urlparse(link)
        target = html / urllib.parse.unquote(parsed.path[1:])
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"link to a missing file: {link}")
        elif parsed.fragment and target.suffix == ".html":
            ids = ids_cache.setdefault(target, _ids(target))
            if urllib.parse.unquote(parsed.fragment) not in ids:
                problems.append(f"link to a missing anchor: {link}")

    name = Path(page).name
    if page.startswith("chapters/"):
        launch = {link: _repo_file_of_launch_link(link) for link in facts["links"]}
        launch = {link: path for link, path in launch.items() if path is not None}
        kinds = {urllib.parse.urlparse(link).netloc for link in launch}
        if not {"colab.research.google.com", "mybinder.org"} <= kinds:
            problems.append(f"launch buttons missing: found {sorted(kinds)}")
        for link, path in launch.items():
            if not path or not (ROOT / path).is_file():
                problems.append(f"launch button opens a notebook that does not exist: {link}")
        downloads = [link for link in facts["links"] if link.startswith(base) and "_sources/" in link]
        if not downloads:
            problems.append("no download button for the page's source")
        if (ROOT / "solutions" / name).is_dir():
            notebook = f"exercises/{name}/{name}.ipynb"
            if len(facts["boxes"]) != 1:
                problems.append(f"expected one exercises box, found {len(facts['boxes'])}")
            else:
                box = facts["boxes"][0]
                if not any(_repo_file_of_launch_link(link) == notebook for link in box):
                    problems.append(f"the exercises box does not open {notebook} in Colab: {box}")
                if not any(link.startswith(base) and link.endswith(f"/{name}.ipynb") for link in box):
                    problems.append(f"the exercises box has no download of {name}.ipynb: {box}")
    assert not problems, f"{where}:\n" + "\n".join(f"  - {p}" for p in problems)


# ----- how the pages read, at a desktop width and a phone's --------------------------------------

WIDTHS = {"desktop": 1280, "phone": 390}
IMAGE_MAX_HEIGHT = 1000

# Runs in the page at the emulated width; ``MACHINE_PATHS`` is replaced by the build machine's
# folders. Every list holds one short description per problem.
READING_FACTS = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const machinePaths = MACHINE_PATHS;
  const article = document.querySelector('article.bd-article') || document.body;
  const column = article.getBoundingClientRect();
  const short = s => s.replace(/\s+/g, ' ').trim().slice(0, 70);
  const found = {wraps: [], wide: [], tall: [], alt: [], paths: [], noise: [], dashes: [], slips: [],
                 pageWidth: document.documentElement.scrollWidth, viewport: window.innerWidth};

  // The rows a piece of text occupies on screen: [{top, left}], one per rendered line.
  const rows = node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    const byTop = new Map();
    for (const r of range.getClientRects()) {
      if (r.width < 1) continue;
      const top = Math.round(r.top + r.height / 2);
      const key = [...byTop.keys()].find(t => Math.abs(t - top) < r.height / 2);
      if (key === undefined) byTop.set(top, r.left);
      else byTop.set(key, Math.min(byTop.get(key), r.left));
    }
    return [...byTop.entries()].sort((a, b) => a[0] - b[0]).map(([top, left]) => ({top, left}));
  };
  const charWidth = pre => {
    const probe = document.createElement('span');
    probe.textContent = '0'.repeat(40);
    pre.appendChild(probe);
    const width = probe.getBoundingClientRect().width / 40;
    probe.remove();
    return width;
  };

  // 1. A code or output line that wraps must continue right of its own indentation.
  for (const pre of article.querySelectorAll('div.highlight pre')) {
    const style = getComputedStyle(pre);
    if (style.whiteSpace === 'pre' || style.whiteSpace === 'nowrap') continue;
    const lineHeight = parseFloat(style.lineHeight) || 1.2 * parseFloat(style.fontSize);
    const lines = pre.querySelectorAll(':scope > .rc-line');
    if (!lines.length) {
      const text = pre.textContent.split('\n').filter(l => l.trim());
      if (rows(pre).length > text.length) found.wraps.push(`no line of its own: ${short(text[0] || '')}`);
      continue;
    }
    const start = pre.getBoundingClientRect().left + parseFloat(style.paddingLeft)
      + parseFloat(style.borderLeftWidth);
    const ch = charWidth(pre);
    for (const line of lines) {
      if (line.getBoundingClientRect().height < 1.5 * lineHeight) continue;
      const seen = rows(line);
      if (seen.length < 2) continue;
      const indent = line.textContent.length - line.textContent.replace(/^ +/, '').length;
      const continued = Math.min(...seen.slice(1).map(r => r.left));
      if (continued < start + (indent + 1) * ch - 1) {
        found.wraps.push(`${short(line.textContent)} (indent ${indent}, continues at `
          + `${Math.round((continued - start) / ch)} characters)`);
      }
    }
  }

  // 2. An output wider than the column scrolls in a box of its own that fits the column.
  const scrollBox = el => {
    for (let e = el; e && e !== article; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return e;
    }
    return null;
  };
  for (const el of article.querySelectorAll('.cell_output pre, .cell_output table, .cell_output img')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    const own = scrollBox(el);
    const shown = own ? own.getBoundingClientRect() : box;
    const spills = !own && el.scrollWidth > el.clientWidth + 1;
    if (shown.right > column.right + 1 || shown.left < column.left - 1 || spills) {
      found.wide.push(`${el.tagName.toLowerCase()} ${Math.round(Math.max(box.width, el.scrollWidth))} px `
        + `in a ${Math.round(column.width)} px column: ${short(el.textContent || el.alt || '')}`);
    }
  }

  // A table of the text (the reference numbers, not an output) fits a desktop column whole.
  if (window.innerWidth >= 1000) {
    for (const table of article.querySelectorAll('table')) {
      if (table.closest('.cell_output')) continue;
      const box = scrollBox(table) || table;
      if (box.scrollWidth > box.clientWidth + 1 || table.getBoundingClientRect().right > column.right + 1) {
        found.wide.push(`table ${table.scrollWidth} px in a ${Math.round(column.width)} px column: `
          + short(table.textContent));
      }
    }
  }

  // 3. Images: at most the given height on screen, and alt text that describes them.
  for (const img of article.querySelectorAll('img')) {
    const box = img.getBoundingClientRect();
    if (box.height > IMAGE_MAX_HEIGHT) found.tall.push(`${Math.round(box.height)} px: ${img.alt || img.src}`);
    const alt = (img.getAttribute('alt') || '').trim();
    if (alt.length < 8 || /^\S*[\\/]\S*$|\.(png|jpe?g|gif|svg)$|^[0-9a-f]{32,}/i.test(alt)) {
      found.alt.push(`alt ${JSON.stringify(alt)} for ${img.src.split('/').pop().slice(0, 24)}`);
    }
  }

  // 4. The text names no folder of the machine that built it, and shows no idle progress bars.
  const text = document.body.innerText;
  for (const path of machinePaths) {
    const at = text.indexOf(path);
    if (at >= 0) found.paths.push(short(text.slice(Math.max(0, at - 20), at + 60)));
  }
  // A bar that has not started ("fit: 0batch [00:00, ?batch/s]", "imdb:   0%|"): a long job's
  // later lines are progress, a bar at zero is noise.
  for (const m of text.matchAll(/(^|\n)[^\n]*(\b0\w* \[00:00, \?\w+\/s\]|[^\d.]0%\|)[^\n]*/g)) {
    found.noise.push(short(m[0]));
  }
  // 5. Plural and article slips that generated text makes ("1 epochs", "a LSTM").
  for (const m of text.matchAll(/\b(1 (epochs|threads|students|workers|seconds|batches)|[Aa] (LSTM|RNN))\b/g)) {
    found.slips.push(short(text.slice(Math.max(0, m.index - 30), m.index + 30)));
  }
  // 6. A command-line option outside backticks keeps its two hyphens (no "\u2013threads 1").
  for (const m of text.matchAll(/(^|\s)\u2013[a-z][a-z-]*/g)) found.dashes.push(short(m[0]));
  return found;
})()
""".replace("IMAGE_MAX_HEIGHT", str(IMAGE_MAX_HEIGHT))


def _machine_paths(build: Path) -> list[str]:
    """Folders of this machine that must not appear in a page: the checkout, the build, the Python
    environment, the home folder and the temporary folder (as ``/tmp/...`` paths, not the word)."""
    paths = {str(ROOT), str(build.parent), str(Path(sys.prefix)), str(Path.home()) + "/",
             tempfile.gettempdir() + "/"}
    return sorted(p for p in paths if len(p) > 2)


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("page", PAGES)
def test_page_reads_well(browser, site, built_book, screenshots, page, width):
    """At 1280 px and at a 390 px phone: code keeps its indentation when it wraps, outputs fit the
    column or scroll in their own box, the page is no wider than the screen, images are at most
    1,000 px tall with real alt text, and no folder of the build machine is shown."""
    tools, base = browser
    pixels = WIDTHS[width]
    tools.send("Emulation.setDeviceMetricsOverride", width=pixels, height=900, deviceScaleFactor=1,
               mobile=pixels < 600)
    try:
        tools.open(urllib.parse.urljoin(base, f"{page}.html"))
        script = READING_FACTS.replace("MACHINE_PATHS", json.dumps(_machine_paths(built_book[0])))
        facts = tools.evaluate(script, timeout=180)
        if page.startswith("chapters/") and pixels < 600:
            size = tools.send("Page.getLayoutMetrics")["cssContentSize"]
            height = int(min(size["height"], 16000))
            tools.send("Emulation.setDeviceMetricsOverride", width=pixels, height=height,
                       deviceScaleFactor=1, mobile=True)
            clip = {"x": 0, "y": 0, "width": pixels, "height": height, "scale": 1}
            shot = screenshots / f"{page.replace('/', '__')}@{pixels}.png"
            shot.write_bytes(base64.b64decode(
                tools.send("Page.captureScreenshot", format="png", clip=clip)["data"]))
    finally:
        tools.send("Emulation.clearDeviceMetricsOverride")
    problems = []
    # Against the emulated width: on a phone the browser widens its layout viewport (innerWidth)
    # to whatever the content needs, so innerWidth would always agree with the page.
    if facts["pageWidth"] > pixels + 1:
        problems.append(f"the page is {facts['pageWidth']} px wide on a {pixels} px screen")
    problems += [f"code wraps without its indentation: {p}" for p in facts["wraps"]]
    problems += [f"output wider than the column without a scroll of its own: {p}" for p in facts["wide"]]
    problems += [f"image taller than {IMAGE_MAX_HEIGHT} px: {p}" for p in facts["tall"]]
    problems += [f"image without real alt text: {p}" for p in facts["alt"]]
    problems += [f"a folder of the build machine in the text: {p!r}" for p in facts["paths"]]
    problems += [f"progress noise in an output: {p!r}" for p in facts["noise"]]
    problems += [f"an option's '--' turned into an en dash: {p!r}" for p in facts["dashes"]]
    problems += [f"a plural or article slip: {p!r}" for p in facts["slips"]]
    assert not problems, f"{page} at {pixels} px:\n" + "\n".join(f"  - {p}" for p in problems[:40])
