#!/usr/bin/env python3
"""Where a run's time went, from its report.json: the run's phases (wall time in all; phases of
parallel jobs overlap), then per job its build, its probe and, inside the probe, the probe
container, the smoke's timed runs and warm-up, the control's, and the crash-depth check.
Usage: scripts/report-time.py REPORT.json [...]"""
import json
import sys


def secs(x):
    return "-" if x is None else "%.2f" % x


def main():
    for path in sys.argv[1:]:
        r = json.load(open(path))
        t = r.get("timings", {})
        phases = ", ".join("%s %.1f" % (k, v) for k, v in t.items() if k != "total" and v)
        print("%s: %.1f s in all; %s" % (path, t.get("total", 0.0), phases))
        print("  %-28s %6s %6s %9s %8s %8s %8s %8s %7s" % (
            "job", "build", "probe", "container", "smoke", "warm-up", "control", "c.warm", "crash"))
        for j in r.get("jobs", []):
            p = j.get("probe") or {}
            sr = p.get("smoke_runtime") or {}
            c = sr.get("control") or {}
            crash = (j.get("crash_depth") or {}).get("duration_ms")
            print("  %-28s %6s %6s %9s %8s %8s %8s %8s %7s" % (
                j["id"][:28], secs(j.get("build_secs")), secs(j.get("probe_secs")),
                secs((p.get("container") or {}).get("secs")),
                secs(sum(sr["runs_secs"]) if sr.get("runs_secs") else None), secs(sr.get("warmup_secs")),
                secs(sum(c["runs_secs"]) if c.get("runs_secs") else None), secs(c.get("warmup_secs")),
                secs(crash / 1000.0 if crash is not None else None)))


if __name__ == "__main__":
    main()
