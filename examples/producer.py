#!/usr/bin/env python3
"""Publish RipTide jobs from Python and read their results from Redis.

Needs only the contract in the README ("Message and storage contract"): a job is a
MessagePack map with named fields, published persistently to the `<namespace>.jobs`
queue through the default exchange with publisher confirms; results are JSON in the
Redis hash `riptide:job:<id>`, and finished ids appear on the stream `riptide:completions`.

    pip install pika msgpack redis
    python3 examples/producer.py https://example.com/ [--html page.html] [--wait]
"""
import argparse
import json
import sys
import time
import uuid

import msgpack
import pika

try:
    import redis
except ImportError:  # --wait needs it; publishing does not
    redis = None


def make_job(url, html=None, mode="article", selectors=(), priority=0, metadata=None):
    job = {
        "version": 1,
        "id": str(uuid.uuid4()),
        "kind": "html" if html is not None else "url",
        "url": url,
        "mode": mode,
        "attempts": 0,
        "priority": priority,
        "created_at_ms": int(time.time() * 1000),
    }
    if html is not None:
        job["html"] = html
    if selectors:
        job["selectors"] = list(selectors)
    if metadata:
        job["metadata"] = dict(metadata)
    return job


def publish(jobs, amqp_url, namespace):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.confirm_delivery()  # basic_publish raises if the broker does not confirm
    for job in jobs:
        channel.basic_publish(
            exchange="",
            routing_key=f"{namespace}.jobs",
            body=msgpack.packb(job, use_bin_type=True),
            properties=pika.BasicProperties(delivery_mode=2, priority=job["priority"], message_id=job["id"]),
            mandatory=True,
        )
    connection.close()


def wait_for(ids, redis_url, timeout):
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    pending, results = set(ids), {}
    deadline = time.time() + timeout
    while pending and time.time() < deadline:
        for job_id in list(pending):
            fields = r.hgetall(f"riptide:job:{job_id}")
            if fields.get("status") in ("done", "dead"):
                results[job_id] = fields
                pending.discard(job_id)
        time.sleep(0.1)
    return results, pending


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--html", help="extract this local HTML file instead of fetching the URL")
    parser.add_argument("--mode", default="article")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/%2f")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--namespace", default="riptide")
    parser.add_argument("--wait", action="store_true", help="wait for the result and print it")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    html = open(args.html, encoding="utf-8", errors="replace").read() if args.html else None
    job = make_job(args.url, html=html, mode=args.mode)
    publish([job], args.amqp, args.namespace)
    print(json.dumps({"id": job["id"], "queued": True}))
    if args.wait:
        if redis is None:
            sys.exit("--wait needs the redis package: pip install redis")
        results, pending = wait_for([job["id"]], args.redis, args.timeout)
        for job_id, fields in results.items():
            result = json.loads(fields["result"]) if "result" in fields else None
            print(json.dumps({"id": job_id, "status": fields["status"], "error": fields.get("error"), "result": result}))
        if pending:
            sys.exit(f"not finished within {args.timeout} s: {sorted(pending)}")


if __name__ == "__main__":
    main()
