#!/usr/bin/env bash
# perf.sh runs the table of docs/performance.md on this machine, each
# figure on fresh nodes and fresh data directories on loopback (the data of
# earlier rows removed and written back first), and prints
# it as a Markdown table with the machine's reference figures (Ed25519
# verifications/s, fsyncs/s, loopback HTTP round trips/s), so that runs on
# two machines compare.
#
# usage: scripts/perf.sh [--long] [--only NAME,...] [--raft-rate N] [--cpus N]
#                        [--write-iops N] [--out FILE]
#   --long       the sustained run goes to 10,000,000 transactions (default
#                2,000,000), in segments of 1,000,000, each segment's rate
#                and node CPU per transaction shown
#   --only       run some rows: reference, unsigned, signed, raft, single, idle
#   --raft-rate  measure raft latency at N tx/s instead of at half of a
#                peak measured first (skips the peak run: compare builds at
#                one rate)
#   --cpus N     run everything (nodes, load generators, the reference) in
#                a cgroup limited to N cores' worth of CPU time, to stand in
#                for a slower machine: on a 2-core machine that verifies
#                50,000 signatures/s, --cpus 1.4 gives about 35,000 (root
#                and a cgroup cpu controller, v1 or v2, needed). A quota is
#                not a slower core: the reference row says what it gave
#   --write-iops N
#                hold writes to the disk of the work directory (the nodes'
#                data) to N operations/s, in a cgroup, to stand in for a
#                slower disk: 4,500 gave about 1,250 fsyncs/s on ext4 here
#                (root and the io or blkio controller needed)
#   --out        also write the table to FILE
#
# Needs: Go (it builds qbc, and scripts/httpfloor and scripts/tcpfloor, the
# single-request row's bare net/http and bare TCP references, into a
# temporary directory), curl, awk, and free
# ports 5100-5102, 5200-5202 and 5300-5302 on 127.0.0.1. It takes about 8
# minutes (--long: about 20). Run it on a quiet machine: it measures the
# machine as much as QBC.
set -euo pipefail

LONG=0
RAFT_RATE=""
CPU_LIMIT=""
IOPS_LIMIT=""
ONLY="reference,unsigned,signed,raft,single,idle"
OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--long) LONG=1 ;;
	--only) ONLY="$2"; shift ;;
	--raft-rate) RAFT_RATE="$2"; shift ;;
	--cpus) CPU_LIMIT="$2"; shift ;;
	--write-iops) IOPS_LIMIT="$2"; shift ;;
	--out) OUT="$2"; shift ;;
	-h | --help) sed -n '2,35p' "$0"; exit 0 ;;
	*) echo "perf.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
want() { [[ ",$ONLY," == *",$1,"* ]]; }

cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
PIDS=()
CGROUPS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
	for g in "${CGROUPS[@]}"; do # back to the root group, then remove ours
		echo $$ >"$(dirname "$g")/cgroup.procs" 2>/dev/null || true
		rmdir "$g" 2>/dev/null || true
	done
}
trap cleanup EXIT

# cgroup CONTROLLER: makes (once) a cgroup for this script and what it
# starts, in CONTROLLER's hierarchy (cgroup v1) or the unified one (v2,
# with CONTROLLER enabled for its children), moves the script into it and
# prints its directory.
cgroup() {
	local g
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		g=/sys/fs/cgroup/qbc-perf-$$
		grep -qw "$1" /sys/fs/cgroup/cgroup.subtree_control || echo "+$1" >/sys/fs/cgroup/cgroup.subtree_control || return 1
	else
		g=/sys/fs/cgroup/$1/qbc-perf-$$
	fi
	[ -d "$g" ] || mkdir "$g" || return 1
	echo $$ >"$g/cgroup.procs" || return 1
	echo "$g"
}

# limit_cpus N: this script and all it starts get N cores' worth of CPU
# time per 10 ms period. A short period keeps the throttled stalls short,
# as a slower core's would be.
limit_cpus() {
	local g quota period=10000
	quota=$(awk -v n="$1" 'BEGIN { if (n + 0 <= 0) exit 1; printf "%d", n * 10000 }') || {
		echo "perf.sh: --cpus wants a positive number of cores, not $1" >&2
		exit 2
	}
	{
		g=$(cgroup cpu) && CGROUPS+=("$g") &&
			if [ -f "$g/cpu.max" ]; then
				echo "$quota $period" >"$g/cpu.max"
			else
				echo "$period" >"$g/cpu.cfs_period_us" && echo "$quota" >"$g/cpu.cfs_quota_us"
			fi
	} || {
		echo "perf.sh: --cpus: cannot make a cgroup with a CPU limit here (needs root and the cpu controller)" >&2
		exit 1
	}
	echo "limited to $1 cores' worth of CPU ($g)" >&2
}

# limit_iops N: writes of this script and all it starts to the disk that
# holds the work directory (the nodes' data) are held to N operations/s.
# An fsync of an append costs a few (the data, the journal's commit): on
# ext4, 4,500 gave about 1,250 fsyncs/s in the reference row.
limit_iops() {
	local g dev
	[[ "$1" =~ ^[1-9][0-9]*$ ]] || {
		echo "perf.sh: --write-iops wants a positive whole number, not $1" >&2
		exit 2
	}
	dev=$(findmnt -no MAJ:MIN -T "$WORK")
	# A partition's writes are throttled on its disk.
	[ -e "/sys/dev/block/$dev/partition" ] && dev=$(cat "/sys/dev/block/$dev/../dev")
	{
		g=$(cgroup "$([ -f /sys/fs/cgroup/cgroup.controllers ] && echo io || echo blkio)") && CGROUPS+=("$g") &&
			if [ -f "$g/io.max" ]; then
				echo "$dev wiops=$1" >"$g/io.max"
			else
				echo "$dev $1" >"$g/blkio.throttle.write_iops_device"
			fi
	} || {
		echo "perf.sh: --write-iops: cannot make a cgroup with an I/O limit on $dev here (needs root and the io or blkio controller)" >&2
		exit 1
	}
	echo "writes to $dev limited to $1 operations/s ($g)" >&2
}
[ -n "$CPU_LIMIT" ] && limit_cpus "$CPU_LIMIT"
[ -n "$IOPS_LIMIT" ] && limit_iops "$IOPS_LIMIT"

echo "building qbc" >&2
CGO_ENABLED=0 go build -o "$WORK/qbc" ./cmd/qbc
QBC="$WORK/qbc"
TCK=$(getconf CLK_TCK)
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 |"); echo "  $1: $2" >&2; }

# num KEY FILE: the first number after "KEY": in a one-line JSON file.
num() { grep -o "\"$1\":[-0-9.e+]*" "$2" | head -1 | cut -d: -f2; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%." d "f", x }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# start_node NAME ADDR [flags...]: a node on a fresh data directory; sets PID.
start_node() {
	local name=$1 addr=$2
	shift 2
	mkdir -p "$WORK/$name"
	"$QBC" node --addr "$addr" --data-dir "$WORK/$name/data" --sql off --log-level warn "$@" \
		>"$WORK/$name/out" 2>"$WORK/$name/err" &
	PID=$!
	PIDS+=("$PID")
	for _ in $(seq 200); do
		grep -q listening "$WORK/$name/out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "node $name did not start:" >&2
	cat "$WORK/$name/err" >&2
	exit 1
}
stop_node() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# settle: run between rows, with every node stopped. It removes the data
# of the nodes stopped so far and writes back what the kernel still holds
# dirty, so that a row's fsyncs do not queue behind the write-back of an
# earlier row's data (that made the raft rows depend on the rows before
# them: after the unsigned and signed rows, p99 at half of peak rose).
settle() {
	local d
	for d in "$WORK"/*/data; do [ -d "$d" ] && rm -rf "$d"; done
	sync
}

# A pow chain of fixed difficulty 1 (mining costs nothing), open or signed.
pow_rules() {
	cat <<EOF
{"name":"perf-$1","created":1767225600000,"engine":"pow","write_policy":"$1",
 "engine_params":{"target_ms":1000,"initial_difficulty":1,"min_difficulty":1,"window":0},
 "max_data_bytes":65536,"max_quant_txs":50000,"max_quant_bytes":33554432,"max_time_drift_ms":120000}
EOF
}

if want reference; then
	settle
	"$QBC" bench --reference --json >"$WORK/ref.json"
	row "reference: Ed25519 verifications/s (all cores)" "$(fmt "$(num ed25519_verify_per_sec "$WORK/ref.json")")" "qbc bench --reference"
	row "reference: fsyncs/s of 4 KiB appends" "$(fmt "$(num fsync_per_sec "$WORK/ref.json")")" "qbc bench --reference"
	row "reference: loopback HTTP round trips/s, one at a time (CPU per round trip, µs)" "$(fmt "$(num http_round_trips_per_sec "$WORK/ref.json")") ($(fmt "$(num http_cpu_us_per_round_trip "$WORK/ref.json")" 1))" "qbc bench --reference"
fi

if want unsigned; then
	settle
	pow_rules open >"$WORK/open.json"
	start_node unsigned 127.0.0.1:5100 --mine --genesis "$WORK/open.json"
	NODE=$PID
	SEGMENTS=2
	[ "$LONG" = 1 ] && SEGMENTS=10
	RATES=()
	CPUS=()
	for s in $(seq "$SEGMENTS"); do
		T0=$(cpu_ticks "$NODE")
		"$QBC" bench --nodes 127.0.0.1:5100 --count 1000000 --batch 1000 --binary --unsigned --quiet --json >"$WORK/unsigned$s.json"
		T1=$(cpu_ticks "$NODE")
		RATES+=("$(fmt "$(num committed_per_sec "$WORK/unsigned$s.json")")")
		CPUS+=("$(fmt "$(awk -v a="$T0" -v b="$T1" -v t="$TCK" 'BEGIN { print (b - a) / t / 1000000 * 1e6 }')" 1)")
		echo "  unsigned: segment $s of $SEGMENTS: $(num committed_per_sec "$WORK/unsigned$s.json") committed/s, node CPU ${CPUS[-1]} µs per transaction" >&2
	done
	RSS=0
	for s in $(seq "$SEGMENTS"); do
		r=$(num rss_peak_bytes "$WORK/unsigned$s.json")
		RSS=$(awk -v a="$RSS" -v b="$r" 'BEGIN { print (b > a ? b : a) }')
	done
	stop_node "$NODE"
	BYTES=$(du -sb "$WORK/unsigned/data" | cut -f1)
	TXS=$((SEGMENTS * 1000000))
	row "unsigned, binary batches of 1,000: committed/s, each 1,000,000 in turn" "$(IFS=/; echo "${RATES[*]}")" "qbc bench --count 1000000 --batch 1000 --binary --unsigned, $SEGMENTS times on one node"
	row "the same: node CPU per transaction, µs, each segment" "$(IFS=/; echo "${CPUS[*]}")" "/proc/PID/stat over each segment"
	row "the same: peak RSS, MiB" "$(fmt "$(awk -v r="$RSS" 'BEGIN { print r / 1048576 }')")" "node_stats.rss_peak_bytes"
	row "the same: store bytes per transaction (payload about 155 B)" "$(fmt "$(awk -v b="$BYTES" -v n="$TXS" 'BEGIN { print b / n }')")" "du -sb of the data directory"
	START=$(date +%s.%N)
	"$QBC" verify --data-dir "$WORK/unsigned/data" >"$WORK/verify.out" 2>"$WORK/verify.err"
	END=$(date +%s.%N)
	row "qbc verify of that store: transactions/s" "$(fmt "$(awk -v a="$START" -v b="$END" -v n="$TXS" 'BEGIN { print n / (b - a) }')")" "qbc verify --data-dir DIR"
fi

if want signed; then
	settle
	pow_rules signed >"$WORK/signed.json"
	start_node signed 127.0.0.1:5101 --mine --genesis "$WORK/signed.json"
	"$QBC" bench --nodes 127.0.0.1:5101 --count 150000 --batch 1000 --binary --reference --quiet --json >"$WORK/signed.out.json"
	stop_node "$PID"
	C=$(num committed_per_sec "$WORK/signed.out.json")
	V=$(num ed25519_verify_per_sec "$WORK/signed.out.json")
	row "signed, binary batches of 1,000, 150,000: committed/s (÷ verify/s)" "$(fmt "$C") ($(fmt "$(awk -v c="$C" -v v="$V" 'BEGIN { print c / v }')" 2))" "qbc bench --count 150000 --batch 1000 --binary --reference"
fi

# raft_cluster: three members on 5200-5202 and a raft chain among them; sets CHAIN.
raft_cluster() {
	local tag=$1 pids=()
	for i in 0 1 2; do
		local peers=()
		[ "$i" -gt 0 ] && peers=(--peers 127.0.0.1:5200)
		start_node "$tag$i" "127.0.0.1:$((5200 + i))" "${peers[@]}"
		pids+=("$PID")
	done
	RAFT_PIDS=("${pids[@]}")
	cat >"$WORK/$tag.rules.json" <<EOF
{"name":"perf-raft","engine":"raft","write_policy":"open","max_quant_txs":10000,
 "engine_params":{"members":[{"addr":"127.0.0.1:5200"},{"addr":"127.0.0.1:5201"},{"addr":"127.0.0.1:5202"}],"max_quant_interval_ms":5}}
EOF
	"$QBC" chain new --node 127.0.0.1:5200 "$WORK/$tag.rules.json" >"$WORK/$tag.chain.json"
	CHAIN=$(grep -o '"id": *"[0-9a-f]*"' "$WORK/$tag.chain.json" | head -1 | grep -o '[0-9a-f]\{64\}')
	for _ in $(seq 100); do # until a leader commits
		curl -sf "http://127.0.0.1:5200/v1/chains/$CHAIN/stats" | grep -q '"leader": *"[^"]' && break
		sleep 0.1
	done
	sleep 3 # every member added (the leader adds them), the cluster settled
}
RAFT_NODES=127.0.0.1:5200,127.0.0.1:5201,127.0.0.1:5202

if want raft; then
	settle
	if [ -n "$RAFT_RATE" ]; then
		HALF=$RAFT_RATE
	else
		raft_cluster peak
		"$QBC" bench --nodes "$RAFT_NODES" --chain "$CHAIN" --unsigned --batch 100 --binary --duration 15s --quiet --json >"$WORK/raftpeak.json"
		for p in "${RAFT_PIDS[@]}"; do stop_node "$p"; done
		PEAK=$(num committed_per_sec "$WORK/raftpeak.json")
		HALF=$(awk -v p="$PEAK" 'BEGIN { printf "%d", p / 2 }')
		row "raft, 3 nodes, batches of 100: peak committed/s" "$(fmt "$PEAK")" "qbc bench --chain ID --unsigned --batch 100 --binary --duration 15s"
	fi
	settle
	raft_cluster half
	"$QBC" bench --nodes "$RAFT_NODES" --chain "$CHAIN" --unsigned --batch 100 --binary --duration 15s --rate "$HALF" --quiet --json >"$WORK/raftHalf.json"
	for p in "${RAFT_PIDS[@]}"; do stop_node "$p"; done
	LAT=$(grep -o '"request_latency":{[^}]*}' "$WORK/raftHalf.json")
	P50=$(echo "$LAT" | grep -o '"p50_ms":[0-9.e+-]*' | cut -d: -f2)
	P99=$(echo "$LAT" | grep -o '"p99_ms":[0-9.e+-]*' | cut -d: -f2)
	WHAT="raft at half of peak ($HALF tx/s)"
	[ -n "$RAFT_RATE" ] && WHAT="raft, 3 nodes, batches of 100, at $HALF tx/s (--raft-rate)"
	row "$WHAT: request (= commit) latency p50 / p99, ms" "$(fmt "$P50" 1) / $(fmt "$P99" 1)" "qbc bench --chain ID --unsigned --batch 100 --binary --duration 15s --rate $HALF, on a fresh cluster"
fi

if want single; then
	settle
	# single_cpu PID PORT: the CPU per request, µs, that PID spends while
	# qbc bench sends 50,000 single transactions to PORT.
	single_cpu() {
		local t0 t1 n
		t0=$(cpu_ticks "$1")
		"$QBC" bench --nodes "127.0.0.1:$2" --batch 1 --unsigned --count 50000 --drain 1ms --quiet --json >"$WORK/single.json"
		t1=$(cpu_ticks "$1")
		n=$(num requests "$WORK/single.json")
		fmt "$(awk -v a="$t0" -v b="$t1" -v t="$TCK" -v n="$n" 'BEGIN { print (b - a) / t / n * 1e6 }')" 1
	}
	median() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }
	# The node and the floor (a bare net/http server, scripts/httpfloor)
	# take turns, three runs each: the machine's speed drifts between runs
	# more than a build's does.
	CGO_ENABLED=0 go build -o "$WORK/httpfloor" ./scripts/httpfloor
	CGO_ENABLED=0 go build -o "$WORK/tcpfloor" ./scripts/tcpfloor
	NODE_US=() FLOOR_US=() TCP_US=()
	for i in 1 2 3; do
		start_node "single$i" 127.0.0.1:5102
		NODE_US+=("$(single_cpu "$PID" 5102)")
		stop_node "$PID"
		start_node "upstream$i" 127.0.0.1:5101 # answers the floor's other requests
		UP=$PID
		"$WORK/httpfloor" 127.0.0.1:5102 127.0.0.1:5101 >"$WORK/floor$i.out" 2>&1 &
		FLOOR=$!
		PIDS+=("$FLOOR")
		for _ in $(seq 100); do grep -q listening "$WORK/floor$i.out" 2>/dev/null && break; sleep 0.05; done
		FLOOR_US+=("$(single_cpu "$FLOOR" 5102)")
		stop_node "$FLOOR"
		stop_node "$UP"
		# Below net/http: a Go TCP echo of as many 200 B round trips.
		TCP_US+=("$(fmt "$("$WORK/tcpfloor" -n 50000 -size 200 | sed -E 's/.*: ([0-9.]+) µs.*/\1/')" 1)")
	done
	row "single-transaction requests (POST /v1/txs, no leaps): node CPU per request, µs, median of 3 (runs)" "$(median "${NODE_US[@]}") (${NODE_US[*]})" "qbc bench --batch 1 --unsigned --count 50000; node CPU from /proc"
	row "the same requests to a bare net/http server (scripts/httpfloor, the floor): CPU per request, µs, median of 3 (runs)" "$(median "${FLOOR_US[@]}") (${FLOOR_US[*]})" "run in turn with the node's"
	row "below HTTP: a Go TCP echo server, 50,000 round trips of 200 B: server CPU per round trip, µs, median of 3 (runs)" "$(median "${TCP_US[@]}") (${TCP_US[*]})" "scripts/tcpfloor, run in turn with the others"
	# What the node adds to net/http, run by run (each node run beside the
	# floor run after it): the figure that compares between machines.
	BEYOND=()
	for i in 0 1 2; do
		BEYOND+=("$(fmt "$(awk -v a="${NODE_US[$i]}" -v b="${FLOOR_US[$i]}" 'BEGIN { print a - b }')" 1)")
	done
	row "the node beyond the floor: CPU per request, µs, median of 3 (runs)" "$(median "${BEYOND[@]}") (${BEYOND[*]})" "each node run less the floor run after it"
fi

# idle_share PID...: each process's share of a core over 30 s, worst first.
# switches PID: context switches (voluntary and not) of all of PID's
# threads so far: how often it woke, a steadier figure than its CPU share
# on a machine whose every wake-up costs more at some times than others.
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'; }
# idle_share PID...: each PID's share of a core over 30 s and its context
# switches per second, as "a/b/c % (x/y/z switches/s)", largest share first.
idle_share() {
	local t0=() c0=() lines=() i=0
	for p in "$@"; do t0+=("$(cpu_ticks "$p")"); c0+=("$(switches "$p")"); done
	sleep 30
	for p in "$@"; do
		lines+=("$(awk -v a="${t0[$i]}" -v b="$(cpu_ticks "$p")" -v t="$TCK" -v c="${c0[$i]}" -v d="$(switches "$p")" \
			'BEGIN { printf "%.2f %d", (b - a) / t / 30 * 100, (d - c) / 30 }')")
		i=$((i + 1))
	done
	printf '%s\n' "${lines[@]}" | sort -rn | awk '{ s = s (NR > 1 ? "/" : "") $1; w = w (NR > 1 ? "/" : "") $2 } END { print s " (" w " switches/s)" }'
}
if want idle; then
	settle
	start_node idle 127.0.0.1:5300
	sleep 3
	row "idle node (default chain): % of a core over 30 s (context switches/s)" "$(idle_share "$PID")" "/proc/PID/stat, /proc/PID/task/*/status"
	stop_node "$PID"
	start_node idlemine 127.0.0.1:5301 --mine
	sleep 3
	row "idle node with --mine: % of a core over 30 s (context switches/s)" "$(idle_share "$PID")" "/proc/PID/stat, /proc/PID/task/*/status"
	stop_node "$PID"
	raft_cluster idleraft
	sleep 3
	row "three idle raft members (and the default chain): % of a core each over 30 s (context switches/s)" "$(idle_share "${RAFT_PIDS[@]}")" "/proc/PID/stat, /proc/PID/task/*/status"
	for p in "${RAFT_PIDS[@]}"; do stop_node "$p"; done
fi

{
	echo "QBC $(git describe --always --dirty 2>/dev/null || echo '?'), $(go version | cut -d' ' -f3), $(nproc) cores${CPU_LIMIT:+ limited to $CPU_LIMIT (--cpus)}${IOPS_LIMIT:+, disk writes limited to $IOPS_LIMIT/s (--write-iops)}, $(date -u +%Y-%m-%d)"
	echo
	echo "| what | measured | how |"
	echo "| --- | --- | --- |"
	printf '%s\n' "${ROWS[@]}"
} | tee ${OUT:+"$OUT"}
