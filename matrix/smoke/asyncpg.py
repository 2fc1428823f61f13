# Smoke test for asyncpg (Cython protocol + codecs). There is no PostgreSQL server in the probe
# container (and no network), so this script starts a tiny FAKE server on 127.0.0.1 that speaks
# just enough of the PostgreSQL v3 wire protocol: startup without authentication, then the
# extended query protocol (Parse/Describe/Bind/Execute/Sync). For a query such as
# "SELECT $1::int8, $2::text" it declares the parameter and result types from the casts and
# returns, as the single row, the exact parameter bytes the client sent.
#
# What this exercises for real: asyncpg's C protocol parser and buffers (asyncpg.protocol.protocol,
# asyncpg.pgproto.pgproto), the binary ENCODERS of each type (Python value -> wire) and the binary
# DECODERS (wire -> Python value), Record access, and asyncio sockets. What it does NOT exercise:
# a real server's behaviour, authentication (SCRAM, TLS), type introspection, COPY, pools.
# Exits non-zero on a wrong result.
import asyncio
import datetime
import decimal
import re
import struct
import uuid

import asyncpg
from asyncpg.pgproto import pgproto  # C extension: UUID and the codec buffers

TYPES = {  # name -> (oid, typlen)
    "bool": (16, 1), "bytea": (17, -1), "int8": (20, 8), "int2": (21, 2), "int4": (23, 4),
    "text": (25, -1), "float8": (701, 8), "date": (1082, 4), "timestamptz": (1184, 8),
    "interval": (1186, 16), "numeric": (1700, -1), "uuid": (2950, 16), "jsonb": (3802, -1),
    "text[]": (1009, -1),
}
CAST = re.compile(r"\$(\d+)::([a-z0-9]+(?:\[\])?)")


def msg(kind, body=b""):
    return kind + struct.pack("!i", len(body) + 4) + body


def cstr(buf, pos):
    end = buf.index(b"\x00", pos)
    return buf[pos:end].decode(), end + 1


class FakePostgres:
    def __init__(self):
        self.seen = []  # message kinds received, for the final check

    async def handle(self, reader, writer):
        try:
            await self.session(reader, writer)
        finally:
            writer.close()

    async def session(self, reader, writer):
        while True:  # SSLRequest / GSSENCRequest are refused, then the real startup packet
            n = struct.unpack("!i", await reader.readexactly(4))[0]
            body = await reader.readexactly(n - 4)
            code = struct.unpack("!i", body[:4])[0]
            if code in (80877103, 80877104):
                writer.write(b"N")
                continue
            assert code == 196608, "protocol version %d" % code
            break
        out = msg(b"R", struct.pack("!i", 0))  # AuthenticationOk
        for k, v in (("server_version", "16.4"), ("server_encoding", "UTF8"),
                     ("client_encoding", "UTF8"), ("DateStyle", "ISO, MDY"),
                     ("integer_datetimes", "on"), ("TimeZone", "UTC"),
                     ("standard_conforming_strings", "on")):
            out += msg(b"S", k.encode() + b"\x00" + v.encode() + b"\x00")
        out += msg(b"K", struct.pack("!ii", 4242, 1234)) + msg(b"Z", b"I")
        writer.write(out)
        stmts, portals = {}, {}
        while True:
            kind = await reader.readexactly(1)
            n = struct.unpack("!i", await reader.readexactly(4))[0]
            body = await reader.readexactly(n - 4)
            self.seen.append(kind.decode())
            if kind == b"X":
                return
            if kind == b"P":
                name, p = cstr(body, 0)
                query, p = cstr(body, p)
                casts = sorted((int(i), t) for i, t in CAST.findall(query))
                if not query.startswith("SELECT") or not casts or \
                        any(t not in TYPES for _, t in casts):
                    writer.write(msg(b"E", b"SERROR\x00C0A000\x00Mfake server cannot run: "
                                     + query.encode()[:200] + b"\x00\x00"))
                    continue
                stmts[name] = [TYPES[t] for _, t in casts]
                writer.write(msg(b"1"))
            elif kind == b"D":
                what, p = body[:1], 1
                name, p = cstr(body, p)
                types = stmts[name] if what == b"S" else portals[name][0]
                if what == b"S":
                    writer.write(msg(b"t", struct.pack("!h", len(types))
                                     + b"".join(struct.pack("!i", o) for o, _ in types)))
                fields = b"".join(("c%d" % (i + 1)).encode() + b"\x00"
                                  + struct.pack("!ihihih", 0, 0, o, ln, -1, 0)
                                  for i, (o, ln) in enumerate(types))
                writer.write(msg(b"T", struct.pack("!h", len(types)) + fields))
            elif kind == b"B":
                portal, p = cstr(body, 0)
                stmt, p = cstr(body, p)
                nf = struct.unpack_from("!h", body, p)[0]
                fmts = struct.unpack_from("!%dh" % nf, body, p + 2)
                p += 2 + 2 * nf
                nv = struct.unpack_from("!h", body, p)[0]
                p += 2
                vals = []
                for _ in range(nv):
                    ln = struct.unpack_from("!i", body, p)[0]
                    p += 4
                    vals.append(None if ln < 0 else body[p:p + ln])
                    p += max(ln, 0)
                nr = struct.unpack_from("!h", body, p)[0]
                rfmts = struct.unpack_from("!%dh" % nr, body, p + 2)
                # echoing bytes is only valid when each value comes back in the format it came in
                pf = [fmts[0] if len(fmts) == 1 else (fmts[i] if fmts else 0) for i in range(nv)]
                rf = [rfmts[0] if len(rfmts) == 1 else (rfmts[i] if rfmts else 0) for i in range(nv)]
                assert pf == rf, (pf, rf)
                portals[portal] = (stmts[stmt], vals, pf)
                writer.write(msg(b"2"))
            elif kind == b"E":
                portal, _ = cstr(body, 0)
                _types, vals, _fmts = portals[portal]
                row = struct.pack("!h", len(vals)) + b"".join(
                    struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
                    for v in vals)
                writer.write(msg(b"D", row) + msg(b"C", b"SELECT 1\x00"))
            elif kind == b"C":
                writer.write(msg(b"3"))
            elif kind == b"S":
                writer.write(msg(b"Z", b"I"))
            elif kind == b"H":
                pass
            else:
                writer.write(msg(b"E", b"SERROR\x00C0A000\x00Munsupported message\x00\x00"))
            await writer.drain()


async def main():
    fake = FakePostgres()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        conn = await asyncpg.connect(host="127.0.0.1", port=port, user="muslcheck",
                                     database="muslcheck", ssl=False, timeout=10)
        try:
            u = uuid.UUID("12345678-1234-5678-1234-567812345678")
            ts = datetime.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=datetime.timezone.utc)
            values = [
                ("int8", -9007199254740993),
                ("int4", 2147483647),
                ("int2", -32768),
                ("text", "h\u00e9llo \U0001F600"),
                ("float8", 0.1 + 0.2),
                ("bool", True),
                ("bytea", bytes(range(256))),
                ("numeric", decimal.Decimal("-12345678901234567890.000123456789")),
                ("uuid", u),
                ("date", datetime.date(1999, 12, 31)),
                ("timestamptz", ts),
                ("interval", datetime.timedelta(days=3, seconds=7, microseconds=11)),
                ("jsonb", '{"a": [1, 2.5, null]}'),
                ("text[]", ["x", None, "y z"]),
            ]
            query = "SELECT " + ", ".join("$%d::%s" % (i + 1, t) for i, (t, _) in enumerate(values))
            row = await conn.fetchrow(query, *[v for _, v in values])
            assert len(row) == len(values), len(row)
            for i, (t, v) in enumerate(values):
                got = row[i]
                if t == "uuid":
                    assert isinstance(got, pgproto.UUID) and str(got) == str(v), (t, got)
                    assert got == v and hash(got) == hash(v), (t, got)
                elif t == "jsonb":
                    assert got == v, (t, got)
                else:
                    assert got == v and type(got) is type(v), (t, v, got)
            assert row["c1"] == values[0][1] and list(row.keys())[:2] == ["c1", "c2"]
            assert dict(row.items())["c4"] == values[3][1]
            assert isinstance(row, asyncpg.Record)
            # a NULL and a second statement through the same connection (statement cache)
            for _ in range(3):
                r2 = await conn.fetchrow("SELECT $1::int4, $2::text", None, "again")
                assert r2[0] is None and r2[1] == "again", r2
            # a value the encoder must reject, before anything is sent
            try:
                await conn.fetchrow("SELECT $1::int2", 70000)
                raise AssertionError("int2 accepted 70000")
            except (asyncpg.DataError, OverflowError):
                pass
        finally:
            await conn.close(timeout=10)
    finally:
        server.close()
        await server.wait_closed()
    assert "X" in fake.seen and "B" in fake.seen, fake.seen
    return len(values)


n = asyncio.run(asyncio.wait_for(main(), 60))
print("asyncpg %s ok: %d types encoded+decoded through the C codecs against a fake server"
      % (asyncpg.__version__, n))
