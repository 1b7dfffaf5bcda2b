"""What POST /inspect must answer, computed by the reference PyTorch model.

For each checkpoint fixture (and the seed-123 GPT-2 small, built as torch.manual_seed(123); GPTModel(GPT_CONFIG_124M)),
one forward pass over a prompt with forward hooks on every transformer block (the residual stream after it) and on
every attention's dropout (in eval mode an identity, whose input is the softmax weights). From them:

  attention   [layer][head][query][key]: the softmax weights, causal rows only (row q holds keys 0..q)
  logit_lens  [layer][position]: the top tokens of softmax(out_head(final_norm(x))) over the whole vocabulary,
              x the residual stream after that block, as [token, prob]
  loss        the book's chapter 5 cross-entropy of each prompt token given the ones before, its mean, exp(mean)
  next        the top 10 tokens after the last position: [token, logit, prob]
  sampler     for one setting of temperature, top_k and top_p, the probability of each `next` token under
              softmax(logits / temperature) restricted to the top_k most likely tokens and then to the smallest
              most-likely set whose probability reaches top_p (what the service's sampler draws from)

Before writing, the script checks that the model it rebuilt from the checkpoint reproduces the fixture's logits.f32.

usage: /usr/bin/python3 scripts/make_inspect_fixtures.py /work/shared/reference/gpt_reference.py FIXTURES_DIR
       (FIXTURES_DIR is src/test/resources/fixtures; the references go to FIXTURES_DIR/inspect/<fixture>.json)
"""
import argparse, importlib.util, json, math, os
import torch

# the fixture, the prompt length to inspect (at most its context), the lens's top-k, and one sampler setting
CASES = [
    ("tiny-book", 20, 5, {"temperature": 0.8, "top_k": 40, "top_p": 0.9}),
    ("tiny-hf-f16", 20, 5, {"temperature": 1.3, "top_k": None, "top_p": 0.5}),
    ("tiny-hf-bf16", 20, 5, {"temperature": 0.7, "top_k": 5, "top_p": None}),
    ("tiny-book-qkv-f16", 16, 5, {"temperature": 2.0, "top_k": 100, "top_p": 0.95}),
    ("gpt2-small-seed123", 4, 5, {"temperature": 1.5, "top_k": 20, "top_p": 0.9}),
]
NEXT_TOP = 10


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_fixture(ref, lm_head, folder):
    """The reference GPTModel holding the fixture's weights, widened to float32, and the fixture's reference.json."""
    fixture = json.load(open(os.path.join(folder, "reference.json")))
    cfg = fixture["config"]
    if not os.path.exists(os.path.join(folder, "model.safetensors")):  # the seed-123 model: only its reference is kept
        return ref.build(cfg, fixture["seed"]), fixture
    tensors, _, _ = lm_head.read_safetensors(os.path.join(folder, "model.safetensors"))
    if fixture["layout"] == "hf":
        prefix = "transformer." if "transformer.wte.weight" in tensors else ""
        return lm_head.rebuild(ref, cfg, tensors, prefix, tensors.get("lm_head.weight")), fixture
    model = ref.GPTModel(cfg)
    if "out_head.weight" not in tensors:
        model.out_head.weight = model.tok_emb.weight
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    assert not unexpected and all(k.endswith(".mask") or k == "out_head.weight" for k in missing), (missing, unexpected)
    return model.eval(), fixture


def check_logits(model, fixture, folder):
    expected = torch.from_numpy(__import__("numpy").fromfile(os.path.join(folder, "logits.f32"), dtype="<f4"))
    with torch.no_grad():
        actual = model(torch.tensor(fixture["logits_batch"])).reshape(-1)
    diff = float((actual - expected).abs().max())
    assert diff < 1e-4, f"{folder}: the rebuilt model's logits differ from logits.f32 by {diff}"


def sampled_probs(logits, setting, tokens):
    """What the service's sampler draws from: temperature, then top_k, then top_p over the kept tokens' weights."""
    scaled = logits.double() / setting["temperature"]
    values, order = torch.sort(scaled, descending=True, stable=True)
    kept = len(order) if setting["top_k"] is None else min(setting["top_k"], len(order))
    weights = torch.exp(values[:kept] - values[0])
    total = float(weights.sum())
    if setting["top_p"] is not None:
        cumulative = torch.cumsum(weights, 0)
        kept = int((cumulative < setting["top_p"] * total).sum()) + 1
        kept = min(kept, len(weights))
        total = float(cumulative[kept - 1])
    chosen = {int(order[i]): float(weights[i]) / total for i in range(kept)}
    return [chosen.get(t, 0.0) for t in tokens]


def inspect(model, prompt, lens_top, setting):
    residuals, weights = [], []
    hooks = [block.register_forward_hook(lambda m, i, o: residuals.append(o)) for block in model.trf_blocks]
    hooks += [block.att.dropout.register_forward_hook(lambda m, i, o: weights.append(i[0])) for block in model.trf_blocks]
    idx = torch.tensor([prompt])
    with torch.no_grad():
        logits = model(idx)[0]
        lens = []
        for x in residuals:
            probs = torch.softmax(model.out_head(model.final_norm(x))[0].double(), -1)
            p, t = torch.topk(probs, lens_top)
            lens.append([[[int(a), float(b)] for a, b in zip(t[q], p[q])] for q in range(len(prompt))])
    for h in hooks:
        h.remove()
    assert len(residuals) == len(weights) == len(model.trf_blocks)
    assert torch.equal(model.out_head(model.final_norm(residuals[-1]))[0], logits)
    per_token = torch.nn.functional.cross_entropy(logits[:-1].double(), idx[0, 1:], reduction="none").tolist()
    mean = sum(per_token) / len(per_token)
    last = logits[-1]
    probs = torch.softmax(last.double(), -1)
    top = torch.topk(last, NEXT_TOP).indices.tolist()
    attention = [[[w[0, h, q, :q + 1].tolist() for q in range(len(prompt))] for h in range(w.shape[1])] for w in weights]
    return {
        "prompt_tokens": prompt,
        "lens_top": lens_top,
        "attention": attention,
        "logit_lens": lens,
        "loss": {"per_token": per_token, "mean": mean, "perplexity": math.exp(mean)},
        "next": [[t, float(last[t]), float(probs[t])] for t in top],
        "sampler": {**setting, "sampled_prob": sampled_probs(last, setting, top)},
    }


def smallest_gap(result):
    """The smallest log-prob gap between neighbouring tokens of any lens cell or of next: how decided the order is."""
    gaps = []
    for layer in result["logit_lens"]:
        for cell in layer:
            gaps += [math.log(a[1]) - math.log(b[1]) for a, b in zip(cell, cell[1:])]
    gaps += [a[1] - b[1] for a, b in zip(result["next"], result["next"][1:])]
    return min(gaps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference", help="path of gpt_reference.py (the seeds' model)")
    ap.add_argument("fixtures", help="src/test/resources/fixtures")
    a = ap.parse_args()
    torch.set_num_threads(2)
    ref = load_module("gpt_reference", a.reference)
    lm_head = load_module("add_lm_head", os.path.join(os.path.dirname(os.path.abspath(__file__)), "add_lm_head.py"))
    out_dir = os.path.join(a.fixtures, "inspect")
    os.makedirs(out_dir, exist_ok=True)
    for name, length, lens_top, setting in CASES:
        folder = os.path.join(a.fixtures, name)
        model, fixture = load_fixture(ref, lm_head, folder)
        check_logits(model, fixture, folder)
        prompt = max((r["prompt_tokens"] for r in fixture["runs"]), key=len)[:length]
        result = {"fixture": name, **inspect(model, prompt, lens_top, setting)}
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            json.dump(result, f, separators=(",", ":"))
        print(f"{name}: {len(prompt)} tokens, next {result['next'][0][0]}, loss {result['loss']['mean']:.4f}, "
              f"smallest gap between ranked tokens {smallest_gap(result):.2e}")


if __name__ == "__main__":
    main()
