# Smoke test for grpcio (C core): an in-process server on 127.0.0.1 with generic handlers and raw
# bytes (no protobuf), a client making unary-unary and unary-stream calls and receiving an error
# status, then a clean shutdown. Only loopback is used. Exits non-zero on a wrong result.
from concurrent import futures

import grpc


def reverse(request, context):
    return b"echo:" + request[::-1]


def count(request, context):
    for i in range(int(request)):
        yield str(i).encode()


def fail(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing: " + request.decode())


handlers = grpc.method_handlers_generic_handler("muslcheck.Smoke", {
    "Reverse": grpc.unary_unary_rpc_method_handler(reverse),
    "Count": grpc.unary_stream_rpc_method_handler(count),
    "Fail": grpc.unary_unary_rpc_method_handler(fail),
})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((handlers,))
port = server.add_insecure_port("127.0.0.1:0")
assert port > 0, port
server.start()
try:
    with grpc.insecure_channel("127.0.0.1:%d" % port) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        rev = channel.unary_unary("/muslcheck.Smoke/Reverse")
        assert rev(b"hello", timeout=10) == b"echo:olleh"
        replies = [rev(b"%d" % i, timeout=10) for i in range(50)]
        assert replies == [b"echo:" + (b"%d" % i)[::-1] for i in range(50)]
        stream = channel.unary_stream("/muslcheck.Smoke/Count")
        assert list(stream(b"5", timeout=10)) == [b"0", b"1", b"2", b"3", b"4"]
        try:
            channel.unary_unary("/muslcheck.Smoke/Fail")(b"x", timeout=10)
            raise AssertionError("an aborted call returned a value")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND, e.code()
            assert e.details() == "no such thing: x", e.details()
finally:
    stopped = server.stop(grace=None)
assert stopped.wait(timeout=10), "server did not stop"
print("grpcio %s ok: unary x51, server stream, abort status, shutdown (port %d)"
      % (grpc.__version__, port))
