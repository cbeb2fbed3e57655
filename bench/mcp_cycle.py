"""Benchmark one kernel cycle (claim → evidence → complete) over MCP's streamable HTTP next
to the same cycle over the REST API, both against gunicorn (2 ``sync`` workers, the README's
serving command) on scratch copies of one freshly migrated coordination.db:

  (r) REST: POST claim, POST evidence, POST release (``bench/api_cycle.py``'s client);
  (m) MCP: the official SDK's client (``mcp.Client`` over ``/mcp/`` with a Bearer token)
      calling claim_work, record_evidence, release_work: three POSTs of one JSON-RPC
      message each; the client connects (discover, tools/list) once, outside the timing.

    python bench/mcp_cycle.py [--cycles 600] [--clients 1 4]

Each with 1 and then 4 concurrent clients (one agent token each). Prints cycles/s,
p50/p95 per cycle, the MCP/REST ratio, and CPU per cycle in gunicorn and in the client.
The MCP client does more per call than the REST one (it builds and validates every
message with pydantic and checks each result against the tool's output schema), and the
clients share the machine's two cores with the server, so the CPU split tells where the
time goes. Exit status 1 if any cycle failed. Stdlib, the SDK and the project's own code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The REST benchmark's template, gunicorn, REST client and summaries.
from api_cycle import (  # noqa: E402
    SHA,
    build_template,
    completed_attempts,
    free_port,
    item_id,
    process_cpu_seconds,
    run_http,
    scratch_copy,
    start_gunicorn,
    summary,
    worker_pids,
)

EVIDENCE = {"evidence_type": "test_result", "uri": "bench://mcp", "sha256": SHA}


async def _mcp_clients(
    port: int, tokens: list[str], cycles: int, mode: str
) -> tuple[list, int, float]:
    """Run ``cycles`` MCP cycles over len(tokens) concurrent SDK clients: (latencies,
    failures, elapsed seconds)."""
    from contextlib import AsyncExitStack

    import anyio
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    url = f"http://127.0.0.1:{port}/mcp/"
    latencies: list[float] = []
    failures = 0
    async with AsyncExitStack() as stack:
        clients = []
        for token in tokens:
            http = await stack.enter_async_context(
                httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
            )
            client = await stack.enter_async_context(
                Client(streamable_http_client(url, http_client=http), mode=mode)
            )
            await client.list_tools()  # the output schemas the client checks results with
            clients.append(client)

        async def work(index: int, client) -> None:
            nonlocal failures
            for n in range(index, cycles, len(clients)):
                t0 = time.perf_counter()
                ok = await mcp_cycle(client, item_id(n))
                latencies.append(time.perf_counter() - t0)
                failures += not ok

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for index, client in enumerate(clients):
                group.start_soon(work, index, client)
        elapsed = time.perf_counter() - started
    return latencies, failures, elapsed


async def mcp_cycle(client, work_id: str) -> bool:
    claim = await client.call_tool("claim_work", {"work_id": work_id})
    if claim.is_error:
        return False
    attempt = claim.structured_content["attempt"]["id"]
    evidence = await client.call_tool("record_evidence", {"attempt_id": attempt, **EVIDENCE})
    if evidence.is_error:
        return False
    release = await client.call_tool(
        "release_work", {"attempt_id": attempt, "disposition": "completed"}
    )
    return not release.is_error


def run_mcp(db: Path, tokens: list[str], clients: int, cycles: int, mode: str) -> dict:
    import anyio

    port = free_port()
    server = start_gunicorn(db, port, "sync", db.with_suffix(".gunicorn.log"))
    try:
        workers = worker_pids(server.pid)
        server_cpu, client_cpu = process_cpu_seconds(workers), time.process_time()
        latencies, failures, elapsed = anyio.run(_mcp_clients, port, tokens[:clients], cycles, mode)
        client_cpu = time.process_time() - client_cpu
        if server_cpu is not None:
            server_cpu = process_cpu_seconds(workers) - server_cpu
    finally:
        server.terminate()
        server.wait(timeout=30)
    label = f"m{clients} MCP, {clients} client{'s' if clients > 1 else ''}"
    result = summary(label, latencies, elapsed, failures)
    result["client_cpu_ms"] = client_cpu / cycles * 1000
    result["server_cpu_ms"] = server_cpu / cycles * 1000 if server_cpu is not None else None
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=600, help="cycles per run")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument(
        "--mode",
        default="auto",
        help="the SDK client's protocol negotiation: auto (the 2026-07-28 per-request "
        "protocol when the server speaks it, as this one does) or legacy (initialize)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="mcp_cycle_"))
    results = []
    try:
        template, tokens = build_template(folder, args.cycles, agents=max(args.clients))
        for clients in args.clients:
            for kind in ("rest", "mcp"):
                db = scratch_copy(template, f"{kind}{clients}.db")
                if kind == "rest":
                    result = run_http(db, tokens, clients, args.cycles, "sync")
                    result["label"] = f"r{clients} REST, " + result["label"].split(", ", 1)[1]
                else:
                    result = run_mcp(db, tokens, clients, args.cycles, args.mode)
                result["completed_in_db"] = completed_attempts(db)
                results.append(result)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    load_after = os.getloadavg()[0]
    print(
        f"{'mode':24} {'cycles':>7} {'cycles/s':>9} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'server CPU ms':>14} {'client CPU ms':>14}"
    )
    for r in results:
        server_cpu = f"{r['server_cpu_ms']:.2f}" if r["server_cpu_ms"] is not None else "-"
        print(
            f"{r['label']:24} {r['cycles']:>7} {r['cycles_per_s']:>9.1f} {r['p50_ms']:>8.2f}"
            f" {r['p95_ms']:>8.2f} {server_cpu:>14} {r['client_cpu_ms']:>14.2f}"
        )
    print()
    for rest, mcp in zip(results[::2], results[1::2], strict=True):
        print(
            f"MCP/REST with {rest['label'].split(', ')[1]}: "
            f"{mcp['cycles_per_s'] / rest['cycles_per_s']:.2f} "
            f"({mcp['cycles_per_s']:.1f} vs {rest['cycles_per_s']:.1f} cycles/s)"
        )
    failures = sum(r["failures"] for r in results)
    for r in results:
        if r["completed_in_db"] != r["cycles"] - r["failures"]:
            print(f"{r['label']}: {r['completed_in_db']} completed attempts in the database!")
            failures += 1
    print(f"gunicorn: 2 workers, sync; failed cycles: {failures}")
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
