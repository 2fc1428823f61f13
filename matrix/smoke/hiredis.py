# Smoke test for hiredis (C RESP parser): feed replies to hiredis.Reader, whole and byte by byte,
# and check the parsed values. No Redis server is involved. Exits non-zero on a wrong result.
import hiredis

payload = (b"*5\r\n$3\r\nfoo\r\n:42\r\n*2\r\n$3\r\nbar\r\n+OK\r\n$-1\r\n"
           b"$12\r\nhello\r\nworld\r\n")
expected = [b"foo", 42, [b"bar", b"OK"], None, b"hello\r\nworld"]

r = hiredis.Reader()
r.feed(payload)
assert r.gets() == expected, "whole feed"
assert r.gets() is False  # nothing buffered

# byte by byte: incomplete input must give False until the reply is complete
r = hiredis.Reader()
got = None
for i in range(len(payload)):
    r.feed(payload[i:i + 1])
    out = r.gets()
    if i < len(payload) - 1:
        assert out is False, (i, out)
    else:
        got = out
assert got == expected, got

# error replies become ReplyError instances; decoding to str
r = hiredis.Reader(encoding="utf-8")
r.feed(b"-ERR unknown command\r\n*2\r\n$5\r\n\xc3\xa9t\xc3\xa9\r\n:-7\r\n")
err = r.gets()
assert isinstance(err, hiredis.ReplyError) and str(err) == "ERR unknown command", repr(err)
assert r.gets() == ["\u00e9t\u00e9", -7]

# a malformed stream raises ProtocolError
r = hiredis.Reader()
r.feed(b"?bogus\r\n")
try:
    r.gets()
    raise AssertionError("malformed reply was accepted")
except hiredis.ProtocolError:
    pass

print("hiredis %s ok: nested array, nil, binary bulk, byte-wise feed, error and protocol error"
      % hiredis.__version__)
