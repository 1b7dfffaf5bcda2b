#!/usr/bin/python3
"""Speed of the PyTorch reference GPT-2 with a KV cache, as a yardstick for the Java service.

The model is the seeds' GPT-2 from ../shared/reference/gpt_reference.py (imported, not copied),
built with GPT_CONFIG_124M and seed 123. The reference itself has no KV cache, so this script
drives its modules (embeddings, blocks, attention projections, norms, output head) with a cached
forward pass of its own, checks at startup that it reproduces the reference's greedy tokens,
then times prefill, decode, time to first token and the seeds' uncached loop.

Run with Debian's python (apt-get install python3-torch libopenblas0-pthread):
    /usr/bin/python3 bench/pytorch_reference.py [--quick] [--json FILE]
"""
import argparse
import ctypes
import importlib.util
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

GPT_CONFIG_124M = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12,
                   "n_layers": 12, "drop_rate": 0.1, "qkv_bias": False}
MODEL_SEED = 123
PROMPT_SEED = 0      # random prompt token ids are fixed so every run times the same work
THREADS = 2          # the machine has 2 cores
CHECK_PROMPT = [15496, 11, 314, 716]  # "Hello, I am" in the GPT-2 tokenizer
CHECK_STEPS = 8

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = REPO_ROOT / ".." / "shared" / "reference" / "gpt_reference.py"


# ---------------------------------------------------------------- reference model

def load_reference(path):
    """Import gpt_reference.py from wherever it lives, without putting it on sys.path."""
    if not path.is_file():
        sys.exit(f"reference model not found: {path} (see --reference)")
    spec = importlib.util.spec_from_file_location("gpt_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- KV-cached forward pass

class KVCache:
    """Keys and values of every layer, each (b, heads, capacity, hd), filled up to `length`.

    Preallocated so that a decode step writes one position instead of re-concatenating
    the whole history.
    """

    def __init__(self, model, batch, capacity):
        att = model.trf_blocks[0].att
        if capacity > model.pos_emb.num_embeddings:
            raise ValueError(f"cache capacity {capacity} exceeds the context length")
        shape = (batch, att.heads, capacity, att.hd)
        self.keys = [torch.empty(shape) for _ in model.trf_blocks]
        self.values = [torch.empty(shape) for _ in model.trf_blocks]
        self.capacity = capacity
        self.length = 0


def split_heads(x, att):
    """(b, t, d_out) -> (b, heads, t, hd), as the reference MHA does."""
    b, t, _ = x.shape
    return x.view(b, t, att.heads, att.hd).transpose(1, 2)


def cached_attention(att, x, keys, values, start):
    """The reference MHA.forward for t new positions starting at `start`, reading and
    extending the cache: same projections, scores / sqrt(hd), causal mask, softmax, out_proj."""
    b, t, _ = x.shape
    end = start + t
    keys[:, :, start:end] = split_heads(att.W_key(x), att)
    values[:, :, start:end] = split_heads(att.W_value(x), att)
    q = split_heads(att.W_query(x), att)
    k, v = keys[:, :, :end], values[:, :, :end]
    s = q @ k.transpose(2, 3)
    if t > 1:  # rows of the model's own causal mask for these query positions
        s.masked_fill_(att.mask.bool()[start:end, :end], -torch.inf)
    w = att.dropout(torch.softmax(s / k.shape[-1] ** 0.5, dim=-1))
    c = (w @ v).transpose(1, 2).contiguous().view(b, t, att.d_out)
    return att.out_proj(c)


def cached_block(blk, x, keys, values, start):
    """The reference Block.forward (pre-LN, residuals) with cached attention."""
    x = x + blk.drop_shortcut(cached_attention(blk.att, blk.norm1(x), keys, values, start))
    return x + blk.drop_shortcut(blk.ff(blk.norm2(x)))


def forward_cached(model, idx, cache):
    """Feed idx (b, t) at the positions after those already cached; return last-position logits.

    Prefill is a call with the whole prompt on an empty cache, decode a call with one token.
    Final norm and output head run on the last position only, since only it is sampled.
    """
    start, t = cache.length, idx.shape[1]
    if start + t > cache.capacity:
        raise ValueError("KV cache is full")
    x = model.tok_emb(idx) + model.pos_emb(torch.arange(start, start + t))
    x = model.drop_emb(x)
    for blk, keys, values in zip(model.trf_blocks, cache.keys, cache.values):
        x = cached_block(blk, x, keys, values, start)
    cache.length = start + t
    return model.out_head(model.final_norm(x[:, -1:, :]))[:, -1, :]


def greedy_cached(model, prompt, max_new):
    """Greedy continuation with the cache: one prefill, then one token per step.
    Returns (new tokens (b, max_new), logits of each step)."""
    cache = KVCache(model, prompt.shape[0], prompt.shape[1] + max_new)
    logits = forward_cached(model, prompt, cache)
    tokens, step_logits = [], [logits]
    for _ in range(max_new - 1):
        tokens.append(torch.argmax(logits, -1, keepdim=True))
        logits = forward_cached(model, tokens[-1], cache)
        step_logits.append(logits)
    tokens.append(torch.argmax(logits, -1, keepdim=True))
    return torch.cat(tokens, 1), step_logits


# ---------------------------------------------------------------- startup check

def verify_against_reference(ref, model, ctx):
    """Abort unless cached greedy tokens equal the reference's uncached generate_greedy.
    Returns the largest logit difference to an uncached forward, for the report."""
    prompt = torch.tensor([CHECK_PROMPT])
    expected = ref.generate_greedy(model, prompt, CHECK_STEPS, ctx)[:, prompt.shape[1]:]
    got, step_logits = greedy_cached(model, prompt, CHECK_STEPS)
    if not torch.equal(got, expected):
        sys.exit(f"KV-cached greedy {got.tolist()} != reference generate_greedy {expected.tolist()}")
    # step i predicts from position len(prompt)-1+i of the full uncached sequence
    full = model(torch.cat([prompt, expected], 1))
    n = prompt.shape[1]
    uncached = full[:, n - 1:n - 1 + CHECK_STEPS, :]
    diff = (torch.stack(step_logits, 1) - uncached).abs().max().item()
    return got[0].tolist(), diff


# ---------------------------------------------------------------- timing

def median_seconds(run, setup=lambda: (), warmup=1, reps=3):
    """Median wall time of run(*setup()) over reps, after warmup untimed calls.
    setup (e.g. allocating a fresh cache) is not timed. Also returns (min, max) for noise."""
    for _ in range(warmup):
        run(*setup())
    times = []
    for _ in range(reps):
        args = setup()
        t0 = time.perf_counter()
        run(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), (min(times), max(times))


def random_prompt(n, vocab):
    g = torch.Generator().manual_seed(PROMPT_SEED)
    return torch.randint(0, vocab, (1, n), generator=g)


def bench_prefill(model, n, vocab, warmup, reps):
    """Forward over an n-token prompt filling an empty cache; returns (tokens/s, spread)."""
    prompt = random_prompt(n, vocab)
    med, (lo, hi) = median_seconds(lambda c: forward_cached(model, prompt, c),
                                   lambda: (KVCache(model, 1, n),), warmup, reps)
    return n / med, (n / hi, n / lo)


def bench_ttft(model, n, vocab, warmup, reps):
    """Prompt to first token as a request sees it: cache allocation, prefill, argmax (ms)."""
    prompt = random_prompt(n, vocab)

    def first_token():
        return torch.argmax(forward_cached(model, prompt, KVCache(model, 1, n + 1)), -1)

    med, spread = median_seconds(first_token, warmup=warmup, reps=reps)
    return med * 1e3, tuple(s * 1e3 for s in spread)


def bench_generate(model, prompt_len, new, vocab, warmup, reps):
    """Greedy generation of `new` tokens after a short prompt (its prefill costs about one
    decode step, so this is the decode rate); returns (tokens/s, spread)."""
    prompt = random_prompt(prompt_len, vocab)
    med, (lo, hi) = median_seconds(lambda: greedy_cached(model, prompt, new), warmup=warmup, reps=reps)
    return new / med, (new / hi, new / lo)


def bench_decode_at(model, position, steps, vocab, warmup, reps):
    """Per-token decode time (ms) with `position` tokens already cached, over `steps` steps."""
    prompt = random_prompt(position, vocab)
    filled = KVCache(model, 1, position + steps)
    first = torch.argmax(forward_cached(model, prompt, filled), -1, keepdim=True)

    def rewind():  # the prefix stays in the cache; the decode steps overwrite what follows it
        filled.length = position
        return ()

    def decode():
        token = first
        for _ in range(steps):
            token = torch.argmax(forward_cached(model, token, filled), -1, keepdim=True)

    med, (lo, hi) = median_seconds(decode, rewind, warmup, reps)
    return med * 1e3 / steps, (lo * 1e3 / steps, hi * 1e3 / steps)


def bench_seeds_loop(ref, model, prompt_len, new, ctx, vocab, warmup, reps):
    """The seeds' generate_greedy: the whole sequence re-run every step, no cache."""
    prompt = random_prompt(prompt_len, vocab)
    med, (lo, hi) = median_seconds(lambda: ref.generate_greedy(model, prompt, new, ctx),
                                   warmup=warmup, reps=reps)
    return new / med, (new / hi, new / lo)


# ---------------------------------------------------------------- environment report

def loaded_openblas():
    """The OpenBLAS library torch actually loaded (Debian's torch links the generic libblas)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "libopenblas" in path:
                return path
    return None


def build_setting(name):
    """A NAME=value entry of torch.__config__.show()'s build settings."""
    for item in torch.__config__.show().replace(",", " ").split():
        if item.startswith(name + "="):
            return item.split("=", 1)[1]
    return "unknown"


def blas_info():
    info = {"torch_blas_info": build_setting("BLAS_INFO"),
            "torch_lapack_info": build_setting("LAPACK_INFO"),
            "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
            "openblas_num_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
            "omp_wait_policy_env": os.environ.get("OMP_WAIT_POLICY")}
    path = loaded_openblas()
    info["blas_library"] = path
    if path:
        lib = ctypes.CDLL(path)
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        info["openblas_config"] = lib.openblas_get_config().decode()
        info["openblas_core"] = lib.openblas_get_corename().decode()
        info["openblas_threads"] = lib.openblas_get_num_threads()
    return info


def peak_rss_mb():
    # VmHWM of this process; getrusage's ru_maxrss survives exec, so under a bigger parent (the Java
    # benchmark) it would report the parent's peak
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                    help="path to gpt_reference.py (default: ../shared/reference/gpt_reference.py from the repo root)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    return ap.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(THREADS)
    warmup, reps = (1, 2) if args.quick else (2, 5)
    long_reps = 1 if args.quick else 3  # the 128-token decode and the seeds' loop take seconds each
    decode_steps = 4 if args.quick else 8
    cfg = GPT_CONFIG_124M
    vocab, ctx = cfg["vocab_size"], cfg["context_length"]

    load_before = os.getloadavg()  # the cores are shared: record how busy they were
    ref = load_reference(args.reference.resolve())
    model = ref.build(cfg, MODEL_SEED)  # eval mode, float32

    with torch.inference_mode():
        check_tokens, max_logit_diff = verify_against_reference(ref, model, ctx)
        print(f"check: cached greedy == reference generate_greedy for {CHECK_STEPS} steps {check_tokens}, "
              f"max |logit diff| {max_logit_diff:.2e}")

        figures, spreads = {}, {}

        def record(key, value_and_spread, unit, label):
            figures[key], spreads[key] = value_and_spread
            lo, hi = spreads[key]
            print(f"{label:<44} {figures[key]:9.2f} {unit:<9} (range {lo:.2f} .. {hi:.2f})", flush=True)

        for n in (128, 512):
            record(f"prefill_tokens_per_s_{n}", bench_prefill(model, n, vocab, warmup, reps),
                   "tokens/s", f"prefill, {n}-token prompt")
        record("ttft_ms_128", bench_ttft(model, 128, vocab, warmup, reps), "ms", "time to first token, 128-token prompt")
        record("decode_tokens_per_s_128", bench_generate(model, 4, 128, vocab, 1, long_reps),
               "tokens/s", "decode, 128 new tokens after 4-token prompt")
        for pos in (32, 512):
            record(f"decode_ms_at_{pos}", bench_decode_at(model, pos, decode_steps, vocab, warmup, reps),
                   "ms/token", f"decode step with {pos} positions cached")
        record("seeds_loop_tokens_per_s", bench_seeds_loop(ref, model, 4, 32, ctx, vocab, 1, long_reps),
               "tokens/s", "seeds' generate_greedy (no cache), 32 tokens")

    blas = blas_info()
    result = {**figures,
              "peak_rss_mb": round(peak_rss_mb(), 1),
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "torch_version": torch.__version__,
              "python_version": platform.python_version(),
              "threads": torch.get_num_threads(),
              "interop_threads": torch.get_num_interop_threads(),
              **blas,
              "quick": args.quick, "warmup": warmup, "repetitions": reps, "long_repetitions": long_reps,
              "decode_steps_per_rep": decode_steps,
              "ranges": {k: list(v) for k, v in spreads.items()},
              "check_tokens": check_tokens, "check_max_logit_diff": max_logit_diff,
              "model": {"config": cfg, "seed": MODEL_SEED, "dtype": "float32",
                        "params": sum(p.numel() for p in model.parameters())}}
    print(f"peak RSS {result['peak_rss_mb']} MB; torch {torch.__version__}, ATen threads {result['threads']} "
          f"(interop {result['interop_threads']}); BLAS_INFO={blas['torch_blas_info']} -> {blas.get('blas_library')}, "
          f"OpenBLAS core {blas.get('openblas_core')}, {blas.get('openblas_threads')} OpenBLAS threads, "
          f"OPENBLAS_CORETYPE={blas['openblas_coretype_env']}; "
          f"load average {load_before[0]:.2f} before, {result['load_average_after'][0]:.2f} after")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
