#!/usr/bin/env python3
"""A stand-in HDFS NameNode for trying examples/mapreduce without Hadoop.

It answers the WebHDFS calls Locus and the example driver make (GETFILESTATUS, LISTSTATUS,
GETFILEBLOCKLOCATIONS, and OPEN for --read webhdfs, redirected to itself as a NameNode
redirects to a DataNode) for the files under --root, with Hadoop's JSON. HDFS path P is the local
path P, so map tasks of an emulated cluster (every node on this machine) can read the files
directly. Blocks are --block-size bytes; each block's replicas go to --replication of --hosts,
placed round-robin. Everything else gets WebHDFS's 404.

  python3 examples/mapreduce/stand_in_namenode.py --root /tmp/mr-demo --hosts n1,n2,n3,n4 --port 9870
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="serve the files under this local directory")
    p.add_argument("--hosts", required=True, help="DataNode hosts, comma-separated (Locus node names work)")
    p.add_argument("--port", type=int, default=9870)
    p.add_argument("--block-size", type=int, default=64 * 1024)
    p.add_argument("--replication", type=int, default=3)
    args = p.parse_args()
    root = os.path.realpath(args.root)
    hosts = [h for h in args.hosts.split(",") if h]
    replication = max(1, min(args.replication, len(hosts)))

    def status(path, suffix=""):
        st = os.stat(path)
        is_dir = os.path.isdir(path)
        return {"pathSuffix": suffix, "type": "DIRECTORY" if is_dir else "FILE",
                "length": 0 if is_dir else st.st_size, "blockSize": args.block_size,
                "replication": replication, "permission": "644", "owner": "hdfs", "group": "hdfs",
                "accessTime": 0, "modificationTime": int(st.st_mtime * 1000), "fileId": st.st_ino,
                "childrenNum": len(os.listdir(path)) if is_dir else 0}

    def blocks(path):
        size = os.path.getsize(path)
        seed = sum(path.encode())  # a stable, file-dependent first replica
        out = []
        for i, offset in enumerate(range(0, size, args.block_size)):
            first = (seed + i) % len(hosts)
            replicas = [hosts[(first + r) % len(hosts)] for r in range(replication)]
            out.append({"offset": offset, "length": min(args.block_size, size - offset), "hosts": replicas,
                        "names": [], "topologyPaths": [], "cachedHosts": [], "corrupt": False,
                        "storageTypes": ["DISK"] * replication})
        return out

    class Handler(BaseHTTPRequestHandler):
        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def not_found(self, path):
            self.reply(404, {"RemoteException": {"exception": "FileNotFoundException",
                                                 "javaClassName": "java.io.FileNotFoundException",
                                                 "message": "File does not exist: " + path}})

        def do_GET(self):
            url = urlparse(self.path)
            if not url.path.startswith("/webhdfs/v1/"):
                return self.not_found(url.path)
            path = os.path.normpath(unquote(url.path[len("/webhdfs/v1"):]))
            op = parse_qs(url.query).get("op", [""])[0].upper()
            inside = path == root or path.startswith(root + os.sep)
            if not inside or not os.path.exists(path):
                return self.not_found(path)
            if op == "GETFILESTATUS":
                return self.reply(200, {"FileStatus": status(path)})
            if op == "LISTSTATUS":
                if not os.path.isdir(path):
                    return self.reply(200, {"FileStatuses": {"FileStatus": [status(path)]}})
                entries = [status(os.path.join(path, n), n) for n in sorted(os.listdir(path))
                           if not os.path.islink(os.path.join(path, n))]
                return self.reply(200, {"FileStatuses": {"FileStatus": entries}})
            if op == "GETFILEBLOCKLOCATIONS" and os.path.isfile(path):
                return self.reply(200, {"BlockLocations": {"BlockLocation": blocks(path)}})
            if op == "OPEN" and os.path.isfile(path):
                # A NameNode redirects a read to a DataNode; the stand-in is both.
                q = parse_qs(url.query)
                if "datanode" not in q:
                    self.send_response(307)
                    self.send_header("Location", self.path + "&datanode=true")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                offset = int(q.get("offset", ["0"])[0])
                with open(path, "rb") as f:
                    f.seek(offset)
                    length = int(q["length"][0]) if "length" in q else -1
                    data = f.read(length)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.reply(400, {"RemoteException": {"exception": "IllegalArgumentException",
                                                 "javaClassName": "java.lang.IllegalArgumentException",
                                                 "message": "unsupported op " + op}})

        def log_message(self, fmt, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"stand-in NameNode: http://127.0.0.1:{server.server_port} serving {root}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
