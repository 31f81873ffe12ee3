"""`python -m benchmarks.run`: every measurement of docs/benchmarks.md in one bounded run.

Prints a table and writes build/bench/results.json. Options: --quick (small
counts, for trying the harness), --only NAME[,NAME] (a subset of phases),
--http-workers N (the http phase's API processes, as `teamfoned http --workers N`; 0: the
API inside one process, as the daemon serves it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

from benchmarks import env
from benchmarks.carrier_clock import TimedCarrier
from benchmarks.stats import r

OUT = env.REPO / "build" / "bench"
# What a site would run for a busy API: one worker process per core.
HTTP_WORKERS = os.cpu_count() or 1
PHASES = ("pdd", "pdd_loaded", "queue_handoff", "roundtrips", "route", "route_1m", "cost", "memory",
          "http", "cps", "propagation", "propagation_two_nodes")


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem_gib = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib,
            "python": platform.python_version(), "kernel": platform.release()}


class Bench:
    def __init__(self, args) -> None:
        self.args = args
        self.quick = args.quick
        self.results: dict = {}
        self.load_start = os.getloadavg()
        self.details: dict = {}
        self.pg = env.Postgres()
        self.tel = env.Telephony()
        self.daemon: env.DaemonProcess | None = None
        self.carrier: TimedCarrier | None = None
        self.main_url: str | None = None

    async def setup(self) -> None:
        t0 = time.monotonic()
        self.pg.start()
        self.main_url = self.pg.database("bench")
        await env.seed(self.main_url, env.directory())
        self.tel.start()
        self.details["asterisk"] = self.tel.installation.version()
        t = self.tel.topology
        self.carrier = TimedCarrier(t.carrier_host, t.ami_port, t.ami_user, t.ami_secret)
        await self.carrier.connect()
        self.daemon = env.DaemonProcess(t, self.main_url, OUT / "daemon")
        await self.daemon.start()
        self.details["setup_seconds"] = round(time.monotonic() - t0, 1)

    async def teardown(self) -> None:
        if self.daemon:
            self.daemon.stop()
        if self.carrier:
            self.carrier.close()
        self.tel.stop()
        self.pg.stop()

    async def phase_pdd(self) -> None:
        from benchmarks import pdd

        n = 20 if self.quick else 200
        out = await pdd.measure(self.carrier, n, time_limit=150)
        s = out["sides"]
        self.results.update({
            "pdd_calls_per_side": s["teamfoned"]["n"],
            "pdd_native_ms_median": r(s["native"]["median"]),
            "pdd_queue_ms_median": r(s["queue"]["median"]),
            "pdd_teamfoned_ms_median": r(s["teamfoned"]["median"]),
            "pdd_native_ms_p99": r(s["native"]["p99"]),
            "pdd_queue_ms_p99": r(s["queue"]["p99"]),
            "pdd_teamfoned_ms_p99": r(s["teamfoned"]["p99"]),
            "pdd_added_ms_median": r(s["teamfoned"]["median"] - s["native"]["median"]),
            "pdd_added_ms_p99": r(s["teamfoned"]["p99"] - s["native"]["p99"]),
        })
        self.details["pdd"] = {"sides": s, "failures": out["failures"], "paired_difference": out["added"]}

    async def phase_pdd_loaded(self) -> None:
        """The same post-dial delay while one core is taken by a CPU hog (contention, as on a busy host)."""
        from benchmarks import cpu_hog, pdd

        n = 20 if self.quick else 100
        time_limit = 100
        with cpu_hog.one_core_busy(time_limit + 20):
            out = await pdd.measure(self.carrier, n, time_limit=time_limit)
        s = out["sides"]
        self.results.update({
            "pdd_added_ms_median_loaded": r(s["teamfoned"]["median"] - s["native"]["median"]),
            "pdd_added_ms_p99_loaded": r(s["teamfoned"]["p99"] - s["native"]["p99"]),
            "pdd_queue_added_ms_median_loaded": r(s["queue"]["median"] - s["native"]["median"]),
        })
        self.details["pdd_loaded"] = {"sides": s, "failures": out["failures"],
                                      "paired_difference": out["added"]}

    async def phase_queue_handoff(self) -> None:
        """A member freed -> the next waiting caller's member leg, teamfoned beside app_queue."""
        from benchmarks import queue_handoff

        out = await queue_handoff.measure(self.carrier, env.MEMBERS, 5 if self.quick else 20,
                                          time_limit=150)
        s = out["sides"]
        self.results.update({
            "queue_handoff_trials": s["teamfoned"]["n"],
            "queue_handoff_ms_median": r(s["teamfoned"]["median"]),
            "queue_handoff_ms_p90": r(s["teamfoned"]["p90"]),
            "queue_handoff_ms_median_queue": r(s["queue"]["median"]),
            "queue_handoff_ms_p90_queue": r(s["queue"]["p90"]),
        })
        self.details["queue_handoff"] = out

    async def phase_roundtrips(self) -> None:
        from sqlalchemy.engine import make_url

        from benchmarks import roundtrips
        from benchmarks.wire_count import WireCounter

        await self.answering_phones()
        # This phase's daemon talks to PostgreSQL through the counting relay; the others' directly.
        url = make_url(self.main_url)
        wire = WireCounter(url.host, url.port)
        await wire.start()
        self.daemon.stop()
        counted = env.DaemonProcess(self.tel.topology, url.set(port=wire.port).render_as_string(False),
                                    OUT / "daemon-counted")
        try:
            await counted.start()
            out = await roundtrips.measure(self.pg.cluster.sql, self.main_url, wire, self.carrier,
                                           3 if self.quick else 10)
        finally:
            counted.stop()
            await wire.stop()
            await self.daemon.start()
        self.results.update({
            "db_roundtrips_per_call": out["per_call_median"],
            "db_roundtrips_before_invite": out["before_invite_median"],
        })
        self.details["roundtrips"] = out

    async def phase_route_1m(self) -> None:
        from benchmarks import route_decision

        # 1,000,000 members: the database is dropped afterwards (about a gigabyte of disk).
        url = self.pg.database("scale1m")
        try:
            out = await route_decision.measure(url, 200 if self.quick else 1000,
                                               teams=route_decision.TEAMS * 10)
        finally:
            self.pg.drop("scale1m")
        d = out["decision"]
        self.results.update({
            "route_decision_ms_p50_1m": r(d["median"], 3),
            "route_decision_ms_p99_1m": r(d["p99"], 3),
        })
        self.details["route_1m"] = out

    async def phase_route(self) -> None:
        from benchmarks import route_decision

        url = self.pg.database("scale")
        out = await route_decision.measure(url, 300 if self.quick else 2000)
        d = out["decision"]
        self.results.update({
            "route_decision_ms_p50_100k": r(d["median"], 3),
            "route_decision_ms_p99_100k": r(d["p99"], 3),
        })
        self.details["route"] = out
        self.scale_url = url

    async def answering_phones(self) -> None:
        if not getattr(self, "_answering", False):
            from benchmarks import dialplan

            for i in range(env.MEMBERS):
                await self.carrier._action({"Action": "DBPut", "Family": f"phone/{dialplan.member_phone(i)}",
                                            "Key": "mode", "Val": "answer"})
            self._answering = True

    def sipp_target(self) -> tuple[str, str]:
        t = self.tel.topology
        return f"{t.pbx_host}:{t.pbx_sip_port}", t.carrier_host

    async def phase_cost(self) -> None:
        from benchmarks import daemon_cost

        await self.answering_phones()
        target, local = self.sipp_target()
        calls = 100 if self.quick else 500
        out = await daemon_cost.measure(self.main_url, self.daemon.pid, target, local, OUT / "sipp-cost",
                                        calls=calls, rate=25, hold_s=25 if not self.quick else 6,
                                        carrier=self.carrier)
        rss = out["rss_mb"]
        self.results.update({
            "daemon_cpu_ms_per_call": r(out["cpu_ms_per_call"]),
            "rss_mb_0_calls": r(rss.get("0"), 1),
            "rss_mb_100_calls": r(rss.get("100"), 1),
            "rss_mb_500_calls": r(rss.get("500"), 1),
        })
        self.details["cost"] = out

    async def phase_cps(self) -> None:
        from benchmarks import call_rate, daemon_cost, dialplan, proc_cpu
        from teamfoned.store.engine import create_engine

        await self.answering_phones()
        target, local = self.sipp_target()
        engine = create_engine(self.main_url)

        async def settle():
            await daemon_cost.wait_quiet(engine, 30)

        rates = (10, 20) if self.quick else call_rate.RATES
        out = {}
        asterisk_pid = self.tel.pbx.process.pid
        asterisk_cpu = {}
        try:
            for side, prefix, extra in (("dial", dialplan.NATIVE_PREFIX, None),
                                        ("queue", dialplan.QUEUE_PREFIX, None),
                                        ("teamfoned", dialplan.TEAMFONED_PREFIX, settle)):
                cpu0 = proc_cpu.cpu_ms(asterisk_pid)
                out[side] = await call_rate.ramp(
                    self.carrier, prefix, target=target, local_host=local, workdir=OUT / f"sipp-cps-{side}",
                    members=env.MEMBERS, seconds=2 if self.quick else 4, rates=rates, settle=extra,
                    time_limit=100)
                # The PBX's CPU over the whole ramp, per call it completed (failed steps included).
                calls = sum(step["successful"] for step in out[side]["steps"])
                asterisk_cpu[side] = (proc_cpu.cpu_ms(asterisk_pid) - cpu0) / calls if calls else None
        finally:
            await engine.dispose()
        self.results.update({
            "max_cps_teamfoned": out["teamfoned"]["max_cps"],
            "max_cps_dial": out["dial"]["max_cps"],
            "max_cps_queue": out["queue"]["max_cps"],
            "max_cps_ratio_vs_dial": r(out["teamfoned"]["max_cps"] / out["dial"]["max_cps"])
            if out["dial"]["max_cps"] else None,
            "asterisk_cpu_ms_per_call_dial": r(asterisk_cpu["dial"]),
            "asterisk_cpu_ms_per_call_queue": r(asterisk_cpu["queue"]),
            "asterisk_cpu_ms_per_call_teamfoned": r(asterisk_cpu["teamfoned"]),
        })
        self.details["cps"] = out

    async def phase_memory(self) -> None:
        url = self.pg.database("mem10k")
        await env.seed(url, env.directory())
        calls = 2000 if self.quick else 10_000
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.memory_10k", url, str(calls), str(env.MEMBERS), "110",
            cwd=env.REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 200)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0:
            raise RuntimeError(f"memory run failed: {err.decode()[-2000:]}")
        data = json.loads(out.decode().strip().splitlines()[-1])
        self.results["rss_growth_mb_after_10k"] = data["rss_growth_mb"]
        self.results["memory_run_calls"] = data["calls"]
        self.details["memory_10k"] = data

    async def phase_http(self) -> None:
        from benchmarks import http_availability

        url = getattr(self, "scale_url", None) or self.main_url
        out = await http_availability.measure(url, OUT / "http", members=5000 if not self.quick else 500,
                                              concurrency=32, seconds=5 if self.quick else 15,
                                              limit=100_000, workers=self.args.http_workers)
        self.results.update({
            "http_availability_rps": out["rps"],
            "http_availability_ms_p99": r(out["ms_p99"]),
            "http_workers": self.args.http_workers,
        })
        self.details["http"] = out

    async def phase_propagation(self) -> None:
        from benchmarks import propagation

        out = await propagation.measure(self.main_url, self.carrier, OUT / "propagation",
                                        6 if self.quick else 20)
        self.results.update({
            "propagation_ms_median": r(out["put_ms"]["median"]),
            "propagation_ms_p99": r(out["put_ms"]["p99"]),
            "propagation_to_ring_ms_median": r(out["change_to_ring_ms"]["median"]),
            "propagation_next_call_used_change": f"{out['next_call_used_change']}/{out['trials']}",
        })
        self.details["propagation"] = out

    async def phase_propagation_two_nodes(self) -> None:
        from benchmarks import propagation

        out = await propagation.measure_two_nodes(self.main_url, self.carrier, OUT / "propagation-two-nodes",
                                                  6 if self.quick else 20)
        self.results.update({
            "propagation_two_nodes_to_ring_ms_median": r(out["change_to_ring_ms"]["median"]),
            "propagation_two_nodes_next_call_used_change": f"{out['next_call_used_change']}/{out['trials']}",
        })
        self.details["propagation_two_nodes"] = out

    async def run(self) -> None:
        wanted = self.args.only.split(",") if self.args.only else PHASES
        await self.setup()
        try:
            for name in PHASES:
                if name not in wanted:
                    continue
                t0 = time.monotonic()
                print(f"[bench] {name} ...", flush=True)
                try:
                    await getattr(self, f"phase_{name}")()
                except Exception:
                    self.details.setdefault("errors", {})[name] = traceback.format_exc()
                    print(f"[bench] {name} failed:\n{traceback.format_exc()}", flush=True)
                self.details.setdefault("phase_seconds", {})[name] = round(time.monotonic() - t0, 1)
        finally:
            await self.teardown()


def table(results: dict) -> str:
    width = max(len(k) for k in results) if results else 10
    return "\n".join(f"{k:<{width}}  {v}" for k, v in results.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument("--quick", action="store_true", help="small counts (harness check)")
    parser.add_argument("--only", default="", help=f"comma-separated phases of {','.join(PHASES)}")
    parser.add_argument("--http-workers", type=int, default=HTTP_WORKERS,
                        help="http phase: `teamfoned http --workers N` (0: one embedded server; "
                             "default %(default)s, one per core)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    bench = Bench(args)
    asyncio.run(bench.run())
    wall = round(time.monotonic() - started, 1)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=env.REPO,
                            capture_output=True, text=True).stdout.strip()
    doc = {"results": bench.results, "machine": machine(), "load_average_end": os.getloadavg(),
           "load_average_start": bench.load_start, "commit": commit,
           "wall_seconds": wall, "quick": args.quick, "details": bench.details}
    (OUT / "results.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(table(bench.results))
    print(f"wall time {wall} s; written {OUT / 'results.json'}")
    return 1 if bench.details.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
