"""Runs `uv pip install` in a build container and leaves what pip would leave: its output on
stdout, a log file with every line timestamped as pip's --log has them, and an installation
report in the shape of pip's --report (name, version, the file each distribution came from).
Stdlib only, run by the virtualenv's own interpreter, so the markers it reports are evaluated
by the base's interpreter, with the packaging pip vendors, as pip evaluates them. A uv base's
virtualenv has no pip of its own (its prep installs uv with the base interpreter's pip): the
markers are then evaluated by that interpreter outside the virtualenv (`--requested`), whose
environment markers are the same.
Usage: uv_install.py LOG REPORT REQUIREMENTS -- UV ARGS...
       uv_install.py --requested REQUIREMENTS   (prints the names and ignored lines as JSON)"""
import datetime
import json
import os
import re
import subprocess
import sys

INSTALLED = re.compile(r"^ \+ ([A-Za-z0-9._-]+)==(\S+)")
BUILT = re.compile(r"^\s*Built ([A-Za-z0-9._-]+)==(\S+)")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def stamp():
    now = datetime.datetime.now()
    return now.strftime("%Y-%m-%dT%H:%M:%S,") + "%03d" % (now.microsecond // 1000)


def requested(path):
    """The requirement names, and pip's line for each whose marker excludes this environment."""
    names, ignored = set(), []
    try:
        from pip._vendor.packaging.requirements import Requirement
    except ImportError:
        Requirement = None
        base = getattr(sys, "_base_executable", None)
        # In the virtualenv (its prefix is not the base's): ask the base interpreter, once.
        if base and sys.prefix != sys.base_prefix and "--requested" not in sys.argv:
            out = subprocess.run([base, os.path.abspath(__file__), "--requested", path], capture_output=True, text=True)
            if out.returncode == 0:
                got = json.loads(out.stdout)
                return set(got["names"]), got["ignored"]
    for line in open(path):
        line = line.split(" --hash", 1)[0].strip()
        if not line:
            continue
        if Requirement is None:
            names.add(norm(re.split(r"[\s\[=<>!~;]", line, 1)[0]))
            continue
        r = Requirement(line)
        names.add(norm(r.name))
        if r.marker is not None and not r.marker.evaluate():
            ignored.append("Ignoring %s: markers '%s' don't match your environment" % (r.name, r.marker))
    return names, ignored


def wheel_file(name, version, built):
    """The file a distribution came from, as pip's report would name it: the sdist when it was
    built here (now, or before and taken from uv's cache: a plain linux tag), else its wheel."""
    from importlib import metadata

    try:
        text = metadata.distribution(name).read_text("WHEEL") or ""
    except Exception:
        text = ""
    tags = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Tag:")]
    local = tags and all(t.rsplit("-", 1)[-1].startswith("linux_") for t in tags)
    if built or local or not tags:
        return "%s-%s.tar.gz" % (name.replace("-", "_"), version), bool(local and not built)
    pys = sorted({t.split("-")[0] for t in tags})
    abis = sorted({t.split("-")[1] for t in tags})
    plats = sorted({t.split("-")[2] for t in tags})
    return "%s-%s-%s-%s-%s.whl" % (name.replace("-", "_"), version, ".".join(pys), ".".join(abis), ".".join(plats)), False


def main():
    log_path, report_path, reqs = sys.argv[1], sys.argv[2], sys.argv[3]
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    names, ignored = requested(reqs)
    version = subprocess.run([cmd[0], "--version"], capture_output=True, text=True).stdout.strip()
    installed, built = [], set()
    with open(log_path, "w") as log:
        def emit(line):
            print(line, flush=True)
            log.write("%s %s\n" % (stamp(), line))
            log.flush()

        emit("installer: %s" % version)
        for line in ignored:
            emit(line)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        for line in p.stdout:
            line = line.rstrip("\n")
            emit(line)
            m = INSTALLED.match(line)
            if m:
                installed.append((m.group(1), m.group(2)))
            m = BUILT.match(line)
            if m:
                built.add(norm(m.group(1)))
        rc = p.wait()
    if rc == 0:
        entries = []
        for name, ver in installed:
            file, cached = wheel_file(name, ver, norm(name) in built)
            entry = {
                "metadata": {"name": name, "version": ver},
                "download_info": {"url": file},
                "requested": norm(name) in names,
            }
            if cached:
                entry["built_before"] = True
            entries.append(entry)
        with open(report_path, "w") as f:
            json.dump({"version": "1", "installer": version, "install": entries}, f)
    sys.exit(rc)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--requested"]:
        names, ignored = requested(sys.argv[2])
        print(json.dumps({"names": sorted(names), "ignored": ignored}))
    else:
        main()
