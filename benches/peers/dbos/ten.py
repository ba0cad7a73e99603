"""The durable benchmark's workflow on DBOS: ten @DBOS.step functions in one workflow, with
DBOS's SQLite system database (its defaults: a file, SQLite's own durable commits).

Runs EXECUTIONS workflows started at once (throughput), then SEQUENTIAL one after another
(latency per execution), and prints one Markdown table row:

    | DBOS <version> (SQLite) | executions/s | steps/s | p50 ms | p99 ms |

Usage: python ten.py DATABASE_FILE [EXECUTIONS] [SEQUENTIAL] [MODE]
MODE is "threads" (sync workflows on DBOS's thread pool, the default) or "asyncio".
"""

import asyncio
import os
import sys
import time
from importlib.metadata import version

from dbos import DBOS

DATABASE = sys.argv[1]
EXECUTIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
SEQUENTIAL = int(sys.argv[3]) if len(sys.argv) > 3 else 100
MODE = sys.argv[4] if len(sys.argv) > 4 else "threads"
STEPS = 10

DBOS(
    config={
        "name": "ten",
        "system_database_url": f"sqlite:///{DATABASE}",
        "run_admin_server": False,
        "log_level": "WARNING",
    }
)


@DBOS.step()
def bump(value: int) -> int:
    return value + 1


@DBOS.workflow()
def ten(value: int) -> int:
    for _ in range(STEPS):
        value = bump(value)
    return value


@DBOS.step()
async def bump_async(value: int) -> int:
    return value + 1


@DBOS.workflow()
async def ten_async(value: int) -> int:
    for _ in range(STEPS):
        value = await bump_async(value)
    return value


def percentile(latencies, p):
    ordered = sorted(latencies)
    return ordered[round((len(ordered) - 1) * p)] * 1000.0


def run_threads():
    began = time.perf_counter()
    handles = [DBOS.start_workflow(ten, n) for n in range(EXECUTIONS)]
    for n, handle in enumerate(handles):
        assert handle.get_result() == n + STEPS
    concurrent = time.perf_counter() - began

    latencies = []
    for n in range(SEQUENTIAL):
        began = time.perf_counter()
        assert ten(EXECUTIONS + n) == EXECUTIONS + n + STEPS
        latencies.append(time.perf_counter() - began)
    return concurrent, latencies


async def run_asyncio():
    began = time.perf_counter()
    handles = [await DBOS.start_workflow_async(ten_async, n) for n in range(EXECUTIONS)]
    for n, handle in enumerate(handles):
        assert await handle.get_result() == n + STEPS
    concurrent = time.perf_counter() - began

    latencies = []
    for n in range(SEQUENTIAL):
        began = time.perf_counter()
        assert await ten_async(EXECUTIONS + n) == EXECUTIONS + n + STEPS
        latencies.append(time.perf_counter() - began)
    return concurrent, latencies


def main():
    DBOS.launch()
    if MODE == "asyncio":
        concurrent, latencies = asyncio.run(run_asyncio())
    else:
        concurrent, latencies = run_threads()
    DBOS.destroy()
    print(
        f"| DBOS {version('dbos')} (SQLite, {MODE}) "
        f"| {EXECUTIONS / concurrent:,.0f} "
        f"| {EXECUTIONS * STEPS / concurrent:,.0f} "
        f"| {percentile(latencies, 0.5):.2f} "
        f"| {percentile(latencies, 0.99):.2f} |"
    )
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
