#!/usr/bin/env python3
"""Fills the local index's wheelhouse with the files files.txt names, from PyPI's simple API
(PEP 691 JSON), each checked against the SHA-256 PyPI lists. Files already present with the right digest are
not fetched again. Usage: fetch.py FILES_TXT WHEELHOUSE [CA_BUNDLE]. Stdlib only."""
import fnmatch
import hashlib
import json
import os
import ssl
import sys
import urllib.request


def main():
    spec, dest = sys.argv[1], sys.argv[2]
    ca = sys.argv[3] if len(sys.argv) > 3 else None
    ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    os.makedirs(dest, exist_ok=True)
    base = os.environ.get("MUSLCHECK_UPSTREAM_INDEX", "https://pypi.org/simple")
    for line in open(spec):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        project, version, pattern = line.split()
        req = urllib.request.Request("%s/%s/" % (base, project), headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
            urls = json.load(r)["files"]
        matched = [u for u in urls if fnmatch.fnmatch(u["filename"], pattern) and "-%s-" % version in u["filename"]]
        if not matched:
            sys.exit("index files: no file of %s %s matches %s" % (project, version, pattern))
        u = matched[0]
        path = os.path.join(dest, u["filename"])
        want = u["hashes"]["sha256"]
        if os.path.exists(path) and hashlib.sha256(open(path, "rb").read()).hexdigest() == want:
            continue
        with urllib.request.urlopen(u["url"], context=ctx, timeout=120) as r:
            data = r.read()
        got = hashlib.sha256(data).hexdigest()
        if got != want:
            sys.exit("index files: %s has sha256 %s, PyPI lists %s" % (u["filename"], got, want))
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.replace(path + ".part", path)
        print("index files: fetched %s" % u["filename"])


if __name__ == "__main__":
    main()
