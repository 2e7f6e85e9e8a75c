#!/usr/bin/env bash
# Load benchmark of the live server (issue 14): `lvslab serve --live
# --live-sim seed` on loopback, with CLIENTS event-stream clients reading
# every snapshot and a steady RATE of GET /api/live/services for DURATION
# seconds. Prints the server's RSS before and after, its CPU time during the
# run, p50/p99/max of /api/live/services, the events received, and the
# slowloris check: with HALF_OPEN half-sent requests held open, a fresh
# request still answered, then SIGTERM while they are still open (the
# server must exit within 5 s).
#
#   cargo build --release -p lvslab
#   tests/bench/live.sh                      # seed scenario (2 services)
#   SERVICES=10000 tests/bench/live.sh       # plus 10 000 simulated services
#   GZIP=1 SERVICES=10000 tests/bench/live.sh  # clients take gzip (streams
#                                            # kept compressed, as a remote
#                                            # browser's would arrive)
#
# Bounded: every client has a deadline, the server is killed at the end.
# Loopback only. Needs python3 (standard library only) and curl: the event
# streams and the timed reads are curl processes (Python alone cannot read
# 200 streams of a 10 000-service table fast enough to load the server).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${LVSLAB_BIN:-${CARGO_TARGET_DIR:-target}/release/lvslab}
SERVICES=${SERVICES:-0}
CLIENTS=${CLIENTS:-200}
DURATION=${DURATION:-60}
RATE=${RATE:-20}
HALF_OPEN=${HALF_OPEN:-1100}
GZIP=${GZIP:-0}
[ -x "$BIN" ] || { echo "bench-live: no $BIN (cargo build --release -p lvslab, or LVSLAB_BIN=...)" >&2; exit 2; }
# The server may need more descriptors than the default soft limit for the
# slowloris part; it caps itself at 512 connections anyway.
ulimit -n 4096 2>/dev/null || true

out=$(mktemp) run=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$out" "$run"' EXIT
LVSLAB_RUN_DIR=$run LVSLAB_LOG=warn "$BIN" serve --live --live-sim seed \
    --live-sim-services "$SERVICES" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
pid=$!
for _ in $(seq 600); do
    grep -q 'served at' "$out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "bench-live: the server did not start" >&2; exit 1; }
    sleep 0.1
done
addr=$(sed -n 's|.*served at http://\([^/]*\)/.*|\1|p' "$out")
[ -n "$addr" ] || { echo "bench-live: the server did not start in time" >&2; exit 1; }

python3 - "$pid" "$addr" "$CLIENTS" "$DURATION" "$RATE" "$HALF_OPEN" "$SERVICES" "$GZIP" <<'PY'
import asyncio, os, sys, time, zlib, tempfile

pid, addr, clients, duration, rate, half_open, services, gzip = sys.argv[1:]
gzip = gzip == "1"
# Streams keep what they get compressed (curl does not decode it: the
# clients of a director are other machines); timed reads decode it.
GZ_STREAM = ["-H", "Accept-Encoding: gzip"] if gzip else []
GZ_READ = ["--compressed"] if gzip else []
host, port = addr.rsplit(":", 1)
port, clients, duration, rate, half_open = int(port), int(clients), float(duration), float(rate), int(half_open)
tick = os.sysconf("SC_CLK_TCK")

def rss_kb():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
def cpu_s():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

async def get(path, timeout=30.0):
    """One request on a fresh connection; (status, bytes, seconds)."""
    t0 = time.monotonic()
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    w.write(f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n".encode())
    data = await asyncio.wait_for(r.read(-1), timeout)
    w.close()
    return int(data[9:12] or 0), len(data), time.monotonic() - t0

async def frame_size():
    """Bytes from one snapshot event to the next on a stream."""
    r, w = await asyncio.open_connection(host, port)
    w.write(f"GET /api/live/events HTTP/1.1\r\nHost: {addr}\r\n\r\n".encode())
    buf = b""
    while buf.count(b"event: snapshot") < 2:
        chunk = await asyncio.wait_for(r.read(1 << 20), 30)
        if not chunk:
            break
        buf += chunk
    w.close()
    first = buf.find(b"event: snapshot")
    return max(1, buf.find(b"event: snapshot", first + 1) - first)

async def gz_frame_size():
    """Compressed bytes per snapshot on a gzip stream (5 s of it)."""
    with tempfile.NamedTemporaryFile() as f:
        p = await asyncio.create_subprocess_exec(
            "curl", "-sN", "--max-time", "5", *GZ_STREAM, "-o", f.name, f"http://{addr}/api/live/events",
            stderr=asyncio.subprocess.DEVNULL)
        await p.wait()
        raw = open(f.name, "rb").read()
    text = zlib.decompressobj(31).decompress(raw)
    return max(1, len(raw) // max(1, text.count(b"event: snapshot")))

async def curl(*args):
    p = await asyncio.create_subprocess_exec(
        "curl", "-s", "-o", "/dev/null", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await p.communicate()
    return out.decode().strip()

async def main():
    url = f"http://{addr}"
    # Let the first readings settle, then measure.
    await asyncio.sleep(2)
    st, n, _ = await get("/api/live/services")
    frame = await (gz_frame_size() if gzip else frame_size())
    rss0, cpu0 = rss_kb(), cpu_s()
    print(f"table: {services} extra simulated services; /api/live/services is {n} bytes (status {st}); gzip: {'yes' if gzip else 'no'}")
    # The streams: curl reads each until the deadline, then says how much.
    # Small frames are counted exactly (grep); large ones estimated from
    # the bytes (counting them would take the CPU the server needs).
    exact = frame < 100_000 and not gzip
    async def stream():
        if exact:
            p = await asyncio.create_subprocess_exec(
                "sh", "-c", f"curl -sN --max-time {duration:g} {url}/api/live/events | grep -c '^event: snapshot'",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
            out, _ = await p.communicate()
            return int(out.decode().strip() or 0) * frame
        out = await curl("-N", "--max-time", f"{duration:g}", *GZ_STREAM, "-w", "%{size_download}", f"{url}/api/live/events")
        return int(float(out or 0))
    streams = [asyncio.create_task(stream()) for _ in range(clients)]
    lat, errors = [], 0
    start = time.monotonic()
    deadline = start + duration
    next_t = start
    pending = set()
    async def one():
        nonlocal errors
        out = await curl("--max-time", "30", *GZ_READ, "-w", "%{http_code} %{time_total}", f"{url}/api/live/services")
        code, _, t = out.partition(" ")
        if code == "200":
            lat.append(float(t))
        else:
            errors += 1
    while time.monotonic() < deadline:
        pending.add(asyncio.create_task(one()))
        next_t += 1 / rate
        await asyncio.sleep(max(0, next_t - time.monotonic()))
    await asyncio.gather(*pending)
    got = await asyncio.gather(*streams)
    cpu1, rss1 = cpu_s(), rss_kb()
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")
    total = sum(got)
    print(f"{clients} event streams, {rate:g} reads/s for {duration:g} s:")
    print(f"  RSS before {rss0/1024:.1f} MiB, after {rss1/1024:.1f} MiB")
    print(f"  server CPU {cpu1-cpu0:.1f} s in {duration:g} s ({(cpu1-cpu0)/duration*100:.0f} % of one core)")
    print(f"  /api/live/services: {len(lat)} answered, {errors} failed; p50 {q(0.50):.1f} ms, p99 {q(0.99):.1f} ms, max {q(1.0):.1f} ms")
    how = "counted" if exact else f"estimated from {total/duration/1e6:.0f} MB/s received"
    print(f"  event streams: {total/frame/max(1,clients)/duration:.2f} snapshots per stream per s, slowest {min(got)/frame/duration:.2f} ({how}; a snapshot is {frame} bytes)")
    # Slowloris: many half-sent requests held open, then a real one.
    held = []
    for _ in range(half_open):
        try:
            r, w = await asyncio.open_connection(host, port)
            w.write(f"GET / HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ".encode())
            held.append(w)
        except OSError:
            break
    await asyncio.sleep(0.5)
    try:
        st, _, dt = await get("/api/live/status", timeout=10)
        print(f"slowloris: {len(held)} half-sent requests held; /api/live/status answered {st} in {dt*1000:.0f} ms")
    except (asyncio.TimeoutError, OSError) as e:
        print(f"slowloris: {len(held)} half-sent requests held; /api/live/status NOT answered ({e!r})")
    # SIGTERM while they are still open: the server must end within 5 s.
    import signal
    t0 = time.monotonic()
    os.kill(int(pid), signal.SIGTERM)
    def gone():
        try:
            return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True
    while not gone() and time.monotonic() - t0 < 30:
        await asyncio.sleep(0.01)
    state = "exited" if gone() else "STILL RUNNING"
    print(f"SIGTERM with {len(held)} half-sent requests open: {state} after {time.monotonic() - t0:.2f} s")
    for w in held:
        w.close()

asyncio.run(main())
PY
wait "$pid" || true
