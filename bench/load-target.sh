# Sourced by the load, peer and fleet scripts: the load target's start-up lines, read one way.
# shellcheck shell=bash

# Waits up to 10 s for the load target writing to file $1 to print `READY=`; otherwise stops the
# script, naming $2.
await_ready() {
  for _ in $(seq 1 100); do
    grep -q '^READY=' "$1" && return 0
    sleep 0.1
  done
  echo "$2 did not start within 10 s" >&2
  exit 1
}

# The value of the load target's `$2=` line in file $1 (BASE, TOKEN, STORM_FILE).
announced() { sed -n "s/^$2=//p" "$1"; }
