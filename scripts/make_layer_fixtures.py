"""Per-layer PyTorch fixtures: the seeds' LayerNorm, GELU, FeedForward, MultiHeadAttention and TransformerBlock.

Each layer is built with the seeds' classes from gpt_reference.py after torch.manual_seed, run on a small
input in eval mode, and its weights, input and output are written to one float32 safetensors file
(tensor names "<case>.<name>"; weights under the seeds' state_dict names), with the cases' configurations
and the checks the book prints in a JSON file beside it.

usage: /usr/bin/python3 scripts/make_layer_fixtures.py /work/shared/reference/gpt_reference.py OUT_DIR
"""
import argparse, importlib.util, json, os
import torch
import torch.nn as nn

EMB, HEADS, CONTEXT, BATCH, TOKENS = 18, 3, 8, 2, 6


def load_reference_module(path):
    spec = importlib.util.spec_from_file_location("gpt_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add(tensors, case, named):
    for name, t in named.items():
        tensors[f"{case}.{name}"] = t.detach().float().contiguous()


def randomise_norms(module):
    """LayerNorm parameters away from ones and zeros, so that a wrong scale or shift shows."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(".scale") or name == "scale":
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith(".shift") or name == "shift":
                p.copy_(0.1 * torch.randn_like(p))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference", help="path of gpt_reference.py (the seeds' model)")
    ap.add_argument("out", help="folder to write layers.safetensors and layers.json into")
    a = ap.parse_args()
    R = load_reference_module(a.reference)
    torch.set_num_threads(1)
    tensors, cases = {}, {}

    # Section 4.2: the book normalises torch.randn(2, 5) (seed 123) with LayerNorm(emb_dim=5) and prints
    # the mean (about 0) and variance (about 1) of each row of the output
    torch.manual_seed(123)
    batch_example = torch.randn(2, 5)
    ln = R.LayerNorm(5)
    out = ln(batch_example)
    add(tensors, "layer_norm_book", {"input": batch_example, "output": out})
    cases["layer_norm_book"] = {"emb": 5, "rows": 2,
                                "mean": out.mean(dim=-1).tolist(),
                                "var": out.var(dim=-1, unbiased=False).tolist()}

    # LayerNorm with scale and shift that matter, on (batch, tokens, emb)
    torch.manual_seed(123)
    ln = R.LayerNorm(EMB)
    randomise_norms(ln)
    x = 2 * torch.randn(BATCH, TOKENS, EMB) + 0.5
    add(tensors, "layer_norm", {"input": x, "output": ln(x), **ln.state_dict()})
    cases["layer_norm"] = {"emb": EMB, "batch": BATCH, "tokens": TOKENS}

    # Section 4.3: GELU against ReLU over torch.linspace(-3, 3, 100)
    x = torch.linspace(-3, 3, 100)
    add(tensors, "gelu", {"input": x, "output": R.GELU()(x), "relu": nn.ReLU()(x)})
    cases["gelu"] = {"n": 100}

    cfg = {"vocab_size": 50257, "context_length": CONTEXT, "emb_dim": EMB, "n_heads": HEADS, "n_layers": 1,
           "drop_rate": 0.1, "qkv_bias": False}

    # Section 4.3: FeedForward on torch.rand(batch, tokens, emb)
    torch.manual_seed(123)
    ff = R.FeedForward(cfg).eval()
    x = torch.rand(BATCH, TOKENS, EMB)
    add(tensors, "feed_forward", {"input": x, "output": ff(x), **ff.state_dict()})
    cases["feed_forward"] = {"emb": EMB, "batch": BATCH, "tokens": TOKENS}

    # Listing 3.5's causal MultiHeadAttention, with query/key/value biases (as GPT-2's checkpoints have)
    torch.manual_seed(123)
    mha = R.MHA(EMB, EMB, CONTEXT, 0.1, HEADS, True).eval()
    x = torch.randn(BATCH, TOKENS, EMB)
    with torch.no_grad():
        out = mha(x)
    state = {k: v for k, v in mha.state_dict().items() if k != "mask"}
    add(tensors, "multi_head_attention", {"input": x, "output": out, **state})
    cases["multi_head_attention"] = {"emb": EMB, "heads": HEADS, "context_length": CONTEXT, "qkv_bias": True,
                                     "batch": BATCH, "tokens": TOKENS}

    # Section 4.5: one TransformerBlock (qkv_bias false, as GPT_CONFIG_124M) on torch.rand(batch, tokens, emb)
    torch.manual_seed(123)
    block = R.Block(cfg).eval()
    randomise_norms(block)
    x = torch.rand(BATCH, TOKENS, EMB)
    with torch.no_grad():
        out = block(x)
    state = {k: v for k, v in block.state_dict().items() if not k.endswith(".mask")}
    add(tensors, "transformer_block", {"input": x, "output": out, **state})
    cases["transformer_block"] = {"emb": EMB, "heads": HEADS, "context_length": CONTEXT, "qkv_bias": False,
                                  "batch": BATCH, "tokens": TOKENS}

    os.makedirs(a.out, exist_ok=True)
    R.save_safetensors(os.path.join(a.out, "layers.safetensors"), tensors, "F32")
    with open(os.path.join(a.out, "layers.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
    print(a.out, len(tensors), "tensors,", sum(t.numel() for t in tensors.values()), "values")


if __name__ == "__main__":
    main()
