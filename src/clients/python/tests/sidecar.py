"""Starts a real ``bin/kvtier serve`` on a free loopback port for the tests, and runs the CLI."""

import os
import subprocess
import threading
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
    """One ``kvtier serve --listen 127.0.0.1:0`` process; ``address`` is the URL it printed (http://127.0.0.1:PORT)."""

    def __init__(self, *flags: str, start_timeout: float = 60.0):
        if not KVTIER.exists():
            raise RuntimeError(f"{KVTIER} is missing: run `make build` first (or set KVTIER_BIN)")
        args = [str(KVTIER), "serve", "--listen", "127.0.0.1:0", "--memory", "64MiB", "--max-block", "4MiB",
                "--staging", "8MiB", "--node-id", "python-tests", *flags]
        self._stderr = []
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._drain, args=(self.process.stderr, self._stderr), daemon=True).start()
        self.address = self._await_address(start_timeout)
        self.target = self.address[len("http://"):]
        threading.Thread(target=self._drain, args=(self.process.stdout, []), daemon=True).start()

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

    def log(self) -> str:
        return "".join(self._stderr)
