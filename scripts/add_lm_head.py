"""Adds an explicit lm_head.weight to a Hugging Face layout fixture made by gpt_reference.py.

GPT2LMHeadModel checkpoints often carry `lm_head.weight` beside `transformer.wte.weight`. Two variants:

  tied:   lm_head.weight is a copy of wte. The model is unchanged, so the source fixture's
          reference.json and logits.f32 still hold; only config.json and model.safetensors are written.
  untied: lm_head.weight is drawn afresh (normal, std --std, from --seed), so the head must load as
          its own array; reference.json and logits.f32 are recomputed with the reference PyTorch model.

Either way the script first rebuilds the PyTorch model from the source fixture's tensors and checks that
it reproduces the source fixture's greedy runs, so the rebuilt model is known to be the one the fixture holds.

usage: /usr/bin/python3 scripts/add_lm_head.py /work/shared/reference/gpt_reference.py SRC OUT tied
       /usr/bin/python3 scripts/add_lm_head.py /work/shared/reference/gpt_reference.py SRC OUT untied --seed 21 --std 0.1
"""
import argparse, importlib.util, json, os, shutil, struct
import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def load_reference_module(path):
    spec = importlib.util.spec_from_file_location("gpt_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_safetensors(path):
    """Tensors in file order, in their stored dtype, and the file's dtype and __metadata__."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    metadata = header.pop("__metadata__", None)
    tensors, dtypes = {}, set()
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = e["data_offsets"]
        raw = bytearray(data[begin:end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).clone()
        dtypes.add(e["dtype"])
    assert len(dtypes) == 1, dtypes
    return tensors, dtypes.pop(), metadata


def rebuild(ref, cfg, tensors, prefix, head):
    """The seeds' GPTModel holding the hf tensors (the inverse of gpt_reference.hf_state); head None ties it to wte."""
    model = ref.GPTModel(cfg)
    if head is None:
        model.out_head.weight = model.tok_emb.weight
    t = {k[len(prefix):] if k.startswith(prefix) else k: v.float() for k, v in tensors.items()}
    e = cfg["emb_dim"]
    with torch.no_grad():
        model.tok_emb.weight.copy_(t["wte.weight"])
        model.pos_emb.weight.copy_(t["wpe.weight"])
        for i, block in enumerate(model.trf_blocks):
            h = f"h.{i}."
            block.norm1.scale.copy_(t[h + "ln_1.weight"]), block.norm1.shift.copy_(t[h + "ln_1.bias"])
            block.norm2.scale.copy_(t[h + "ln_2.weight"]), block.norm2.shift.copy_(t[h + "ln_2.bias"])
            for k, lin in enumerate((block.att.W_query, block.att.W_key, block.att.W_value)):
                lin.weight.copy_(t[h + "attn.c_attn.weight"][:, k * e:(k + 1) * e].T)  # Conv1D [in, out]
                lin.bias.copy_(t[h + "attn.c_attn.bias"][k * e:(k + 1) * e])
            block.att.out_proj.weight.copy_(t[h + "attn.c_proj.weight"].T)
            block.att.out_proj.bias.copy_(t[h + "attn.c_proj.bias"])
            block.ff.layers[0].weight.copy_(t[h + "mlp.c_fc.weight"].T)
            block.ff.layers[0].bias.copy_(t[h + "mlp.c_fc.bias"])
            block.ff.layers[2].weight.copy_(t[h + "mlp.c_proj.weight"].T)
            block.ff.layers[2].bias.copy_(t[h + "mlp.c_proj.bias"])
        model.final_norm.scale.copy_(t["ln_f.weight"])
        model.final_norm.shift.copy_(t["ln_f.bias"])
        if head is not None:
            model.out_head.weight.copy_(head.float())
    return model.eval()


def check_same_runs(rebuilt, source):
    """Same tokens, log-probs equal up to float32 rounding (BLAS may sum in another order than where the fixture was made)."""
    for r, s in zip(rebuilt, source, strict=True):
        assert r["generated_tokens"] == s["generated_tokens"], "rebuilt model differs from the source"
        for x, y in zip(r["steps"], s["steps"]):
            assert abs(x["logprob"] - y["logprob"]) < 1e-5, "rebuilt model differs from the source"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference_py")
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("variant", choices=["tied", "untied"])
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--std", type=float, default=0.1)
    a = ap.parse_args()
    torch.set_num_threads(2)
    ref = load_reference_module(a.reference_py)

    src_ref = json.load(open(os.path.join(a.src, "reference.json")))
    cfg = src_ref["config"]
    tensors, dtype, metadata = read_safetensors(os.path.join(a.src, "model.safetensors"))
    prefix = "transformer." if "transformer.wte.weight" in tensors else ""
    prompts = [r["prompt_tokens"] for r in src_ref["runs"]]
    max_new = len(src_ref["runs"][0]["generated_tokens"])

    check_same_runs(ref.reference_run(rebuild(ref, cfg, tensors, prefix, None), cfg, prompts, max_new), src_ref["runs"])

    wte = tensors[prefix + "wte.weight"]
    if a.variant == "tied":
        head = wte.clone()
    else:
        g = torch.Generator().manual_seed(a.seed)
        head = (a.std * torch.randn(wte.shape, generator=g)).to(wte.dtype)  # as stored: the reference widens it back
    os.makedirs(a.out, exist_ok=True)
    shutil.copy(os.path.join(a.src, "config.json"), os.path.join(a.out, "config.json"))
    ref.save_safetensors(os.path.join(a.out, "model.safetensors"), {**tensors, "lm_head.weight": head}, dtype, metadata)
    if a.variant == "tied":
        print(a.out, "tied: reference is", a.src)
        return

    model = rebuild(ref, cfg, tensors, prefix, head)
    out_ref = {**src_ref, "lm_head": {"seed": a.seed, "std": a.std},
               "total_params": sum(p.numel() for p in model.parameters()),
               "runs": ref.reference_run(model, cfg, prompts, max_new)}
    with torch.no_grad():
        logits = model(torch.tensor(src_ref["logits_batch"]))
    logits.numpy().astype("<f4").tofile(os.path.join(a.out, "logits.f32"))
    json.dump(out_ref, open(os.path.join(a.out, "reference.json"), "w"), indent=1)
    print(a.out, out_ref["total_params"], [r["generated_tokens"] for r in out_ref["runs"]])


if __name__ == "__main__":
    main()
