"""Take the README's screenshots (``make screenshots``): the overview, the roadmap list, a
blocked item's page, the dependency graph, the admin index and the item's admin page, on
the 150-item roadmap of ``manage.py demo_roadmap``, in Debian's Chromium at 1400 px.

    .venv/bin/python docs/screenshots.py [--out docs] [--items 150]

Builds a scratch database (``MOTUS_DB_PATH`` in a temporary folder), serves it with
``manage.py runserver`` on a free port, logs in as ``demo-lead`` and writes the PNGs.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1400
SHOTS = [
    ("overview.png", "/"),
    ("roadmap.png", "/roadmap/"),
    ("item.png", None),  # the first blocked item's page
    ("graph.png", "/roadmap/graph/"),
    ("admin-index.png", "/admin/"),
    ("admin-item.png", "admin-item"),  # the same item's admin change page
]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"The server did not answer at {url}.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--items", type=int, default=150)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="motus-shots-"))
    env = {
        **os.environ,
        "MOTUS_DB_PATH": str(folder / "coordination.db"),
        "MOTUS_CACHE_DIR": str(folder / "cache"),
    }
    password = secrets.token_urlsafe(12)
    manage(env, "migrate", "--noinput", "-v0")
    print(manage(env, "demo_roadmap", "--items", str(args.items)))
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; u = User.objects.get(username='demo-lead');"
        f" u.set_password('{password}'); u.save()",
    )
    blocked = manage(
        env,
        "shell",
        "-c",
        "from roadmap.models import RoadmapItem;"
        " print(RoadmapItem.objects.filter(status_key='blocked').order_by('id')[0].id)",
    ).splitlines()[-1]  # (the shell may first say what it imported)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz")
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(base_url=base, viewport={"width": WIDTH, "height": 900})
            page.goto("/admin/login/")
            page.fill("#id_username", "demo-lead")
            page.fill("#id_password", password)
            page.click("input[type=submit]")
            page.wait_for_url(f"{base}/admin/")
            for name, path in SHOTS:
                if path is None:
                    path = f"/roadmap/{blocked}/"
                elif path == "admin-item":
                    path = f"/admin/roadmap/roadmapitem/{blocked}/change/"
                page.goto(path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out / name), full_page=name != "graph.png")
                print(f"{args.out / name}")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
