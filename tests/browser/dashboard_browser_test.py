#!/usr/bin/env python3
"""The web dashboard end to end in headless Chromium.

Starts a one-node cluster with `locus up --detach`, opens the dashboard in Debian's chromium
(headless, driven over the Chrome DevTools Protocol with python3-websocket), submits a profiled
`sleep 2` job with the CLI and checks in the page's DOM that the job appears and then shows as
finished without a reload (the page follows /api/events), then opens its job page with the profile
plot. Screenshots go to --out-dir (under the build directory). Every wait is on a condition with a
timeout. The cluster is stopped with `locus down` and chromium killed whatever happens.

Exit status: 0 passed, 1 failed, 77 skipped (no chromium installed; ctest SKIP_RETURN_CODE).
"""
import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
STEP_TIMEOUT_S = 30  # each wait on the page or the cluster


class Failure(Exception):
    pass


def wait_until(what, condition, timeout_s=STEP_TIMEOUT_S, interval_s=0.1):
    """Polls condition() until it returns a true value (returned) or timeout_s passes (Failure)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval_s)
    raise Failure(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


class DevTools:
    """One page target over the DevTools protocol: commands by id, events kept for inspection."""

    def __init__(self, websocket_module, url):
        # No Origin header: Chromium refuses DevTools connections from web origins it was not told of.
        self.ws = websocket_module.create_connection(url, timeout=STEP_TIMEOUT_S, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == my_id:
                if "error" in message:
                    raise Failure(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise Failure(f"page: {expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print(f"screenshot: {path}")

    def page_errors(self):
        errors = []
        for e in self.events:
            if e["method"] == "Runtime.exceptionThrown":
                errors.append(e["params"]["exceptionDetails"].get("exception", {}).get("description", str(e)))
            elif e["method"] == "Runtime.consoleAPICalled" and e["params"].get("type") == "error":
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in e["params"]["args"]))
        return errors

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def run(cmd, env, cwd, check=True):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise Failure(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r


def start_chromium(chromium, profile_dir):
    args = [chromium, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile_dir}",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
            "--disable-dev-shm-usage", "--window-size=1280,1400", "about:blank"]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    log = open(os.path.join(profile_dir, "..", "chromium.log"), "w")
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_chromium(proc):
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def page_target(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
        targets = json.load(r)
    pages = [t for t in targets if t.get("type") == "page"]
    return pages[0]["webSocketDebuggerUrl"] if pages else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True, help="where locus, locus-controller and locus-node are")
    parser.add_argument("--out-dir", required=True, help="where the screenshots go")
    args = parser.parse_args()

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: chromium is not installed (Debian package chromium; make deps installs it)")
        return SKIP
    try:
        import websocket  # python3-websocket (Debian): a test dependency like chromium, not optional
    except ImportError:
        print(f"FAIL: no websocket module for {sys.executable} (Debian package python3-websocket; make deps)")
        return 1

    locus = os.path.join(args.bin_dir, "locus")
    os.makedirs(args.out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="locus-browser-")
    state = os.path.join(tmp, "cluster")
    work = os.path.join(tmp, "work")  # the job's working directory: its output file goes there
    os.makedirs(work)
    env = dict(os.environ)
    env["PATH"] = args.bin_dir + os.pathsep + env.get("PATH", "")
    chrome = None
    devtools = None
    cluster_up = False
    try:
        # The cluster: `locus up --detach` prints the shell exports of where it serves.
        up = run([locus, "up", "--nodes", "1", "--state", state, "--detach"], env, tmp)
        cluster_up = True
        for line in up.stdout.splitlines():
            if line.startswith("export ") and "=" in line:
                key, value = line[len("export "):].split("=", 1)
                env[key] = value
        http = env.get("LOCUS_HTTP")
        if not http:
            raise Failure(f"locus up printed no LOCUS_HTTP:\n{up.stdout}")
        print(f"cluster: controller {env.get('LOCUS_CONTROLLER')}, dashboard http://{http}/")

        # Chromium, on a DevTools port of its choosing (it writes it to DevToolsActivePort).
        profile_dir = os.path.join(tmp, "chrome")
        os.makedirs(profile_dir)
        chrome = start_chromium(chromium, profile_dir)
        port_file = os.path.join(profile_dir, "DevToolsActivePort")

        def devtools_port():
            if chrome.poll() is not None:
                raise Failure(f"chromium exited with {chrome.returncode}; see {tmp}/chromium.log")
            try:
                with open(port_file) as f:
                    first = f.readline().strip()
                return int(first) if first else None
            except (FileNotFoundError, ValueError):
                return None

        port = wait_until("chromium's DevToolsActivePort", devtools_port)
        url = wait_until("chromium's page target", lambda: page_target(port))
        devtools = DevTools(websocket, url)
        devtools.call("Page.enable")
        devtools.call("Runtime.enable")

        # The page, connected to the event stream.
        devtools.call("Page.navigate", url=f"http://{http}/")
        wait_until("the page's event stream to open",
                   lambda: devtools.evaluate("document.body && document.body.dataset.live === '1'"))
        wait_until("the node in the switch tree",
                   lambda: devtools.evaluate("!!document.getElementById('node-n1')"))
        # A mark that a reload would wipe out.
        devtools.evaluate("window.locusTestMark = 'no reload'; true")

        # A job: it appears, then shows as finished, the page never reloaded.
        submitted = run([locus, "submit", "--parsable", "--profile", "task", "--profile-interval", "1",
                         "--wrap", "sleep 2"], env, work)
        job = submitted.stdout.strip().split(";")[0]
        if not job.isdigit():
            raise Failure(f"locus submit printed {submitted.stdout!r}")
        print(f"job {job} submitted")
        row = f"document.querySelector('tr[data-job=\"{job}\"]')"
        first = wait_until(f"job {job} in the queue", lambda: devtools.evaluate(f"{row} && {row}.dataset.state"))
        print(f"job {job} appeared as {first}")
        wait_until(f"job {job} shown COMPLETED in Recent",
                   lambda: devtools.evaluate(f"!!document.querySelector('#recent tr[data-job=\"{job}\"]"
                                             f"[data-state=\"COMPLETED\"]')"))
        if devtools.evaluate("window.locusTestMark") != "no reload":
            raise Failure("the page was reloaded")
        events = int(devtools.evaluate("document.body.dataset.events || '0'"))
        if events < 3:  # submitted, started, completed
            raise Failure(f"the page saw {events} events: it did not follow the event stream")
        print(f"job {job} shown finished without a reload ({events} events received)")
        devtools.screenshot(os.path.join(args.out_dir, "dashboard-queue.png"))

        # Its job page, with the profile plotted.
        devtools.evaluate(f"location.hash = '#job/{job}'; true")
        wait_until(f"job {job}'s page",
                   lambda: devtools.evaluate("document.body.classList.contains('job-open') && "
                                             "document.getElementById('job-view').dataset.state === 'COMPLETED' && "
                                             f"document.getElementById('job-title').textContent.startsWith('{job}')"))
        samples = wait_until(f"job {job}'s profile plot",
                             lambda: int(devtools.evaluate("document.getElementById('job-profile').dataset.samples"
                                                           " || '0'")))
        print(f"job {job}'s page: profile with {samples} samples")
        devtools.evaluate("window.scrollTo(0, 0); true")
        devtools.screenshot(os.path.join(args.out_dir, "dashboard-job.png"))
        if devtools.evaluate("window.locusTestMark") != "no reload":
            raise Failure("the page was reloaded")

        # Cancel from the page with an admin's token (root is one on a `locus up` cluster).
        if os.geteuid() == 0:
            busy = run([locus, "submit", "--parsable", "--wrap", "sleep 300"], env, work).stdout.strip().split(";")[0]
            token = run([locus, "token", "--ttl", "600"], env, work).stdout.strip()
            devtools.evaluate(f"location.hash = '#job/{busy}'; true")
            wait_until(f"job {busy}'s page showing it RUNNING",
                       lambda: devtools.evaluate("document.getElementById('job-view').dataset.state === 'RUNNING'"))
            if not devtools.evaluate("document.getElementById('job-cancel').hidden"):
                raise Failure("a Cancel button without a token")
            devtools.evaluate("const t = document.getElementById('token'); "
                              f"t.value = '{token}'; t.dispatchEvent(new Event('input')); true")
            wait_until("the Cancel button", lambda: devtools.evaluate("!document.getElementById('job-cancel').hidden"))
            devtools.evaluate("document.getElementById('job-cancel').click(); true")  # arms it
            devtools.screenshot(os.path.join(args.out_dir, "dashboard-cancel.png"))
            if run([locus, "show", busy, "--json"], env, work).stdout.find('"RUNNING"') < 0:
                raise Failure("one click cancelled the job")
            devtools.evaluate("document.getElementById('job-cancel').click(); true")  # confirms
            wait_until(f"job {busy}'s page showing it CANCELLED",
                       lambda: devtools.evaluate("document.getElementById('job-view').dataset.state === 'CANCELLED'"))
            result = devtools.evaluate("document.getElementById('job-action-result').textContent")
            if result != "cancelled by root":
                raise Failure(f"the page says {result!r}")
            print(f"job {busy} cancelled from the page ({result})")
        else:
            print("(cancel from the page not checked: needs root, the admin of a `locus up` cluster)")

        errors = devtools.page_errors()
        if errors:
            raise Failure("errors in the page:\n" + "\n".join(errors))
        print("PASS")
        return 0
    except Failure as e:
        print(f"FAIL: {e}")
        if devtools is not None:
            try:
                print("page status:", devtools.evaluate("document.getElementById('status').textContent"))
                print("page errors:", devtools.page_errors())
                devtools.screenshot(os.path.join(args.out_dir, "dashboard-failure.png"))
            except Exception as inner:  # the page may be gone
                print(f"(no page state: {inner})")
        return 1
    finally:
        if devtools is not None:
            devtools.close()
        stop_chromium(chrome)
        if cluster_up:
            down = run([locus, "down", "--state", state], env, tmp, check=False)
            if down.returncode != 0:
                print(f"locus down: exit {down.returncode}\n{down.stdout}{down.stderr}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
