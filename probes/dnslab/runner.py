# dnslab, last part: running the scenarios (each in its files, with its servers and its child)
# and main. Runs after every other part.
#
# CONFIG (argv[1], JSON object; all keys optional):
#   {}                                   every built-in scenario (D0 ... D13)
#   {"scenarios": ["D1", "D3"]}          a subset: exact ids (case-insensitive); an id with no
#                                        exact match selects every id it prefixes ("D2" = D2a, D2b)
#   {"custom": SCENARIO}                 one incident replay (or a list of SCENARIO objects);
#                                        built-ins run too only when "scenarios" is also given
#   {"custom_file": PATH}                the same, read from a JSON file in the container (how
#                                        the harness passes a scenario: a zone may be megabytes)
#   {"list": true}                       emit the built-in definitions (check dns.list), run nothing
#   {"timeout_s": 25}                    default time limit of each getaddrinfo child
#   {"schema": SCENARIO}                 emit what the lab enforces (check dns.schema, see
#                                        enforced.py), SCENARIO only prepared; run nothing
#
# OUTPUT (JSON Lines through emit): "libc" (detect_libc()), "dns.sandbox" (uid, capabilities,
# interfaces, port-53 bindability, original files), then one check per scenario, "dns.<id>":
#   value = {"scenario": {id, title, resolv_conf (as written), name, family, socktype, proto,
#                         flags, port, zone, faults, hosts, nsswitch, env, servers,
#                         nameserver_map, timeout_s},
#            "result": {"ok", "addresses", "tuples": [[family, socktype, proto, canonname,
#                        sockaddr], ...], "canonnames", "error": {"kind", "code", "name",
#                        "message"} | null} | null (child died),
#            "duration_ms": time inside the child around getaddrinfo,
#            "queries": [{"t_ms" (since getaddrinfo was called, monotonic clock shared with the
#                         child; UDP: the kernel's receive time, TCP: when the server read it),
#                         "server", "sport", "transport", "id", "name", "type", "edns",
#                         "action" ("answer 2", "answer 40 via 1 CNAME", "nxdomain", "nodata",
#                         "servfail", "refused", "dropped", "truncated 27/40", ...: records of
#                         the asked type in the reply), "fault" (index or null),
#                         "delay_ms", "rcode", "answers", "tc", "bytes", "reply_t_ms"}, ...],
#            "child": {"status", "exit_code", "signal", "stderr"}}
#   status "ok" when getaddrinfo returned (success or a gaierror: both are observations),
#   "timeout" / "crash" when the child was killed / died, "error" when the lab could not be set
#   up (message says why; e.g. port 53 not bindable, /etc read-only).

STRIP_ENV = ("LOCALDOMAIN", "RES_OPTIONS", "HOSTALIASES", "RESOLV_HOST_CONF", "RES_NAMESERVERS")


def _says(value):
    """What getaddrinfo gave, how long it took and what it asked, in words, from the value."""
    r = value.get("result") or {}
    if r.get("ok"):
        addrs = sorted(set(r.get("addresses") or []))
        got = "answered %s" % (", ".join(addrs[:4]) + (" and %d more" % (len(addrs) - 4) if len(addrs) > 4 else "")
                               if addrs else "with no address")
    elif r:
        err = r.get("error") or {}
        got = "failed with %s" % (err.get("name") or err.get("kind") or "an error")
    else:
        got = "returned nothing"
    ms = value.get("duration_ms")
    took = " after %.0f ms" % ms if isinstance(ms, (int, float)) else ""
    qs = value.get("queries") or []
    servers = sorted({q.get("server") for q in qs if q.get("server")})
    tcp = sum(1 for q in qs if q.get("transport") == "tcp")
    asked = ", %d quer%s" % (len(qs), "y" if len(qs) == 1 else "ies")
    if len(servers) > 1:
        asked += " to %d servers" % len(servers)
    if tcp:
        asked += " (%d over TCP)" % tcp
    return got + took + asked


def run_scenario(sc, default_timeout, files):
    sid = _scenario_id(sc)
    check = "dns." + sid
    wall0 = time.monotonic()
    try:
        desc, p = prepare(sc, default_timeout)
        desc["id"] = sid
    except (LabError, ValueError, TypeError, KeyError) as e:
        emit(check, "error", value={"scenario": sc if isinstance(sc, dict) else None},
             message="bad scenario: %s" % e)
        return
    lab, res, problems = None, None, []
    try:
        files.write(ETC["resolv_conf"], desc["resolv_conf"])
        files.write(ETC["hosts"], desc["hosts"])
        if desc["nsswitch"] is not None:
            files.write(ETC["nsswitch"], desc["nsswitch"])
        lab = DnsLab(p["zone"], p["faults"], p["servers"], p["udp_max"])
        lab.start()
        res = run_child(CHILD, [json.dumps(p["args"])], timeout=p["timeout"], env=p["env"])
    except LabError as e:
        problems.append(str(e))
    finally:
        if lab is not None:
            lab.stop()
        problems += files.restore()
    wall_ms = (time.monotonic() - wall0) * 1000.0
    if res is None:
        emit(check, "error", value={"scenario": desc, "queries": lab.queries(lab.t_start) if lab else []},
             message="; ".join(problems), duration_ms=wall_ms)
        return
    out = None
    for line in reversed((res.get("stdout") or "").splitlines()):
        try:
            out = json.loads(line)
            break
        except ValueError:
            continue
    base = None
    if out is not None:
        base = out.pop("t0", None)
    if base is None:
        m = re.search(r"^T0 ([0-9.]+)$", res.get("stderr") or "", re.M)
        base = float(m.group(1)) if m else lab.t_start
    gai_ms = out.pop("duration_ms", None) if out is not None else None
    if gai_ms is not None:
        gai_ms = round(gai_ms, 1)
    stderr = "\n".join(l for l in (res.get("stderr") or "").splitlines() if not l.startswith("T0 "))
    value = {"scenario": desc, "result": out, "duration_ms": gai_ms, "queries": lab.queries(base),
             "child": {"status": res["status"], "exit_code": res["exit_code"], "signal": res["signal"],
                       "signal_name": res.get("signal_name"), "stderr": stderr[-2000:],
                       "wall_ms": round(res["duration_ms"], 1)}}
    if problems:
        value["problems"] = problems
    if desc.get("flags") and "AI_ADDRCONFIG" in desc["flags"]:
        value["interfaces"] = _interfaces()
    try:
        says = _says(value)
    except Exception as e:  # words are a courtesy: the observation is kept without them
        _mc_sys.stderr.write("dnslab: no words for %s: %r\n" % (check, e))
        says = None
    words = {"about": desc.get("title") or desc.get("description"), "says": says}
    if res["status"] == "ok" and out is not None:
        emit(check, "ok", value=value, duration_ms=wall_ms, **words)
    elif res["status"] == "timeout":
        if gai_ms is None:
            value["duration_ms"] = round((time.monotonic() - wall0) * 1000.0, 1)
        emit(check, "timeout", value=value, duration_ms=wall_ms, about=words["about"],
             message="getaddrinfo did not return within %.0f s" % p["timeout"])
    elif res["status"] == "crash":
        value["signal"] = res["signal"]
        emit(check, "crash", value=value, duration_ms=wall_ms, about=words["about"],
             message="getaddrinfo child died by %s" % res.get("signal_name"))
    else:
        emit(check, "error", value=value, duration_ms=wall_ms, about=words["about"],
             message="getaddrinfo child failed (exit %s): %s" % (res["exit_code"], stderr[-500:]))


def _read(path, limit=4000):
    try:
        with open(path) as f:
            return f.read()[:limit]
    except OSError as e:
        return None if isinstance(e, FileNotFoundError) else "<%s>" % e


def _interfaces():
    try:
        names = sorted(os.listdir("/sys/class/net"))
    except OSError:
        names = []
    inet6 = _read("/proc/net/if_inet6")
    return {"interfaces": names,
            "ipv6_addresses": [l.split()[0] for l in (inet6 or "").splitlines() if l.strip()],
            "disable_ipv6": (_read("/proc/sys/net/ipv6/conf/all/disable_ipv6") or "").strip() or None}


def sandbox_info():
    info = {"uid": os.getuid(), "euid": os.geteuid()}
    status = _read("/proc/self/status") or ""
    for key in ("CapEff", "CapPrm", "NoNewPrivs"):
        m = re.search(r"^%s:\s*(\S+)" % key, status, re.M)
        info[key] = m.group(1) if m else None
    info["ip_unprivileged_port_start"] = (_read("/proc/sys/net/ipv4/ip_unprivileged_port_start") or "").strip() or None
    info.update(_interfaces())
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.2", DNS_PORT))
            info["bind_53"] = "ok"
        finally:
            s.close()
    except OSError as e:
        info["bind_53"] = str(e)
    info["files"] = {}
    for key, path in sorted(ETC.items()):
        info["files"][path] = {"content": _read(path), "writable": os.access(path, os.W_OK) if os.path.exists(path)
                               else os.access(os.path.dirname(path), os.W_OK)}
    try:
        mounts = _read("/proc/self/mounts", 20000) or ""
        info["etc_mounts"] = [l for l in mounts.splitlines() if " /etc/" in l or " / " in l]
    except Exception:
        pass
    return info


def select_builtins(wanted):
    if wanted is None:
        return list(BUILTINS), []
    chosen, unknown = [], []
    ids = [b["id"] for b in BUILTINS]
    for w in wanted:
        w = str(w)
        exact = [b for b in BUILTINS if b["id"].lower() == w.lower()]
        hits = exact or [b for b in BUILTINS if b["id"].lower().startswith(w.lower())]
        if not hits:
            unknown.append(w)
        for b in hits:
            if b not in chosen:
                chosen.append(b)
    chosen.sort(key=lambda b: ids.index(b["id"]))
    return chosen, unknown


def main():
    cfg = mc_config()
    if not isinstance(cfg, dict):
        emit("dns", "error", message="config must be a JSON object")
        return
    for k in STRIP_ENV:
        os.environ.pop(k, None)
    emit("libc", value=detect_libc())
    if cfg.get("list"):
        emit("dns.list", value=BUILTINS)
        mc_end(2)
        return
    if cfg.get("schema") is not None:
        emit("dns.schema", value=enforced(cfg["schema"]))
        mc_end(2)
        return
    emit("dns.sandbox", value=sandbox_info())
    default_timeout = float(cfg.get("timeout_s", 25))
    custom = cfg.get("custom")
    if cfg.get("custom_file"):
        with open(cfg["custom_file"]) as f:
            custom = json.load(f)
    if custom is not None and not isinstance(custom, list):
        custom = [custom]
    plan = []
    planned = 2  # libc, dns.sandbox
    if custom is None or "scenarios" in cfg:
        chosen, unknown = select_builtins(cfg.get("scenarios"))
        planned += len(unknown)
        for u in unknown:
            emit("dns." + re.sub(r"[^A-Za-z0-9_.-]", "_", u)[:64], "skipped",
                 message="no built-in scenario %r (known: %s)" % (u, ", ".join(b["id"] for b in BUILTINS)))
        plan += chosen
    plan += custom or []
    files = EtcFiles()
    for sc in plan:
        try:
            run_scenario(sc, default_timeout, files)
        except Exception:
            files.restore()
            emit("dns." + _scenario_id(sc), "error", message="lab failure: %s" % traceback.format_exc()[-3000:])
    mc_end(planned + len(plan))


try:
    main()
except Exception:
    emit("dns", "error", message="probe failure: %s" % traceback.format_exc()[-3000:])
