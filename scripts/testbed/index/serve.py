#!/usr/bin/env python3
"""A local package index for the test suite: serves a directory of distribution files over
HTTPS as a PEP 503 simple index (HTML) and PEP 691 (JSON), listing the directory on every
request, so a file dropped into it is served at once (a new "upstream release").

Usage: serve.py --dir WHEELHOUSE --cert server.pem --key server.key --host ADDR --port N
Stdlib only.
"""
import argparse
import hashlib
import html
import http.server
import json
import os
import re
import ssl
import sys
import urllib.parse

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    """The normalised project name of a wheel or sdist file name."""
    if filename.endswith(".whl"):
        return normalise(filename.split("-")[0])
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            return normalise(stem.rsplit("-", 1)[0])
    return None


_digests = {}


def sha256_of(path):
    st = os.stat(path)
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _digests[key] = h.hexdigest()
    return _digests[key]


class Index(http.server.BaseHTTPRequestHandler):
    directory = "."

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def files(self):
        out = {}
        for name in sorted(os.listdir(self.directory)):
            p = project_of(name)
            if p and os.path.isfile(os.path.join(self.directory, name)):
                out.setdefault(p, []).append(name)
        return out

    def send(self, code, body, ctype):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        wants_json = JSON_TYPE in (self.headers.get("Accept") or "")
        parts = [p for p in path.split("/") if p]
        projects = self.files()
        if parts == ["simple"]:
            if wants_json:
                body = {"meta": {"api-version": "1.0"}, "projects": [{"name": p} for p in projects]}
                return self.send(200, json.dumps(body), JSON_TYPE)
            links = "".join('<a href="%s/">%s</a>\n' % (p, p) for p in projects)
            return self.send(200, "<!DOCTYPE html><html><body>\n%s</body></html>\n" % links, "text/html")
        if len(parts) == 2 and parts[0] == "simple":
            name = normalise(parts[1])
            if name != parts[1]:
                self.send_response(301)
                self.send_header("Location", "/simple/%s/" % name)
                self.end_headers()
                return
            files = projects.get(name)
            if not files:
                return self.send(404, "no such project\n", "text/plain")
            entries = [(f, sha256_of(os.path.join(self.directory, f))) for f in files]
            if wants_json:
                body = {
                    "meta": {"api-version": "1.0", "_last-serial": len(files)},
                    "name": name,
                    "files": [{"filename": f, "url": "/files/%s" % f, "hashes": {"sha256": d}} for f, d in entries],
                }
                return self.send(200, json.dumps(body), JSON_TYPE)
            links = "".join('<a href="/files/%s#sha256=%s">%s</a>\n' % (html.escape(f), d, html.escape(f)) for f, d in entries)
            return self.send(200, "<!DOCTYPE html><html><body>\n%s</body></html>\n" % links, "text/html")
        if len(parts) == 2 and parts[0] == "files" and "/" not in parts[1] and not parts[1].startswith("."):
            p = os.path.join(self.directory, parts[1])
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    return self.send(200, f.read(), "application/octet-stream")
        return self.send(404, "not found\n", "text/plain")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=5443)
    a = ap.parse_args()
    Index.directory = a.dir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv = http.server.ThreadingHTTPServer((a.host, a.port), Index)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("serving %s on https://%s:%d/simple/" % (a.dir, a.host, a.port), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
