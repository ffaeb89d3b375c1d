"""Starts a real ``bin/kvtier serve`` on a free loopback port for the tests, and runs the CLI."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
KVTIER = Path(os.environ.get("KVTIER_BIN", REPO / "bin" / "kvtier"))


def kvtier(*args: str) -> str:
    """Runs the kvtier CLI and returns its stdout; raises with its stderr when it fails."""
    if not KVTIER.exists():
        raise RuntimeError(f"{KVTIER} is missing: run `make build` first (or set KVTIER_BIN)")
    done = subprocess.run([str(KVTIER), *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"kvtier {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


class Sidecar:
    """One ``kvtier serve --listen 127.0.0.1:0`` process; ``address`` is the URL it printed (http://127.0.0.1:PORT,
    or https:// with --tls-cert). ``config`` is written to a temporary JSON file passed as ``--config`` (e.g.
    ``{"KvTier": {"Auth": {"ApiKeys": {...}}}}``) and removed by :meth:`stop`."""

    def __init__(self, *flags: str, config: dict = None, start_timeout: float = 60.0):
        if not KVTIER.exists():
            raise RuntimeError(f"{KVTIER} is missing: run `make build` first (or set KVTIER_BIN)")
        self._dir = None
        if config is not None:
            self._dir = tempfile.mkdtemp(prefix="kvtier-pytest-")
            config_file = os.path.join(self._dir, "config.json")
            with open(config_file, "w", encoding="utf-8") as f:
                json.dump(config, f)
            flags = ("--config", config_file, *flags)
        args = [str(KVTIER), "serve", "--listen", "127.0.0.1:0", "--memory", "64MiB", "--max-block", "4MiB",
                "--staging", "8MiB", "--node-id", "python-tests", *flags]
        self._stderr = []
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._drain, args=(self.process.stderr, self._stderr), daemon=True).start()
        self.address = self._await_address(start_timeout)
        self.target = self.address.split("://", 1)[1]
        threading.Thread(target=self._drain, args=(self.process.stdout, []), daemon=True).start()

    def metrics_address(self, timeout: float = 10.0) -> str:
        """The operations endpoint (``--metrics 127.0.0.1:0``) as the start log names it: http://127.0.0.1:PORT."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(r"operations endpoint on (\S+?):? /metrics", self.log())
            if found:
                return found.group(1)
            if time.monotonic() > deadline:
                raise RuntimeError(f"no operations endpoint in the log (start with --metrics 127.0.0.1:0):\n{self.log()}")
            time.sleep(0.05)

    @staticmethod
    def _drain(stream, sink):
        for line in stream:
            sink.append(line)

    def _await_address(self, timeout: float) -> str:
        # stdout's first line is "kvtier listening on http://127.0.0.1:PORT (node ..., ...)".
        result = []
        reader = threading.Thread(target=lambda: result.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        line = result[0] if result else ""
        prefix = "kvtier listening on "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError(f"kvtier serve did not start (first line {line!r}); stderr:\n{''.join(self._stderr)}")
        return line[len(prefix):].split()[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def log(self) -> str:
        return "".join(self._stderr)
