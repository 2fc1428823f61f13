# dnslab, third part: the scripted server (DnsLab): a UDP and a TCP server on each address, every
# query logged with its time, answered by the first fault that matches it (zone.py) or from the
# zone. Runs after wire.py and zone.py.

DNS_PORT = 53
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux asm-generic value


class DnsLab(object):
    def __init__(self, zone, faults, servers, udp_max=512, port=DNS_PORT):
        self.zone = zone
        self.faults = faults
        self.servers = list(servers)
        self.udp_max = int(udp_max)
        self.port = port
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.log = []
        self.socks = []
        self.threads = []
        self.timers = []
        self.port_last = {}
        self.t_start = time.monotonic()
        m1 = time.monotonic()
        real = time.time()
        self.clock_offset = real - (m1 + time.monotonic()) / 2.0  # CLOCK_REALTIME - CLOCK_MONOTONIC

    # -- lifecycle --
    def start(self):
        try:
            for addr in self.servers:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self.socks.append(u)
                u.bind((addr, self.port))
                u.settimeout(0.05)
                try:  # kernel receive time: a query queued behind another is not logged late
                    u.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                except OSError:
                    pass
                t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                self.socks.append(t)
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                t.bind((addr, self.port))
                t.listen(16)
                t.settimeout(0.05)
                self._thread(self._udp_loop, u, addr)
                self._thread(self._tcp_accept, t, addr)
        except OSError as e:
            self.stop()
            raise LabError("cannot listen on %s:%d: %s" % (addr, self.port, e))
        self.t_start = time.monotonic()

    def _thread(self, fn, *args):
        th = threading.Thread(target=fn, args=args)
        th.daemon = True
        th.start()
        self.threads.append(th)

    def stop(self):
        self.stop_ev.set()
        with self.lock:
            for tm in self.timers:
                tm.cancel()
        for th in list(self.threads):
            th.join(2.0)
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass

    # -- transports --
    def _udp_loop(self, sock, addr):
        while not self.stop_ev.is_set():
            try:
                data, anc, _flags, peer = sock.recvmsg(65535, socket.CMSG_SPACE(16))
            except socket.timeout:
                continue
            except OSError:
                if self.stop_ev.is_set():
                    break
                continue
            t = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(cdata) >= 16:
                    sec, nsec = struct.unpack("@qq", cdata[:16])
                    t = sec + nsec / 1e9 - self.clock_offset
            now = time.monotonic()
            if t is None or t > now or t < now - 5:
                t = now

            def send(reply, sock=sock, peer=peer):
                sock.sendto(reply, peer)
            self._handle(data, addr, "udp", peer, send, t)

    def _tcp_accept(self, sock, addr):
        while not self.stop_ev.is_set():
            try:
                conn, peer = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stop_ev.is_set():
                    break
                continue
            self.socks.append(conn)
            self._thread(self._tcp_conn, conn, addr, peer)

    def _tcp_conn(self, conn, addr, peer):
        conn.settimeout(0.05)
        wlock = threading.Lock()
        buf = b""

        def send(reply):
            with wlock:
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        while not self.stop_ev.is_set():
            try:
                chunk = conn.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 2:
                n = struct.unpack("!H", buf[:2])[0]
                if len(buf) < 2 + n:
                    break
                msg, buf = buf[2:2 + n], buf[2 + n:]
                self._handle(msg, addr, "tcp", peer, send)
        try:
            conn.close()
        except OSError:
            pass

    # -- the script --
    def _handle(self, data, server, transport, peer, send, t=None):
        if t is None:
            t = time.monotonic()
        entry = {"t": t, "server": server, "sport": peer[1], "transport": transport}
        try:
            q = parse_query(data)
        except (ValueError, struct.error) as e:
            entry.update({"action": "malformed: %s" % e, "bytes_in": len(data)})
            with self.lock:
                self.log.append(entry)
            return
        entry.update({"id": q["id"], "name": q["qname"], "type": _qtype_name(q["qtype"]),
                      "edns": q["edns"]})
        with self.lock:
            self.log.append(entry)
            try:
                reply, delay = self._decide(q, server, transport, peer[1], t, entry)
            except Exception as e:  # a zone/fault we could not encode: say so, answer nothing
                entry["action"] = "lab error: %s" % e
                reply, delay = None, 0
            if reply is None:
                return
            if delay > 0:
                tm = threading.Timer(delay / 1000.0, self._send, (send, reply, entry))
                tm.daemon = True
                self.timers.append(tm)
                tm.start()
                return
        self._send(send, reply, entry)

    def _send(self, send, reply, entry):
        if self.stop_ev.is_set():
            entry["reply_t"] = None
            entry["note"] = "reply not sent: the lookup was over"
            return
        try:
            send(reply)
            entry["reply_t"] = time.monotonic()
        except OSError as e:
            entry["reply_t"] = None
            entry["note"] = "reply not sent: %s" % e

    def _decide(self, q, server, transport, sport, t, entry):
        fault = None
        for f in self.faults:
            if not f.filters_match(server, q["qname"], q["qtype"], transport):
                continue
            f.count += 1
            if f.nth is not None and f.count not in f.nth:
                continue
            fault = f
            break
        entry["fault"] = fault.index if fault else None
        action = fault.action if fault else "answer"
        delay = fault.ms if fault else 0.0
        if action == "delay":
            action = fault.then
        if action == "first_per_port":
            key = (server, transport, sport)
            last = self.port_last.get(key)
            self.port_last[key] = t
            if last is not None and (fault.window_ms is None or (t - last) * 1000.0 <= float(fault.window_ms)):
                action = "drop"
                entry["note"] = "not the first query from this source port"
            else:
                action = fault.then
        entry["delay_ms"] = delay
        if q["opcode"] != 0:
            action, delay = "notimp", 0.0
        if action == "drop":
            entry["action"] = "dropped"
            return None, 0
        limit = None
        if transport == "udp":
            limit = q["edns"] if (q["edns"] or 0) > 512 else self.udp_max
        keep = None
        if action in ("answer", "truncate"):
            if fault is not None and fault.records is not None:
                answers = _fault_answers(fault.records, q["qname"])
                rcode = fault.rcode
            else:
                rcode, answers = self.zone.lookup(q["qname"], q["qtype"], server)
            if action == "truncate" and transport == "udp" and fault.keep != "fit":
                keep = int(fault.keep)
                limit = None
            forced_tc = action == "truncate" and transport == "udp"
        else:
            rcode = fault.rcode if action == "rcode" else ACTION_RCODES[action]
            answers, forced_tc = [], False
        reply, n, tc = build_reply(q, rcode, answers, tc=forced_tc, limit=limit, keep=keep)
        # label: records of the asked type, CNAMEs leading to them counted apart
        cn_all = sum(1 for a in answers if a[1] == 5) if q["qtype"] not in (5, 255) else 0
        cn = sum(1 for a in answers[:n] if a[1] == 5) if q["qtype"] not in (5, 255) else 0
        via = " via %d CNAME" % cn if cn else ""
        if tc:
            entry["action"] = "truncated %d/%d%s" % (n - cn, len(answers) - cn_all, via)
        elif rcode == 0 and n == cn:
            entry["action"] = "nodata" + via
        elif rcode == 0:
            entry["action"] = "answer %d%s" % (n - cn, via)
        else:
            entry["action"] = RCODE_NAMES.get(rcode, "rcode %d" % rcode) + via
        entry.update({"rcode": RCODE_NAMES.get(rcode, rcode), "answers": n, "tc": tc,
                      "bytes": len(reply)})
        return reply, delay

    def queries(self, base):
        out = []
        with self.lock:
            log = list(self.log)
        for e in log:
            d = dict(e)
            d["t_ms"] = round((d.pop("t") - base) * 1000.0, 2)
            if "reply_t" in d:
                rt = d.pop("reply_t")
                d["reply_t_ms"] = None if rt is None else round((rt - base) * 1000.0, 2)
            elif "action" in d and d["action"] != "dropped" and not d["action"].startswith(("malformed", "lab error")):
                d["reply_t_ms"] = None
                d.setdefault("note", "reply not sent: the lookup was over")
            out.append(d)
        out.sort(key=lambda d: d["t_ms"])  # UDP entries carry kernel receive times
        return out

