#!/usr/bin/python3
"""A proxy in front of s3rver that does what s3rver does not: verify AWS Signature Version 4.

Every request's signature is recomputed with botocore (AWS's own signing code) from the headers
the client says it signed, and its x-amz-content-sha256 is checked against the body it sent.
A mismatch gets S3's 403 SignatureDoesNotMatch (or 400 XAmzContentSHA256Mismatch) and never
reaches s3rver; a good request is forwarded unchanged. GET /__proxy/stats counts both.

usage: sigv4_proxy.py UPSTREAM_PORT ACCESS_KEY SECRET_KEY REGION   (prints the port it listens on)
"""
import hashlib
import http.client
import http.server
import json
import re
import sys
import threading
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

UPSTREAM_PORT, ACCESS_KEY, SECRET_KEY, REGION = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
    r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$")
STATS = {"verified": 0, "refused": 0}
LOCK = threading.Lock()


def count(key):
    with LOCK:
        STATS[key] += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # also answers Expect: 100-continue

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def s3_error(self, status, code):
        count("refused")
        self.reply(status, f"<?xml version=\"1.0\"?><Error><Code>{code}</Code></Error>")

    def problem(self, body):
        """Why the request is not correctly signed, or None."""
        m = AUTH_RE.match(self.headers.get("Authorization", ""))
        if not m:
            return 403, "AccessDenied"
        key, date, region, signed, signature = m.groups()
        if key != ACCESS_KEY or region != REGION:
            return 403, "InvalidAccessKeyId"
        stamp = self.headers.get("X-Amz-Date", "")
        if not stamp.startswith(date):
            return 403, "SignatureDoesNotMatch"
        payload = self.headers.get("X-Amz-Content-SHA256")
        if payload is None:
            return 400, "MissingContentSHA256"
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            return 400, "XAmzContentSHA256Mismatch"
        headers = {}
        for name in signed.split(";"):
            value = self.headers.get(name)
            if value is None:
                return 403, "SignatureDoesNotMatch"
            headers[name] = value
        # botocore percent-encodes the path itself: give it the path as the client meant it.
        path, _, query = self.path.partition("?")
        url = "http://" + self.headers["Host"] + urllib.parse.unquote(path) + ("?" + query if query else "")
        request = AWSRequest(method=self.command, url=url,
                             headers=headers, data=body)
        request.context["timestamp"] = stamp
        auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)),
                                  request)
        return None if expected == signature else (403, "SignatureDoesNotMatch")

    def handle_any(self):
        if self.path == "/__proxy/stats":
            with LOCK:
                return self.reply(200, json.dumps(STATS), "application/json")
        length = int(self.headers.get("Content-Length", "0") or "0")
        body = self.rfile.read(length) if length else b""
        bad = self.problem(body)
        if bad:
            return self.s3_error(*bad)
        count("verified")
        upstream = http.client.HTTPConnection("127.0.0.1", int(UPSTREAM_PORT), timeout=30)
        forward = {k: v for k, v in self.headers.items() if k.lower() not in ("expect", "connection")}
        upstream.request(self.command, self.path, body=body, headers=forward)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for k, v in answer.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
