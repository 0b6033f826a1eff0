#!/usr/bin/env python3
"""Batches with a signed webhook, scheduled jobs, periodic schedules and cancellation,
through RipTide's HTTP API (`riptide-dispatcher serve`), with the standard library only.

It starts a webhook receiver that verifies `X-RipTide-Signature` (HMAC-SHA256 with the
workers' `callbacks.secret` over "<timestamp>.<body>", as `t=<timestamp>,v1=<hex>`),
refuses stale timestamps and drops duplicate deliveries by `X-RipTide-Delivery`; then it
submits a batch whose completion is POSTed to that receiver, a job delayed by two seconds,
a job it cancels, and a cron schedule it lists and removes. It exits 0 once the batch's
webhook arrived with a valid signature.

    python3 examples/webhooks.py --api http://127.0.0.1:8080 --secret "$RIPTIDE_CALLBACKS__SECRET"

The receiver listens on --listen (default 127.0.0.1); the dispatcher must accept a
callback there (`RIPTIDE_ALLOW_PRIVATE_CALLBACKS=true` for a receiver on a private
address), and the workers must reach it.
"""
import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Deliveries older than this are refused (replays).
TOLERANCE_SECS = 300


def verify(secret, signature, body):
    """True when `signature` (t=<ts>,v1=<hex>) signs `body` (bytes) with `secret`."""
    try:
        fields = dict(part.split("=", 1) for part in signature.split(","))
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > TOLERANCE_SECS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


class Receiver(ThreadingHTTPServer):
    def __init__(self, address, secret):
        super().__init__(address, Handler)
        self.secret = secret
        self.seen = {}  # delivery id -> event
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not verify(self.server.secret, self.headers.get("X-RipTide-Signature", ""), body):
            self.send_response(401)
            self.end_headers()
            return
        delivery = self.headers.get("X-RipTide-Delivery", "")
        with self.server.arrived:
            if delivery not in self.server.seen:  # a retry of one we have: acknowledge only
                self.server.seen[delivery] = json.loads(body)
                self.server.arrived.notify_all()
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def call(api, method, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        api + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# Identical submissions within `redis.dedup_window_secs` are one job: each run's pages
# are its own.
RUN = f"{time.time_ns():x}"


def page(n):
    return {
        "url": f"https://example.com/{RUN}/batch/{n}",
        "html": f"<html><body><article><p>Batch page {n} with a few words to extract.</p></article></body></html>",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:8080")
    parser.add_argument("--secret", required=True, help="the workers' callbacks.secret")
    parser.add_argument("--listen", default="127.0.0.1", help="the receiver's address")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    receiver = Receiver((args.listen, 0), args.secret)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://{args.listen}:{receiver.server_address[1]}/hook"

    status, created = call(args.api, "POST", "/v1/batches",
                           {"jobs": [page(n) for n in range(3)], "callback_url": hook})
    if status != 202:
        sys.exit(f"batch refused: {status} {created}")
    batch = created["batch"]["id"]
    print(f"batch {batch}: jobs {created['jobs']}")

    status, later = call(args.api, "POST", "/v1/jobs", {"jobs": [dict(page("later"), delay_secs=2)]})
    print(f"scheduled in 2 s: {later['jobs'][0]['id']} ({status})")

    _, doomed = call(args.api, "POST", "/v1/jobs", {"jobs": [dict(page("never"), delay_secs=60)]})
    doomed_id = doomed["jobs"][0]["id"]
    status, cancelled = call(args.api, "DELETE", f"/v1/jobs/{doomed_id}")
    print(f"cancelled {doomed_id}: {status} {cancelled}")
    if status != 200:
        sys.exit("cancel failed")

    status, schedule = call(args.api, "POST", "/v1/schedules", {
        "cron": "0 */6 * * *",
        "target": {"kind": "jobs", "urls": ["https://example.com/feed"]},
    })
    if status != 201:
        sys.exit(f"schedule refused: {status} {schedule}")
    print(f"schedule {schedule['id']}: next run at {schedule['next_run_ms']} ms")
    call(args.api, "DELETE", f"/v1/schedules/{schedule['id']}")

    delivery = f"batch:{batch}:completed"
    with receiver.arrived:
        if not receiver.arrived.wait_for(lambda: delivery in receiver.seen, timeout=args.timeout):
            sys.exit(f"no verified webhook for batch {batch} within {args.timeout} s")
        event = receiver.seen[delivery]
    print(f"webhook verified: {event['event']} counts {event['counts']}")
    receiver.shutdown()


if __name__ == "__main__":
    main()
