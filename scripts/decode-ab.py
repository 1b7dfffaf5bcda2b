"""One-stream decode rate of two builds of the service, taken in turns so that the machine's drift spreads over both.

Usage: python3 scripts/decode-ab.py BEFORE.jar AFTER.jar [ROUNDS]

Each round starts each jar in turn (default settings, the seed-123 model) on one port, warms it with one
128-token greedy /generate, then times five pairs of /generate calls for "Hello, I am": 1 token and 128 tokens;
127 / (t128 - t1) is the decode rate without the prompt and the HTTP round trip. Prints every rate and the
medians. Nothing else should run meanwhile.
"""
import json, statistics, subprocess, sys, time, urllib.request

JARS = {"before": sys.argv[1], "after": sys.argv[2]}
PORT = 8111

def post(body):
    req = urllib.request.Request(f"http://localhost:{PORT}/generate", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=300) as r:
        out = json.loads(r.read())
    return time.perf_counter() - t, out

def run(name, reps):
    p = subprocess.Popen(["java", "--add-modules", "jdk.incubator.vector", "-jar", JARS[name], f"--server.port={PORT}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://localhost:{PORT}/actuator/health", timeout=2)
                break
            except Exception:
                time.sleep(1)
        prompt = {"prompt": "Hello, I am", "temperature": 0}
        post({**prompt, "maxNewTokens": 128})  # warm-up
        rates = []
        for _ in range(reps):
            t1, _ = post({**prompt, "maxNewTokens": 1})
            t128, out = post({**prompt, "maxNewTokens": 128})
            assert len(out["generatedTokens"]) == 128
            rates.append(127 / (t128 - t1))
        return rates
    finally:
        p.terminate()
        p.wait()

results = {"before": [], "after": []}
for rnd in range(int(sys.argv[3]) if len(sys.argv) > 3 else 2):
    for name in ("before", "after"):
        r = run(name, 5)
        results[name] += r
        print(rnd, name, " ".join(f"{x:.1f}" for x in r), flush=True)
for name, r in results.items():
    print(f"{name}: median {statistics.median(r):.1f} tokens/s, min {min(r):.1f}, max {max(r):.1f}, n {len(r)}")
print(f"after / before (medians): {statistics.median(results['after']) / statistics.median(results['before']):.3f}")
