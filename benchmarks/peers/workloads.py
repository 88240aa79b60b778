"""The four benchmark workloads written for each peer tool; run as one cold process.

    benchmarks/peers/.venv/bin/python benchmarks/peers/workloads.py TOOL WORKLOAD

TOOL: python | pocketflow | hamilton | luigi | dagster | prefect. WORKLOAD: W1 one trivial
task; W2 100 independent tasks plus a join; W3 eight parallel tasks that each sleep 0.5 s; W4 20
chained tasks each running `true` through /bin/sh (as Flowrun's `shell` nodes do).
Imports happen inside the functions, so each process pays for its own tool only.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from typing import Any


def sh_true() -> int:
    return subprocess.run("true", shell=True, check=True).returncode


# -- plain Python --------------------------------------------------------------------------


def python_w1() -> Any:
    return 1


def python_w2() -> Any:
    values = [i for i in range(100)]
    return values[0] + values[99]


def python_w3() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(lambda _: (time.sleep(0.5), 1)[1], range(8)))


def python_w4() -> Any:
    for _ in range(20):
        sh_true()


# -- PocketFlow (the 100-line framework: nodes chained in a Flow, a shared dict) -------------


def pocketflow_run(workload: str) -> Any:
    import asyncio

    from pocketflow import AsyncFlow, AsyncParallelBatchNode, Flow, Node

    class Value(Node):  # type: ignore[misc]
        def __init__(self, i: int) -> None:
            super().__init__()
            self.i = i

        def exec(self, prep_res: Any) -> int:
            return self.i

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: int) -> None:
            shared[self.i] = exec_res

    class Join(Node):  # type: ignore[misc]
        def prep(self, shared: dict[str, Any]) -> Any:
            return shared[0] + shared[99]

    class Shell(Node):  # type: ignore[misc]
        def exec(self, prep_res: Any) -> int:
            return sh_true()

    class Sleep(AsyncParallelBatchNode):  # type: ignore[misc]
        async def prep_async(self, shared: dict[str, Any]) -> list[int]:
            return list(range(8))

        async def exec_async(self, item: int) -> int:
            await asyncio.sleep(0.5)
            return 1

    def chain(nodes: list[Any]) -> Any:
        for before, after in itertools.pairwise(nodes):
            before >> after
        return Flow(start=nodes[0])

    if workload == "W3":
        asyncio.run(AsyncFlow(start=Sleep()).run_async({}))
        return
    flows = {
        "W1": lambda: chain([Value(1)]),
        "W2": lambda: chain([*(Value(i) for i in range(100)), Join()]),
        "W4": lambda: chain([Shell() for _ in range(20)]),
    }
    flows[workload]().run({})


# -- Apache Hamilton (the functions of a module are the DAG; W3 on its async driver) ---------


def hamilton_source(workload: str) -> tuple[str, list[str]]:
    """The module a Hamilton user would write for a workload, and the outputs to ask for."""
    if workload == "W1":
        return "def one() -> int:\n    return 1\n", ["one"]
    if workload == "W2":
        values = "".join(f"def value_{i}() -> int:\n    return {i}\n" for i in range(100))
        params = ", ".join(f"value_{i}: int" for i in range(100))
        return values + f"def join({params}) -> int:\n    return value_0 + value_99\n", ["join"]
    if workload == "W3":
        sleeps = "".join(
            f"async def sleep_{i}() -> int:\n    await asyncio.sleep(0.5)\n    return 1\n"
            for i in range(8)
        )
        return "import asyncio\n" + sleeps, [f"sleep_{i}" for i in range(8)]
    shells = ["def shell_0() -> int:\n    return sh_true()\n"]
    shells += [
        f"def shell_{i}(shell_{i - 1}: int) -> int:\n    return sh_true()\n" for i in range(1, 20)
    ]
    return "".join(shells), ["shell_19"]


def hamilton_run(workload: str) -> Any:
    import asyncio
    import types

    source, final = hamilton_source(workload)
    module = types.ModuleType(f"hamilton_{workload.lower()}")
    module.__dict__["sh_true"] = sh_true
    sys.modules[module.__name__] = module
    exec(compile(source, module.__name__, "exec"), module.__dict__)
    if workload == "W3":
        from hamilton import async_driver

        async def run_async() -> Any:
            dr = await async_driver.Builder().with_modules(module).build()
            return await dr.execute(final)

        return asyncio.run(run_async())
    from hamilton import driver

    return driver.Builder().with_modules(module).build().execute(final)


# -- Luigi (local scheduler, in-memory targets) --------------------------------------------


def luigi_run(workload: str) -> Any:
    import luigi
    from luigi.mock import MockTarget

    class Value(luigi.Task):  # type: ignore[misc]
        i = luigi.IntParameter()
        tag = luigi.Parameter(default="")

        def output(self) -> Any:
            return MockTarget(f"value-{self.tag}-{self.i}")

        def run(self) -> None:
            with self.output().open("w") as out:
                out.write(str(self.i))

    class Join(luigi.Task):  # type: ignore[misc]
        def requires(self) -> Any:
            return [Value(i=i, tag="w2") for i in range(100)]

        def output(self) -> Any:
            return MockTarget("join")

        def run(self) -> None:
            with self.output().open("w") as out:
                out.write("done")

    class Sleep(luigi.Task):  # type: ignore[misc]
        i = luigi.IntParameter()

        def output(self) -> Any:
            return MockTarget(f"sleep-{self.i}")

        def run(self) -> None:
            time.sleep(0.5)
            with self.output().open("w") as out:
                out.write("1")

    class Shell(luigi.Task):  # type: ignore[misc]
        i = luigi.IntParameter()

        def requires(self) -> Any:
            return [Shell(i=self.i - 1)] if self.i else []

        def output(self) -> Any:
            return MockTarget(f"shell-{self.i}")

        def run(self) -> None:
            sh_true()
            with self.output().open("w") as out:
                out.write("0")

    tasks: dict[str, tuple[list[Any], int]] = {
        "W1": ([Value(i=1, tag="w1")], 1),
        "W2": ([Join()], 1),
        "W3": ([Sleep(i=i) for i in range(8)], 8),
        "W4": ([Shell(i=19)], 1),
    }
    todo, workers = tasks[workload]
    ok = luigi.build(todo, local_scheduler=True, workers=workers, log_level="ERROR")
    if not ok:
        raise SystemExit("luigi build failed")


# -- Dagster (execute_in_process: the in-process executor runs ops one at a time) -------------


def dagster_run(workload: str) -> Any:
    from dagster import In, Nothing, job, op

    @op
    def one() -> int:
        return 1

    def value_op(i: int) -> Any:
        @op(name=f"value_{i}")
        def value() -> int:
            return i

        return value

    @op(ins={f"v{i}": In(int) for i in range(100)})
    def join(**values: int) -> int:
        return values["v0"] + values["v99"]

    def sleep_op(i: int) -> Any:
        @op(name=f"sleep_{i}")
        def sleep() -> int:
            time.sleep(0.5)
            return 1

        return sleep

    def shell_op(i: int) -> Any:
        @op(name=f"shell_{i}", ins={"after": In(Nothing)} if i else {})
        def shell() -> int:
            return sh_true()

        return shell

    @job
    def w1() -> None:
        one()

    @job
    def w2() -> None:
        join(**{f"v{i}": value_op(i)() for i in range(100)})

    @job
    def w3() -> None:
        for i in range(8):
            sleep_op(i)()

    @job
    def w4() -> None:
        previous = shell_op(0)()
        for i in range(1, 20):
            previous = shell_op(i)(after=previous)

    jobs = {"W1": w1, "W2": w2, "W3": w3, "W4": w4}
    result = jobs[workload].execute_in_process()
    if not result.success:
        raise SystemExit("dagster job failed")


# -- Prefect 3 (no server configured: a temporary local API) --------------------------------


def prefect_run(workload: str) -> Any:
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner

    @task
    def value(i: int) -> int:
        return i

    @task
    def join(values: list[int]) -> int:
        return values[0] + values[99]

    @task
    def sleep() -> int:
        time.sleep(0.5)
        return 1

    @task
    def shell(previous: int | None = None) -> int:
        return sh_true()

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=16))
    def w1() -> int:
        return value(1)

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=16))
    def w2() -> int:
        futures = [value.submit(i) for i in range(100)]
        return join([f.result() for f in futures])

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=16))
    def w3() -> int:
        futures = [sleep.submit() for _ in range(8)]
        return sum(f.result() for f in futures)

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=16))
    def w4() -> int:
        previous = None
        for _ in range(20):
            previous = shell(previous)
        return 0

    flows = {"W1": w1, "W2": w2, "W3": w3, "W4": w4}
    flows[workload]()


def main() -> None:
    tool, workload = sys.argv[1], sys.argv[2]
    if tool == "python":
        {"W1": python_w1, "W2": python_w2, "W3": python_w3, "W4": python_w4}[workload]()
    else:
        runners = {
            "pocketflow": pocketflow_run,
            "hamilton": hamilton_run,
            "luigi": luigi_run,
            "dagster": dagster_run,
            "prefect": prefect_run,
        }
        runners[tool](workload)


if __name__ == "__main__":
    main()
