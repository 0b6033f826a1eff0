#!/usr/bin/env bash
# Makes sure RabbitMQ (127.0.0.1:5672) and Redis (127.0.0.1:6379) are up, starting either
# one that is down with the machine's own packages, and waits until both accept connections.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  local name=$1 port=$2 seconds=$3
  for _ in $(seq "$seconds"); do
    port_open "$port" && return 0
    sleep 1
  done
  log "$name did not open port $port within ${seconds}s"
  return 1
}

if ! port_open 6379; then
  command -v redis-server >/dev/null || { log "redis-server is missing: apt-get install -y redis-server"; exit 1; }
  log "starting Redis"
  redis-server --daemonize yes --port 6379 --save "" --appendonly no >&2
  wait_for_port Redis 6379 30
fi

if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || { log "rabbitmq-server is missing: apt-get install -y rabbitmq-server"; exit 1; }
  log "starting RabbitMQ"
  rabbitmq-server -detached >&2
  wait_for_port RabbitMQ 5672 120
fi
log "RabbitMQ and Redis are up"
