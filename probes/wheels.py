# Probe "wheels": what got installed, how its native code is linked, and whether it loads.
#
# Runs after common.py and elf.py (same program). For every installed distribution it reports
# the wheel tags, the ELF linkage of its native files (elf.py: PT_INTERP, DT_NEEDED,
# RPATH/RUNPATH, version needs, the dynamic tags the loader must support, and which NEEDED the
# base's own loader does not find), then imports every top-level module and every extension module
# in child processes, one distribution's modules in one child, each failure again alone (an import
# that segfaults or hangs is a result), then runs the
# optional smoke script twice, each in a child: in the main thread ("smoke") and in a
# threading.Thread with the base's default thread stack size ("smoke.thread"), as services call
# their dependencies from worker threads. When the main-thread run passed, it is then repeated
# in the main thread to time it ("smoke.runtime"): the first run is the warm-up and is not
# counted; each repetition is a fresh child, timed by its wall time, pinned to one CPU, and
# preceded by a run of a fixed pure-Python control (the interpreter's own speed in the same
# moment); repetition stops at the number asked for, at the first run that does not pass (a
# failed run is never timed), or when the next run would not fit in the time budget. Every
# value is observed; nothing here knows what a package or a libc is "supposed" to do.
#
# Config (first argument, JSON object; every key optional):
#   smoke            python source of a smoke script, or null              (default null)
#   import_timeout_s seconds per import child                               (default 30)
#   smoke_timeout_s  seconds for the smoke child                            (default 120)
#   skip_dists       distribution names not reported                        (default pip, setuptools, wheel)
#   max_imports      bound on import/load children                          (default 200)
#   jobs             import children run at the same time                   (default 2)
#   runtime_runs     timed repetitions of the main-thread smoke run, 0: none (default 5)
#   runtime_budget_s seconds all timed repetitions together may take        (default 60)
#   timing_slot      which CPU the timed runs are pinned to: the slot-th from the highest this
#                    probe may use, so probes given different slots time on different CPUs, and
#                    slot 0 stays off the lowest, where the base profiles run  (default 0)
import hashlib as _w_hashlib
import importlib.machinery as _w_machinery
import importlib.metadata as _w_metadata
import os as _w_os
import re as _w_re
import struct as _w_struct
import sys as _w_sys
import time as _w_time

MC_PROBE = "wheels"

_W_DEFAULT_SKIP = ["pip", "setuptools", "wheel"]
_W_TAIL = 2000

# --------------------------------------------------------------------------------------------
# distributions


def _w_canon(name):
    return _w_re.sub(r"[-_.]+", "-", name or "").lower()


def _w_read(dist, fname):
    try:
        return dist.read_text(fname)
    except Exception:  # a broken dist-info is an observation, not a probe failure
        return None


def _w_wheel_tags(dist):
    text = _w_read(dist, "WHEEL") or ""
    tags = []
    for line in text.splitlines():
        if line.lower().startswith("tag:"):
            tags.append(line.split(":", 1)[1].strip())
    return tags


_W_EXT_RE = _w_re.compile(r"\.so(\.[0-9]+)*$")


def _w_module_of_path(parts):
    """Dotted module name of an extension file path inside site-packages, or None."""
    stem = parts[-1].split(".", 1)[0]
    names = list(parts[:-1]) + [stem]
    if not all(n.isidentifier() for n in names):
        return None
    return ".".join(names)


# Loader listings per probe: each is a child process.
_W_MAX_LISTINGS = 400
_w_listings = [0]


def _w_loader_facts(info, loader, path):
    """What a loader needs to support to load the file, and what it finds for its NEEDED."""
    facts = {k: info[k] for k in ("elf_class", "endian", "relr", "hash_styles", "tls", "static_tls")}
    if _w_listings[0] < _W_MAX_LISTINGS:
        _w_listings[0] += 1
        listing = _w_loader_list(loader, path)
        facts["missing_needed"] = listing["missing"]
        if listing["error"]:
            facts["loader_error"] = listing["error"]
    return facts


def _w_scan_dist(dist, family, loader=None):
    name = _w_canon(dist.metadata["Name"] if dist.metadata else None)
    files = []
    try:
        files = list(dist.files or [])
    except Exception:
        files = []
    rels = []
    for f in files:
        parts = tuple(str(f).replace("\\", "/").split("/"))
        if not parts or parts[0] in ("..", "") or parts[0].startswith(".."):
            continue
        rels.append((parts, f))
    rels.sort(key=lambda x: x[0])

    # top-level modules
    top = []
    txt = _w_read(dist, "top_level.txt")
    if txt is not None:
        source = "top_level.txt"
        for line in txt.splitlines():
            line = line.strip()
            if line.isidentifier() and line not in top:
                top.append(line)
    else:
        source = "RECORD"
        for parts, _f in rels:
            first = parts[0]
            if len(parts) == 1:
                if first.endswith(".py"):
                    cand = first[:-3]
                elif _W_EXT_RE.search(first):
                    cand = first.split(".", 1)[0]
                else:
                    continue
            else:
                if first.endswith((".dist-info", ".data", ".libs")) or first == "__pycache__":
                    continue
                if not (parts[-1].endswith(".py") or _W_EXT_RE.search(parts[-1])):
                    continue
                cand = first
            if cand.isidentifier() and cand not in top:
                top.append(cand)
    top.sort()

    suffixes = list(_w_machinery.EXTENSION_SUFFIXES)
    extensions, vendored, foreign_files, elf_errors, vendored_linkage = [], [], [], [], []
    for parts, f in rels:
        fname = parts[-1]
        if not _W_EXT_RE.search(fname):
            continue
        rel = "/".join(parts)
        if len(parts) > 1 and parts[0].endswith(".libs"):
            vendored.append(rel)
            kind = "vendored"
        else:
            kind = "extension"
        abs_path = str(dist.locate_file(f))
        try:
            info = _w_elf_read(abs_path)
        except (OSError, _WElfError) as e:
            elf_errors.append({"path": rel, "error": str(e)})
            continue
        glibc_versions, glibc_linked, musl_linked, foreign = _w_linkage(info, family)
        if foreign:
            foreign_files.append(rel)
        facts = _w_loader_facts(info, loader, abs_path)
        if kind == "vendored":
            entry = {
                "path": rel,
                "needed": info["needed"],
                "glibc_symbol_versions": glibc_versions,
                "version_needs": info["version_needs"],
                "glibc_linked": glibc_linked,
                "musl_linked": musl_linked,
                "foreign_libc": foreign,
            }
            entry.update(facts)
            vendored_linkage.append(entry)
            continue
        module = _w_module_of_path(parts)
        if info["pyinit"] is not None:
            # a shared library shipped inside a package (no PyInit_) is not importable by name
            expected = "PyInit_" + (module.rsplit(".", 1)[-1] if module else "")
            if module and expected not in info["pyinit"]:
                module = None
        extensions.append({
            "path": rel,
            "module": module,
            # the import system looks for <name><suffix> exactly, for the running interpreter's
            # suffixes only (a -linux-gnu.so file is invisible to a -linux-musl interpreter)
            "suffix_importable": fname[len(fname.split(".", 1)[0]):] in suffixes,
            "needed": info["needed"],
            "interpreter": info["interpreter"],
            "rpath": info["rpath"],
            "runpath": info["runpath"],
            "glibc_symbol_versions": glibc_versions,
            "version_needs": info["version_needs"],
            "glibc_linked": glibc_linked,
            "musl_linked": musl_linked,
            "foreign_libc": foreign,
        })
        extensions[-1].update(facts)
    installer = _w_read(dist, "INSTALLER")
    value = {
        "name": name,
        "version": dist.version,
        "wheel_tags": _w_wheel_tags(dist),
        "installer": installer.strip() if installer is not None else None,
        # Installed because it was asked for by name (PEP 376's REQUESTED): pip writes it only
        # for what it was asked for; uv 0.9 writes it for every distribution it installs.
        "requested": _w_read(dist, "REQUESTED") is not None,
        "top_level": top,
        "top_level_source": source,
        "extensions": extensions,
        "vendored_libs": vendored,
        "vendored_linkage": vendored_linkage,
        "foreign_libc_files": foreign_files,
    }
    if elf_errors:
        value["elf_errors"] = elf_errors
    return name, value


# --------------------------------------------------------------------------------------------
# import children

_W_IMPORT_CHILD = r'''
import faulthandler, json, sys, traceback
faulthandler.enable()
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
mode, name, path, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
if limit > 2:  # a hung import leaves its stack in stderr before the parent kills it
    faulthandler.dump_traceback_later(limit - 1, exit=False)
try:
    if mode == "name":
        import importlib
        m = importlib.import_module(name)
    else:
        import importlib.machinery, importlib.util
        loader = importlib.machinery.ExtensionFileLoader(name, path)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        m = importlib.util.module_from_spec(spec)
        sys.modules[name] = m
        spec.loader.exec_module(m)
except BaseException as e:
    sys.stderr.write(traceback.format_exc())
    out = {"exception": type(e).__name__}
    if isinstance(e, ModuleNotFoundError) and e.name:
        out["missing_module"] = e.name
    sys.stdout.write(json.dumps(out))
    sys.stdout.flush()
    sys.exit(1)
sys.stdout.write(json.dumps({"file": getattr(m, "__file__", None)}))
'''


def _w_last_line(text):
    for line in reversed((text or "").splitlines()):
        if line.strip():
            return line.strip()
    return None


def _w_child_json(text):
    line = _w_last_line(text)
    if not line:
        return {}
    try:
        obj = _mc_json.loads(line)
        return obj if isinstance(obj, dict) else {}
    except ValueError:
        return {}


def _w_rel(path, roots):
    if not path:
        return path
    for r in roots:
        if path.startswith(r + _w_os.sep):
            return path[len(r) + 1:]
    return path


def _w_run_import(item, timeout, roots, provided):
    mode, name, path = item["mode"], item["module"], item.get("abs_path") or ""
    r = run_child(_W_IMPORT_CHILD, args=(mode, name, path, timeout), timeout=timeout,
                  env={"PYTHONDONTWRITEBYTECODE": "1"})
    value = {"dist": item["dist"], "kind": item["kind"], "how": mode}
    if item.get("path"):
        value["path"] = item["path"]
    if mode == "path":
        value["module"] = name
    out = _w_child_json(r["stdout"])
    message = None
    if r["status"] == "ok":
        value["file"] = _w_rel(out.get("file"), roots)
    elif r["status"] == "error":
        value["exception"] = out.get("exception")
        value["exit_code"] = r["exit_code"]
        missing = out.get("missing_module")
        if missing:
            # A module no installed distribution provides and the standard library does not
            # have: an optional integration whose own dependency nobody asked for.
            root = missing.split(".", 1)[0]
            stdlib = getattr(_w_sys, "stdlib_module_names", ())
            value["missing_module"] = missing
            value["missing_outside_tree"] = root not in provided and root not in stdlib
        message = _w_last_line(r["stderr"]) or "exit code %s" % r["exit_code"]
    elif r["status"] == "crash":
        value["signal"] = r["signal"]
        value["signal_name"] = r["signal_name"]
        value["stderr_tail"] = r["stderr"][-_W_TAIL:]
        message = "killed by %s" % r["signal_name"]
    else:
        value["stderr_tail"] = r["stderr"][-_W_TAIL:]
        message = "no result after %ss" % timeout
    return r["status"], value, message, r["duration_ms"]


# Imports by name of one distribution's modules, one after another in one child: the first
# import pays for the package and what it imports, the others for themselves only (a fresh
# interpreter per module made a large package, 200 modules of scikit-learn, take minutes).
# Each module's result is a line written as soon as it is known, and a "start" line before it,
# so when the child dies, is killed or hangs (faulthandler ends it after the per-module limit)
# the module in progress is known. That module, and every module that did not import cleanly in
# the batch, is then run again alone in a child of its own, and that result is the one reported:
# a crash or an error is only ever an observation of the module by itself.
_W_BATCH_CHILD = r"""
import faulthandler, json, sys, time, traceback
faulthandler.enable()
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
limit = float(sys.argv[1])
import importlib
for i, name in enumerate(sys.argv[2:]):
    sys.stdout.write("S %d\n" % i)
    sys.stdout.flush()
    faulthandler.dump_traceback_later(limit, exit=True)
    t = time.monotonic()
    out = {"i": i}
    try:
        m = importlib.import_module(name)
        out["file"] = getattr(m, "__file__", None)
    except BaseException:
        out["failed"] = True
    faulthandler.cancel_dump_traceback_later()
    out["ms"] = (time.monotonic() - t) * 1000.0
    sys.stdout.write("R " + json.dumps(out) + "\n")
    sys.stdout.flush()
"""


def _w_run_batch(batch, timeout, roots, provided):
    """Results for the items of one batch (imports by name), in order, as _w_run_import gives
    them."""
    results = [None] * len(batch)
    start = 0
    while start < len(batch):
        names = [it["module"] for it in batch[start:]]
        r = run_child(_W_BATCH_CHILD, args=[timeout] + names, timeout=timeout * len(names) + 30,
                      env={"PYTHONDONTWRITEBYTECODE": "1"}, max_output=1 << 22)
        done = {}
        for line in (r["stdout"] or "").splitlines():
            if line.startswith("R "):
                try:
                    obj = _mc_json.loads(line[2:])
                    done[start + int(obj["i"])] = obj
                except (ValueError, KeyError, TypeError):
                    pass
        nxt = len(batch)
        for i in range(start, len(batch)):
            obj = done.get(i)
            if obj is None:
                nxt = i  # the module in progress when the child ended, or never reached
                break
            it = batch[i]
            if obj.get("failed"):
                results[i] = _w_run_import(it, timeout, roots, provided)
                continue
            value = {"dist": it["dist"], "kind": it["kind"], "how": "name",
                     "file": _w_rel(obj.get("file"), roots)}
            results[i] = ("ok", value, None, float(obj.get("ms") or 0.0))
        if nxt < len(batch):
            # Observed alone, then the batch goes on after it.
            results[nxt] = _w_run_import(batch[nxt], timeout, roots, provided)
            start = nxt + 1
        else:
            start = nxt
    return results


def _w_run_items(items, jobs, timeout, roots, provided):
    """Results of every planned import or load, in the order of `items`: imports by name in one
    batch per distribution, loads by path each in a child of its own (an extension loaded a
    second time in one process is not the same observation), `jobs` children at a time."""
    from concurrent.futures import ThreadPoolExecutor
    groups = {}
    singles = []
    for idx, it in enumerate(items):
        if it["mode"] == "name":
            groups.setdefault(it["dist"], []).append(idx)
        else:
            singles.append(idx)
    out = [None] * len(items)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        batch_futs = [(idxs, pool.submit(_w_run_batch, [items[i] for i in idxs], timeout, roots, provided))
                      for idxs in groups.values()]
        single_futs = [(i, pool.submit(_w_run_import, items[i], timeout, roots, provided)) for i in singles]
        for idxs, fut in batch_futs:
            try:
                for i, res in zip(idxs, fut.result()):
                    out[i] = res
            except Exception as e:
                for i in idxs:
                    out[i] = e
        for i, fut in single_futs:
            try:
                out[i] = fut.result()
            except Exception as e:
                out[i] = e
    return out


def _w_sample_key(module):
    return _w_hashlib.sha1(module.encode("utf-8")).hexdigest()


def _w_plan_imports(dists, limit):
    """[(item)] in emit order, plus truncation facts. Top-level modules are always imported;
    extension imports (and path loads of extensions the interpreter cannot see by suffix) fill
    the rest of the budget, round-robin over distributions in sorted order, each distribution's
    candidates ordered by a hash of the module name so the sample is the same on every base."""
    seen = set()
    tops, extras = [], {}
    for dname, value in dists:
        for mod in value["top_level"]:
            if mod in seen:
                continue
            seen.add(mod)
            tops.append({"dist": dname, "kind": "top_level", "mode": "name", "module": mod})
    for dname, value in dists:
        cands = []
        for ext in value["extensions"]:
            mod = ext["module"]
            if not mod:
                continue
            if mod not in seen:
                seen.add(mod)
                cands.append({"dist": dname, "kind": "extension", "mode": "name", "module": mod,
                              "path": ext["path"]})
            if not ext["suffix_importable"]:
                cands.append({"dist": dname, "kind": "extension", "mode": "path", "module": mod,
                              "path": ext["path"], "abs_path": ext["_abs"]})
        cands.sort(key=lambda it: (_w_sample_key(it["module"]), it["mode"]))
        extras[dname] = cands
    total_extra = sum(len(c) for c in extras.values())
    budget = max(0, limit - len(tops))
    chosen = []
    if total_extra <= budget:
        for c in extras.values():
            chosen.extend(c)
    else:
        queues = [list(extras[d]) for d, _v in dists if extras.get(d)]
        while len(chosen) < budget and any(queues):
            for q in queues:
                if q and len(chosen) < budget:
                    chosen.append(q.pop(0))
    order = {d: i for i, (d, _v) in enumerate(dists)}
    items = tops + chosen
    items.sort(key=lambda it: (order[it["dist"]], it["mode"] == "path", it["module"],
                               it.get("path") or ""))
    facts = {"truncated": total_extra > budget, "limit": limit, "top_level": len(tops),
             "extension_candidates": total_extra, "extension_planned": len(chosen),
             "planned": len(items)}
    return items, facts


# --------------------------------------------------------------------------------------------
# main


def _w_main():
    cfg = mc_config()
    smoke = cfg.get("smoke")
    import_timeout = float(cfg.get("import_timeout_s") or 30)
    smoke_timeout = float(cfg.get("smoke_timeout_s") or 120)
    skip = cfg.get("skip_dists")
    if skip is None:
        skip = _W_DEFAULT_SKIP
    skip = {_w_canon(s) for s in skip}
    limit = cfg.get("max_imports")
    limit = 200 if limit is None else max(0, int(limit))
    jobs = max(1, int(cfg.get("jobs") or 2))
    runtime_runs = cfg.get("runtime_runs")
    runtime_runs = 5 if runtime_runs is None else max(0, int(runtime_runs))
    runtime_budget = cfg.get("runtime_budget_s")
    runtime_budget = 60.0 if runtime_budget is None else max(0.0, float(runtime_budget))
    timing_slot = max(0, int(cfg.get("timing_slot") or 0))

    t0 = _w_time.monotonic()
    libc = detect_libc()
    emit("libc", "ok", libc, duration_ms=(_w_time.monotonic() - t0) * 1000.0)
    family = libc.get("family")

    by_name = {}
    roots = set()
    for dist in _w_metadata.distributions():
        try:
            t = _w_time.monotonic()
            dname, value = _w_scan_dist(dist, family, libc.get("loader"))
            dur = (_w_time.monotonic() - t) * 1000.0
        except Exception as e:  # one unreadable dist must not hide the others
            try:
                dname = _w_canon(dist.metadata["Name"]) or "unknown"
            except Exception:
                dname = "unknown"
            value, dur = {"name": dname, "scan_error": "%s: %s" % (type(e).__name__, e)}, 0.0
        if not dname or dname in skip or dname in by_name:
            continue  # first one on sys.path wins, as for imports
        try:
            root = str(dist.locate_file(""))
            roots.add(_w_os.path.normpath(root))
            for ext in value.get("extensions", []):
                ext["_abs"] = _w_os.path.join(root, ext["path"])
        except Exception:
            pass
        by_name[dname] = (value, dur)

    dists = []
    for dname in sorted(by_name):
        value, dur = by_name[dname]
        public = dict(value)
        if "extensions" in public:
            public["extensions"] = [{k: v for k, v in e.items() if k != "_abs"}
                                    for e in public["extensions"]]
        if "scan_error" in value:
            emit("dist:" + dname, "error", public, message=value["scan_error"], duration_ms=dur)
            continue
        emit("dist:" + dname, "ok", public, duration_ms=dur)
        dists.append((dname, value))

    items, facts = _w_plan_imports(dists, limit)
    emit("imports.truncated", "ok", facts,
         message=("imported all top-level modules and %d of %d extension candidates (sampled)"
                  % (facts["extension_planned"], facts["extension_candidates"]))
         if facts["truncated"] else None)

    roots = sorted(roots, key=len, reverse=True)
    if items:
        provided = {m for _d, v in dists for m in v["top_level"]}
        for it, res in zip(items, _w_run_items(items, jobs, import_timeout, roots, provided)):
            check = ("import:" + it["module"]) if it["mode"] == "name" else ("load:" + it["path"])
            if isinstance(res, Exception) or res is None:
                emit(check, "error", {"dist": it["dist"], "kind": it["kind"]},
                     message="probe could not run the child: %s" % (res,))
                continue
            status, value, message, dur = res
            emit(check, status, value, message=message, duration_ms=dur)

    # libc, one per distribution, imports.truncated, the imports, smoke, smoke.thread and
    # smoke.runtime
    planned = 1 + len(by_name) + 1 + len(items) + 3
    if not smoke:
        for check in ("smoke", "smoke.thread", "smoke.runtime"):
            emit(check, "skipped", message="no smoke script configured")
    else:
        stack = _w_thread_stack()
        first = None
        for where, check in (("main", "smoke"), ("thread", "smoke.thread")):
            status, value, message, dur = _w_run_smoke(smoke, where, smoke_timeout)
            if where == "thread":
                value["thread_stack_bytes"] = stack.get("bytes")
                if "error" in stack:
                    value["thread_stack_error"] = stack["error"]
            else:
                first = (status, dur)
            emit(check, status, value, message=message, duration_ms=dur)
        _w_runtime(smoke, first, runtime_runs, runtime_budget, smoke_timeout, timing_slot)
    mc_end(planned)


def _w_runtime(smoke, first, runs, budget, smoke_timeout, slot):
    """Times the main-thread smoke run: `runs` repetitions after the first (the warm-up, not
    counted), within `budget` seconds in all. The spread reported is min..max of the counted
    runs: with a handful of runs a quartile is one of them anyway, and the whole range is the
    cautious choice when two bases' spreads are compared for overlap.

    Before each counted smoke run, the fixed pure-Python control runs in a fresh child too
    (after a warm-up of its own): control, smoke, control, smoke, ... Both take the same load,
    so the control's times say how fast this base's interpreter was in the same window, and a
    smoke run slower by as much as the control is the interpreter, not the dependency. The
    timed children run pinned to one CPU, the one `slot` names (see `_w_pin_one_cpu`). The
    control's runs are not counted against the budget: each is a fraction of a second."""
    status, warmup_ms = first
    base = {"requested": runs, "budget_s": budget, "warmup_ms": round(warmup_ms, 3)}
    if runs == 0:
        emit("smoke.runtime", "skipped", base, message="timing is off (runtime_runs = 0)")
        return
    if status != "ok":
        emit("smoke.runtime", "skipped", base,
             message="not timed: the first main-thread run did not pass (%s)" % status)
        return
    restore, cpu = _w_pin_one_cpu(slot)
    try:
        value, spent, stopped = _w_timed_runs(smoke, runs, budget, smoke_timeout, warmup_ms)
    finally:
        if restore is not None:
            try:
                _w_os.sched_setaffinity(0, restore)
            except OSError:
                pass
    value = dict(base, cpu=cpu, slot=slot, **value)
    emit("smoke.runtime", "ok", value, message=stopped, duration_ms=spent * 1000.0)


def _w_pin_one_cpu(slot):
    """Pins this process (and so its children) to one CPU it may use, the slot-th from the
    highest (round again past the lowest): (the set to restore, the CPU), or (None, None) where
    affinity cannot be set. The harness gives probes that run at once different slots, so they
    do not time each other on one CPU; counting from the highest keeps the first slot off the
    lowest CPU, to which the base profiles are pinned."""
    try:
        allowed = _w_os.sched_getaffinity(0)
        ordered = sorted(allowed, reverse=True)
        cpu = ordered[slot % len(ordered)]
        _w_os.sched_setaffinity(0, {cpu})
        return allowed, cpu
    except (AttributeError, OSError, ValueError):
        return None, None


def _w_summary(times, prefix):
    if not times:
        return {}
    ordered = sorted(times)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2.0
    return {prefix + "median_ms": round(median, 3), prefix + "min_ms": ordered[0],
            prefix + "max_ms": ordered[-1]}


def _w_timed_runs(smoke, runs, budget, smoke_timeout, warmup_ms):
    times, control, stopped, control_stopped, spent = [], [], None, None, 0.0
    c_status, c_message, c_warmup = _w_run_control(smoke_timeout)
    if c_status != "ok":
        control_stopped = "the control's warm-up did not pass (%s: %s)" % (c_status, c_message)
    while len(times) < runs:
        # The slowest run so far (the warm-up included) stands for the next one.
        expected = max([warmup_ms] + times) / 1000.0
        left = budget - spent
        if expected > left:
            stopped = ("the next run (about %.1f s) would not fit in the %.0f s budget"
                       % (expected, budget))
            break
        if control_stopped is None:
            c_status, c_message, c_dur = _w_run_control(smoke_timeout)
            if c_status == "ok":
                control.append(round(c_dur, 3))
            else:
                control_stopped = "control run %d did not pass (%s: %s)" % (
                    len(control) + 2, c_status, c_message)
        # A run slower than expected is stopped at the budget, so the repetitions never take
        # more than it in all.
        r_status, _v, message, dur = _w_run_smoke(smoke, "main", min(smoke_timeout, left))
        spent += dur / 1000.0
        if r_status == "timeout":
            stopped = "run %d did not finish within the %.0f s budget" % (len(times) + 2, budget)
            break
        if r_status != "ok":
            # A run that did not pass says nothing about speed; the first one passed, so it is
            # reported, never timed.
            stopped = "run %d did not pass (%s: %s)" % (len(times) + 2, r_status, message)
            break
        times.append(round(dur, 3))
    value = {"runs_ms": times, "stopped": stopped, "control_warmup_ms": round(c_warmup, 3),
             "control_runs_ms": control, "control_stopped": control_stopped}
    value.update(_w_summary(times, ""))
    value.update(_w_summary(control, "control_"))
    return value, spent, stopped


# The control: a fixed piece of pure Python (calls, a dict, attribute access on small objects,
# strings, a sort), nothing the C library does but what the interpreter itself needs; small
# objects are CPython's own allocator's. Its time is the interpreter's speed on this base. It
# checks its result, so that a run that did not do the work cannot pass.
_W_CONTROL = r'''
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

class Point:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x, self.y = x, y
    def moved(self, dx, dy):
        return Point(self.x + dx, self.y + dy)

def work():
    acc = fib(25)
    counts = {}
    for i in range(400000):
        k = (i * 7919) % 1021
        counts[k] = counts.get(k, 0) + (i & 15)
    acc += sum(counts.values())
    p = Point(0, 0)
    for i in range(300000):
        p = p.moved(i % 3 - 1, i % 5 - 2)
    acc += p.x + p.y
    words = ["w%d" % ((i * 31) % 997) for i in range(150000)]
    acc += len("-".join(sorted(set(words))))
    acc += sum(len(w) for w in words if w.endswith("7"))
    return acc

assert work() == 3137834, "the control computed something else"
'''


def _w_run_control(timeout):
    r = run_child(_W_CONTROL, timeout=timeout,
                  env={"PYTHONDONTWRITEBYTECODE": "1"})
    message = _w_last_line(r["stderr"]) if r["status"] != "ok" else None
    return r["status"], message, r["duration_ms"]


# The smoke script runs from stdin (no size limit of an argument), compiled as "<smoke>", as
# __main__, either in the main thread or in a threading.Thread with the default stack size:
# the harness never raises it, so the worker has what the base gives every thread.
_W_SMOKE_CHILD = r'''
import os, sys, threading, traceback
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
where = sys.argv[1]
code = compile(sys.stdin.read(), "<smoke>", "exec")
result = {"code": 0}
def target():
    try:
        exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as e:
        c = e.code
        result["code"] = c if isinstance(c, int) else (0 if c is None else 1)
        if c is not None and not isinstance(c, int):
            sys.stderr.write("%s\n" % (c,))
    except BaseException:
        traceback.print_exc()
        result["code"] = 1
if where == "thread":
    t = threading.Thread(target=target, name="muslcheck-worker")
    t.start()
    t.join()
else:
    target()
sys.stdout.flush()
sys.stderr.flush()
os._exit(result["code"])
'''


def _w_run_smoke(smoke, where, timeout):
    # unbuffered, so what the script printed before dying is kept; faulthandler for the stack
    r = run_child(_W_SMOKE_CHILD, args=(where,), timeout=timeout, stdin_data=smoke.encode("utf-8"),
                  env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                       "PYTHONFAULTHANDLER": "1"})
    value = {"where": where, "exit_code": r["exit_code"], "signal": r["signal"],
             "signal_name": r.get("signal_name"),
             "stdout_tail": r["stdout"][-_W_TAIL:], "stderr_tail": r["stderr"][-_W_TAIL:]}
    if r["status"] == "ok":
        message = _w_last_line(r["stdout"])
    elif r["status"] == "timeout":
        message = "no result after %ss" % timeout
    elif r["status"] == "crash":
        message = "killed by %s" % r.get("signal_name")
    else:
        message = _w_last_line(r["stderr"]) or "exit code %s" % r["exit_code"]
    return r["status"], value, message, r["duration_ms"]


_W_STACK_CHILD = r'''
import ctypes, json, os, sys, threading
lib = ctypes.CDLL(None, use_errno=True)
lib.pthread_self.restype = ctypes.c_size_t
lib.pthread_getattr_np.argtypes = [ctypes.c_size_t, ctypes.c_void_p]
lib.pthread_attr_getstacksize.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
out = {}
def target():
    attr = ctypes.create_string_buffer(256)
    rc = lib.pthread_getattr_np(lib.pthread_self(), attr)
    if rc:
        out["error"] = "pthread_getattr_np: %s" % os.strerror(rc)
        return
    size = ctypes.c_size_t(0)
    rc = lib.pthread_attr_getstacksize(attr, ctypes.byref(size))
    lib.pthread_attr_destroy(attr)
    if rc:
        out["error"] = "pthread_attr_getstacksize: %s" % os.strerror(rc)
    else:
        out["bytes"] = size.value
t = threading.Thread(target=target)
t.start()
t.join()
sys.stdout.write(json.dumps(out))
'''


def _w_thread_stack():
    """The stack size a threading.Thread gets on this base, read inside such a thread."""
    r = run_child(_W_STACK_CHILD, timeout=30)
    if r["status"] != "ok":
        return {"error": _w_last_line(r["stderr"]) or r["status"]}
    return _w_child_json(r["stdout"]) or {"error": "no answer"}


_w_main()
