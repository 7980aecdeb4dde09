# Sourced by the load, peer, fleet and soak scripts: wrk installed, and its output read one way.
# shellcheck shell=bash

# wrk from Debian when it is missing (CI machines and fresh checkouts).
need_wrk() {
  if ! command -v wrk > /dev/null; then
    echo "installing wrk (Debian package)" >&2
    (apt-get update -qq && apt-get install -y -qq wrk) >&2
  fi
}

# Requests a wrk run completed, and how many were answered with a non-2xx status.
wrk_requests() { awk '/requests in/ { print $1 }' "$1"; }
wrk_refused() { awk '/Non-2xx/ { n = $5 } END { print n + 0 }' "$1"; }

# A `wrk --latency` run as "rps p50_ms p99_ms"; fails (status 1) when any request was refused, so a
# broken route never passes as a fast one.
wrk_summary() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $5 }
    $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
    $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
    END { if (bad > 0) { print "refused " bad > "/dev/stderr"; exit 1 } printf "%.0f %.3f %.3f\n", rps, p50, p99 }' "$1"
}

# The median of column $2 in file $1 (the lower middle one for an even count).
median() { sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }
