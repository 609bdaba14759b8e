"""Fetch, start and stop a real Neo4j Community 5.26 server for tests and CI — no Docker needed.

The jars come from Maven Central through the installed ``mvn`` (tools/neo4j/pom.xml) and are cached in
``$CIB_NEO4J_HOME`` (default ``~/.cache/cib/neo4j-<version>``). The server runs from the official test
harness (tools/neo4j/Launcher.java, started with ``java -cp 'lib/*' Launcher.java``) on 127.0.0.1 with a
free port and a temporary data directory, and stops when its standard input closes. The JVM gets
``CIB_NEO4J_JAVA_OPTS`` (default :data:`JAVA_OPTS`: the 2 GiB heap of docker-compose.yml and the JVM options a
Neo4j 5 server gets from its own ``neo4j.conf``, which the docker-compose server runs with; without them the same
incremental 1.34M-post load on a fresh server took 72.2 s instead of 67.6 s. A 4 GiB heap with a 2 GiB young
generation cut young collections from 102 to 11 on 150,000 posts but not the server's CPU, so the heap stays).

Usage::

    python scripts/neo4j_server.py fetch          # download the jars (cached)
    python scripts/neo4j_server.py run [DATA]     # start (on DATA, e.g. NEO4J_HOME/data after an import),
                                                  # print the bolt URI, stop on Ctrl-C
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent / "tools" / "neo4j"
# the server.jvm.additional lines of Neo4j 5.26's default neo4j.conf (G1, final fields trusted, Netty's direct
# buffers without cleaners …), and the heap of docker-compose.yml
JAVA_OPTS = ("-Xmx2g -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+AlwaysPreTouch -XX:+UnlockExperimentalVMOptions "
             "-XX:+TrustFinalNonStaticFields -XX:+DisableExplicitGC -Djdk.nio.maxCachedBufferSize=1024 "
             "-Dio.netty.tryReflectionSetAccessible=true -XX:+ExitOnOutOfMemoryError "
             "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED "
             "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED -Dlog4j2.disable.jmx=true")
VERSION = re.search(r"<neo4j.version>([^<]+)<", (TOOLS / "pom.xml").read_text()).group(1)  # type: ignore[union-attr]


def home() -> Path:
    return Path(os.environ.get("CIB_NEO4J_HOME") or Path.home() / ".cache" / "cib" / f"neo4j-{VERSION}")


def fetch() -> Path:
    """The folder of cached jars, downloading them with Maven first if needed."""
    lib = home() / "lib"
    if (home() / ".complete").exists():
        return lib
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise RuntimeError("Neo4j for tests needs java (17+) and mvn on PATH")
    tmp = home().with_name(home().name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run(["mvn", "-q", "-B", "-f", str(TOOLS / "pom.xml"), "dependency:copy-dependencies",
                    f"-DoutputDirectory={tmp / 'lib'}"], check=True)
    shutil.rmtree(home(), ignore_errors=True)
    tmp.rename(home())
    (home() / ".complete").write_text(VERSION)
    return lib


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A running Neo4j; ``with Server() as s: s.uri``."""

    def __init__(self, startup_timeout: float = 180.0, data_dir: Path | None = None) -> None:
        self.lib = fetch()
        self.port = free_port()
        self.data = Path(tempfile.mkdtemp(prefix="cib-neo4j-"))
        self.log = open(self.data / "launcher.log", "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["java", *os.environ.get("CIB_NEO4J_JAVA_OPTS", JAVA_OPTS).split(), "-cp", str(self.lib / "*"), str(TOOLS / "Launcher.java"), str(self.port),
             str(self.data / "db"), *([str(data_dir)] if data_dir else [])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        deadline = time.monotonic() + startup_timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline() if self.proc.stdout else ""
            if line.startswith("READY") or self.proc.poll() is not None:
                break
        if not line.startswith("READY"):
            self.stop()
            self.log.seek(0)
            raise RuntimeError(f"Neo4j did not start: {line!r}\n{self.log.read()[-3000:]}")
        self.uri = f"bolt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "run"
    if command == "fetch":
        print(fetch())
        return 0
    if command == "run":
        with Server(data_dir=Path(argv[2]) if len(argv) > 2 else None) as server:
            print(server.uri, flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
