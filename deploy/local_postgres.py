#!/usr/bin/env python3
"""A private PostgreSQL cluster for trying Motus on PostgreSQL and for its test suite.

    python3 deploy/local_postgres.py start DIR    # create (first time), start, print DATABASE_URL
    python3 deploy/local_postgres.py stop DIR
    python3 deploy/local_postgres.py run -- CMD…  # a throwaway cluster: CMD runs with
                                                  # DATABASE_URL set, then it is stopped, deleted

The cluster comes from Debian's ``postgresql`` package (``initdb``/``pg_ctl`` on PATH or under
/usr/lib/postgresql/<version>/bin). It listens on no TCP port, only on a Unix socket inside
DIR, and trusts local connections: nothing outside this machine's users can reach it. Run as
root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root). Text
sorts bytewise (locale C), as SQLite's BINARY collation does.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

USER = "motus"
DATABASE = "motus"


def bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name.split(".")[0]),
    )
    if not candidates:
        sys.exit(
            "PostgreSQL's server programs are missing: run 'sudo apt-get install postgresql' "
            "(or `make postgres-deps` as root)."
        )
    return Path(candidates[-1]).parent


def run_as() -> dict:
    """subprocess keyword arguments that drop root to the postgres user."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    sys.exit("Running as root needs a 'postgres' or 'nobody' user to run the server as.")


def url(base: Path) -> str:
    return f"postgres://{USER}@{quote(str(base / 'socket'), safe='')}/{DATABASE}"


def start(base: Path, *, throwaway: bool = False) -> str:
    base.mkdir(parents=True, exist_ok=True)
    data, socket, log = base / "data", base / "socket", base / "server.log"
    as_user = run_as()
    if as_user:
        os.chown(base, as_user["user"], as_user["group"])
    bindir = bin_dir()
    if not (data / "PG_VERSION").exists():
        socket.mkdir(exist_ok=True)
        if as_user:
            os.chown(socket, as_user["user"], as_user["group"])
        subprocess.run(
            [bindir / "initdb", "-D", data, "-U", USER, "--auth=trust", "--encoding=UTF8",
             "--locale=C", "--no-instructions"],
            check=True, stdout=subprocess.DEVNULL, **as_user,
        )  # fmt: skip
        settings = [
            "listen_addresses = ''",
            f"unix_socket_directories = '{socket}'",
            "max_connections = 200",
            "timezone = 'UTC'",
        ]
        if throwaway:
            # Tests: nothing here must survive a crash, so skip the disk flushes.
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("\n# deploy/local_postgres.py\n" + "\n".join(settings) + "\n")
    running = subprocess.run(
        [bindir / "pg_ctl", "-D", data, "status"], stdout=subprocess.DEVNULL, **as_user
    )
    if running.returncode != 0:
        subprocess.run(
            [bindir / "pg_ctl", "-D", data, "-l", log, "-w", "start"],
            check=True, stdout=subprocess.DEVNULL, **as_user,
        )  # fmt: skip
    exists = subprocess.run(
        [bindir / "psql", "-h", socket, "-U", USER, "-d", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    if not exists:
        subprocess.run(
            [bindir / "createdb", "-h", socket, "-U", USER, DATABASE], check=True, **as_user
        )
    return url(base)


def stop(base: Path) -> None:
    if (base / "data" / "postmaster.pid").exists():
        subprocess.run(
            [bin_dir() / "pg_ctl", "-D", base / "data", "-m", "fast", "-w", "stop"],
            check=True, stdout=subprocess.DEVNULL, **run_as(),
        )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    for action in ("start", "stop"):
        sub.add_parser(action).add_argument("dir", type=Path)
    runner = sub.add_parser("run")
    runner.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()

    if args.action == "start":
        print(f"DATABASE_URL={start(args.dir.resolve())}")
        print(f"# stop it with: python3 {sys.argv[0]} stop {args.dir}")
        return 0
    if args.action == "stop":
        stop(args.dir.resolve())
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a command after --")
    base = Path(tempfile.mkdtemp(prefix="motus-pg-"))
    try:
        database_url = start(base, throwaway=True)
        print(f"== PostgreSQL at {database_url}", flush=True)
        return subprocess.run(command, env={**os.environ, "DATABASE_URL": database_url}).returncode
    finally:
        try:
            stop(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
