"""Makes the PyTorch .pth fixtures: checkpoints saved by torch.save exactly as the book's chapter 5 does,
the reference runs of the models they hold, and .pth files that would run code when unpickled.

Each checkpoint is the seeds' GPTModel of gpt_reference.py. Where a folder has a reference.json and a
logits.f32, they are computed from the model as saved (weights widened back to float32), exactly as
gpt_reference.make_fixture computes them; before anything is written each checkpoint is loaded back
with torch.load and must reproduce those runs.

Folders written under OUT:
  tiny-book-pth/           model.pth (torch.save(model.state_dict())) and model_and_optimizer.pth
                           ({"model_state_dict", "optimizer_state_dict", "epoch", "loss"}) of one model,
                           after one AdamW step; config.json with context_length
  tiny-book-pth-ctx-len/   qkv_bias true, config.json with ctx_len, bool attention masks, pickle protocol 4
  tiny-book-pth-bf16/      model.to(torch.bfloat16).state_dict(), pickle protocol 5
  pth-tiny/                a vocabulary of 10 (a few kB each): the fuzz base (state_dict and with optimizer),
                           F16 and the same values widened to F32, tensors sharing storages (tied head,
                           fused query/key/value views) and the same values unshared, a transposed weight,
                           the same model under Hugging Face GPT-2 names, and torch.save(model) of the module
  pth-gpt2-shapes/         data.pkl only, of GPT-2 small state_dicts (the seeds' names without and with
                           qkv_bias, 13 blocks, and GPT2LMHeadModel's names); <name>.json lists each storage's
                           bytes, which the tests write as zeros into sparse files
  pth-malicious/           one file per global that would run code (os.system, builtins.eval, ...); each is
                           checked to run its payload under torch.load, which then touches PAYLOAD_MARKER

usage: /usr/bin/python3 scripts/make_pth_fixtures.py /work/shared/reference/gpt_reference.py src/test/resources/fixtures
"""
import argparse, copy, importlib.util, io, json, os, pickle, subprocess, sys, time, zipfile
import torch

PAYLOAD_MARKER = "/tmp/scratchgpt-pth-payload-ran"

PROMPTS = [[15496, 11, 314, 716], [6109, 3626, 6100, 345],
           [40, 1101, 257, 2746, 3492, 284, 1037, 13, 632, 373, 257, 3223, 290, 6388, 1755, 11, 290, 262, 1468, 1110,
            40, 1101, 257, 2746, 3492, 284, 1037, 13, 632, 373, 257, 3223, 290, 6388, 1755, 11, 290, 262, 1468, 1110]]
LOGITS_BATCH = [[6109, 3626, 6100, 345], [6109, 1110, 6622, 257]]
MAX_NEW = 12


def load_reference_module(path):
    spec = importlib.util.spec_from_file_location("gpt_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpt_reference"] = module  # so that torch.save(model) can name the model's class
    spec.loader.exec_module(module)
    return module


def train_one_step(model, cfg, seed):
    """One AdamW step as in the book's train_model_simple (lr 4e-4, weight decay 0.1) on a random batch."""
    g = torch.Generator().manual_seed(seed)
    batch = torch.randint(0, cfg["vocab_size"], (2, cfg["context_length"] + 1), generator=g)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    model.train()
    optimizer.zero_grad()
    logits = model(batch[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten())
    loss.backward()
    optimizer.step()
    model.eval()
    return optimizer, loss.item()


def write_reference(ref, out, model, cfg, meta):
    """reference.json and logits.f32 of a float32 model, in make_fixture's format, once every .pth of the
    folder, loaded back with torch.load, reproduces its runs."""
    runs = ref.reference_run(model, cfg, PROMPTS, MAX_NEW)
    for name in sorted(os.listdir(out)):
        if name.endswith(".pth"):
            check_reloads(ref, os.path.join(out, name), cfg, runs)
    data = {"config": cfg, **meta, "total_params": sum(p.numel() for p in model.parameters()),
            "runs": runs}
    with torch.no_grad():
        logits = model(torch.tensor(LOGITS_BATCH))
    logits.numpy().astype("<f4").tofile(os.path.join(out, "logits.f32"))
    data["logits_batch"] = LOGITS_BATCH
    data["logits_shape"] = list(logits.shape)
    json.dump(data, open(os.path.join(out, "reference.json"), "w"), indent=1)
    return data


def check_reloads(ref, path, cfg, runs):
    """torch.load gives back a state_dict that, in a fresh float32 model, reproduces the runs."""
    loaded = torch.load(path)
    state = loaded.get("model_state_dict", loaded)
    model = ref.GPTModel(cfg)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    model.eval()
    assert [r["generated_tokens"] for r in ref.reference_run(model, cfg, PROMPTS, MAX_NEW)] == \
        [r["generated_tokens"] for r in runs], path


def smallest_gap(runs):
    return min(s["top"][0][1] - s["top"][1][1] for r in runs for s in r["steps"])


def write_json(path, value):
    json.dump(value, open(path, "w"), indent=2)


def make_book_pth(ref, out):
    """(a) and (b): one model after one AdamW step, saved both ways of the book's chapter 5."""
    cfg = {"vocab_size": 50257, "context_length": 8, "emb_dim": 4, "n_heads": 2, "n_layers": 2, "drop_rate": 0.1,
           "qkv_bias": False}
    os.makedirs(out, exist_ok=True)
    model = ref.build(cfg, 31, gpt2_init=True, block_std=0.5)
    optimizer, loss = train_one_step(model, cfg, 32)
    torch.save(model.state_dict(), os.path.join(out, "model.pth"))
    torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
                "epoch": 1, "loss": loss}, os.path.join(out, "model_and_optimizer.pth"))
    write_json(os.path.join(out, "config.json"), cfg)
    data = write_reference(ref, out, model, cfg, {"seed": 31, "layout": "book", "dtype": "F32", "gpt2_init": True,
                                                  "block_std": 0.5, "adamw_steps": 1, "adamw_batch_seed": 32})
    return data


def make_ctx_len_pth(ref, out):
    """(c): the chapter's earlier GPT_CONFIG (ctx_len, qkv_bias true), masks registered as bool, protocol 4."""
    cfg = {"vocab_size": 50257, "context_length": 10, "emb_dim": 6, "n_heads": 3, "n_layers": 2, "drop_rate": 0.1,
           "qkv_bias": True}
    os.makedirs(out, exist_ok=True)
    model = ref.build(cfg, 33, gpt2_init=True, block_std=0.5)
    for block in model.trf_blocks:
        block.att.mask = block.att.mask.bool()
    torch.save(model.state_dict(), os.path.join(out, "model.pth"), pickle_protocol=4)
    notes_cfg = {"vocab_size": 50257, "ctx_len": 10, "emb_dim": 6, "n_heads": 3, "n_layers": 2, "drop_rate": 0.1,
                 "qkv_bias": True}
    write_json(os.path.join(out, "config.json"), notes_cfg)
    data = write_reference(ref, out, model, cfg, {"seed": 33, "layout": "book", "dtype": "F32", "gpt2_init": True,
                                                  "block_std": 0.5, "pickle_protocol": 4, "mask": "bool"})
    return data


def make_bf16_pth(ref, out):
    """(d): model.to(torch.bfloat16), masks included; the reference widens the stored weights back to float32."""
    cfg = {"vocab_size": 50257, "context_length": 12, "emb_dim": 8, "n_heads": 2, "n_layers": 2, "drop_rate": 0.1,
           "qkv_bias": False}
    os.makedirs(out, exist_ok=True)
    bf16 = ref.build(cfg, 34, gpt2_init=True, block_std=0.5).to(torch.bfloat16)
    torch.save(bf16.state_dict(), os.path.join(out, "model.pth"), pickle_protocol=5)
    write_json(os.path.join(out, "config.json"), cfg)
    model = copy.deepcopy(bf16).float().eval()
    data = write_reference(ref, out, model, cfg, {"seed": 34, "layout": "book", "dtype": "BF16", "gpt2_init": True,
                                                  "block_std": 0.5, "pickle_protocol": 5})
    return data


def make_tiny(ref, out):
    """A vocabulary of 10: small enough to fuzz thousands of times, and the storage variants."""
    cfg = {"vocab_size": 10, "context_length": 4, "emb_dim": 4, "n_heads": 2, "n_layers": 1, "drop_rate": 0.1,
           "qkv_bias": True}
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), cfg)
    model = ref.build(cfg, 35, gpt2_init=True, block_std=0.5)
    optimizer, loss = train_one_step(model, cfg, 36)
    torch.save(model.state_dict(), os.path.join(out, "model.pth"))
    torch.save({"model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
                "epoch": 1, "loss": loss}, os.path.join(out, "model_and_optimizer.pth"))

    f16 = copy.deepcopy(model).half()
    torch.save(f16.state_dict(), os.path.join(out, "model-f16.pth"))
    torch.save(copy.deepcopy(f16).float().state_dict(), os.path.join(out, "model-f16-as-f32.pth"))

    # tied head and fused query/key/value: several tensors viewing one storage, at storage offsets
    shared = copy.deepcopy(model)
    e = cfg["emb_dim"]
    with torch.no_grad():
        shared.out_head.weight = shared.tok_emb.weight
        att = shared.trf_blocks[0].att
        qkv = torch.cat([att.W_query.weight, att.W_key.weight, att.W_value.weight])
        att.W_query.weight, att.W_key.weight, att.W_value.weight = (
            torch.nn.Parameter(qkv[k * e:(k + 1) * e]) for k in range(3))
    state = shared.state_dict()
    assert state["out_head.weight"].data_ptr() == state["tok_emb.weight"].data_ptr()
    assert state["trf_blocks.0.att.W_value.weight"].storage_offset() == 2 * e * e
    torch.save(state, os.path.join(out, "model-shared-storage.pth"))
    torch.save({k: v.clone() for k, v in state.items()}, os.path.join(out, "model-shared-storage-unshared.pth"))

    # the same model under GPT2LMHeadModel's names, its head kept as lm_head (untied)
    hf = {"transformer." + k: v.contiguous() for k, v in ref.hf_state(model, cfg).items()}
    hf["lm_head.weight"] = model.out_head.weight.detach()
    torch.save(hf, os.path.join(out, "model-hf.pth"))

    torch.save(model, os.path.join(out, "whole-model.pth"))  # the module itself: a pickle of its classes

    transposed = model.state_dict()
    transposed["trf_blocks.0.att.W_key.weight"] = transposed["trf_blocks.0.att.W_key.weight"].t()
    assert not transposed["trf_blocks.0.att.W_key.weight"].is_contiguous()
    torch.save(transposed, os.path.join(out, "model-transposed.pth"))


def make_gpt2_shapes(ref, out):
    """data.pkl of GPT-2 small state_dicts, and the bytes of each storage: a GPT-2 size without config.json."""
    os.makedirs(out, exist_ok=True)
    small = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
             "drop_rate": 0.1, "qkv_bias": False}
    torch.manual_seed(0)
    variants = {
        "book": ref.book_state(ref.GPTModel(small)),
        "book-qkv-bias": ref.book_state(ref.GPTModel({**small, "qkv_bias": True})),
        "book-13-blocks": ref.book_state(ref.GPTModel({**small, "n_layers": 13})),
    }
    hf_model = ref.GPTModel({**small, "qkv_bias": True})
    hf = {"transformer." + k: v.contiguous() for k, v in ref.hf_state(hf_model, small).items()}
    for i in range(12):  # GPT2Attention's causal-mask buffer
        hf[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(1024, 1024, dtype=torch.bool)).view(1, 1, 1024, 1024)
    hf["lm_head.weight"] = hf["transformer.wte.weight"]  # tied: one storage
    variants["hf"] = hf
    for name, state in variants.items():
        buf = io.BytesIO()
        torch.save(state, buf)
        buf.seek(0)
        with zipfile.ZipFile(buf) as z:
            prefix = z.namelist()[0].split("/")[0]
            open(os.path.join(out, name + ".pkl"), "wb").write(z.read(prefix + "/data.pkl"))
            storages = {i.filename[len(prefix) + len("/data/"):]: i.file_size for i in z.infolist()
                        if i.filename.startswith(prefix + "/data/")}
        write_json(os.path.join(out, name + ".json"), storages)


# --- files that run code when unpickled


def rewriting_pickle_module(old, new):
    """A pickle module for torch.save whose data.pkl has one global replaced: torch still writes the storages
    that persistent_id records, so the archive is otherwise exactly what torch.save makes."""
    class Pickler(pickle.Pickler):
        def __init__(self, file, protocol):
            super().__init__(file, protocol=protocol)
            self.file, self.protocol = file, protocol

        def dump(self, obj):
            buf = io.BytesIO()
            inner = pickle.Pickler(buf, protocol=self.protocol)
            inner.persistent_id = self.persistent_id
            inner.dump(obj)
            data = buf.getvalue()
            assert data.count(old) == 1, (old, data)
            self.file.write(data.replace(old, new))

    module = type(sys)("rewriting_pickle")
    module.Pickler = Pickler
    return module


class System:
    """os.system(cmd), which pickles as posix.system on Linux."""
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return os.system, (self.cmd,)


class Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


class Payload:
    """A class of the saving script itself: unpickling calls it, and its __init__ runs a command."""
    def __init__(self, cmd):
        os.system(cmd)
        self.cmd = cmd

    def __reduce__(self):
        return Payload, (self.cmd,)


def make_malicious(out):
    os.makedirs(out, exist_ok=True)
    touch = f"touch {PAYLOAD_MARKER}"
    write_py = f"open({PAYLOAD_MARKER!r}, 'w').close()"
    tensor = torch.arange(4, dtype=torch.float32).reshape(2, 2)
    payload = Payload.__new__(Payload)  # built without running it
    payload.cmd = touch

    def state(payload):
        # a real tensor beside the payload, as in a tampered state_dict
        return {"tok_emb.weight": tensor, "pos_emb.weight": payload}

    # name: (object to save, pickle protocol, (global as pickled, global written) or None)
    files = {
        "posix.system": (state(System(touch)), 2, None),
        "os.system": (state(System(touch)), 2, (b"cposix\nsystem\n", b"cos\nsystem\n")),
        "nt.system": (state(System(touch)), 2, (b"cposix\nsystem\n", b"cnt\nsystem\n")),
        "builtins.eval": (state(Call(eval, write_py)), 4, None),
        "builtins.exec": (state(Call(exec, write_py)), 4, None),
        "__builtin__.exec": (state(Call(exec, write_py)), 2, None),
        "subprocess.Popen": (state(Call(subprocess.Popen, ["touch", PAYLOAD_MARKER])), 4, None),
        "torch.serialization.load": (state(Call(torch.load, "posix.system.pth")), 2, None),
        "torch.load": (state(Call(torch.load, "posix.system.pth")), 2,
                       (b"ctorch.serialization\nload\n", b"ctorch\nload\n")),
        "__main__.Payload": (state(payload), 2, None),
    }
    for name, (obj, protocol, rewrite) in files.items():
        path = os.path.join(out, name + ".pth")
        module = rewriting_pickle_module(*rewrite) if rewrite else pickle
        torch.save(obj, path, pickle_module=module, pickle_protocol=protocol)
    # the payload hidden in the optimizer state, the part a loader of the model skips
    torch.save({"model_state_dict": {"tok_emb.weight": tensor},
                "optimizer_state_dict": {"state": {0: {"step": System(touch)}}, "param_groups": []}},
               os.path.join(out, "optimizer-posix.system.pth"))
    write_json(os.path.join(out, "config.json"), {"vocab_size": 2, "context_length": 2, "emb_dim": 2, "n_heads": 1,
                                                 "n_layers": 1, "drop_rate": 0.0, "qkv_bias": False})

    # each file really runs its payload under torch.load (except nt.system, which needs Windows)
    for name in list(files) + ["optimizer-posix.system"]:
        if name == "nt.system":
            continue
        if os.path.exists(PAYLOAD_MARKER):
            os.remove(PAYLOAD_MARKER)
        try:
            torch.load(os.path.join(out, name + ".pth"))
        except Exception:
            pass  # torch.load may fail after the payload ran (Popen's result is no tensor), which is the point
        for _ in range(100):  # subprocess.Popen runs touch in the background
            if os.path.exists(PAYLOAD_MARKER):
                break
            time.sleep(0.05)
        assert os.path.exists(PAYLOAD_MARKER), f"{name}.pth did not run its payload under torch.load"
        os.remove(PAYLOAD_MARKER)
        print(f"{name}.pth: torch.load ran the payload")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference_py")
    ap.add_argument("out")
    a = ap.parse_args()
    torch.set_num_threads(2)
    ref = load_reference_module(a.reference_py)
    for name, make in (("tiny-book-pth", make_book_pth), ("tiny-book-pth-ctx-len", make_ctx_len_pth),
                       ("tiny-book-pth-bf16", make_bf16_pth)):
        data = make(ref, os.path.join(a.out, name))
        print(name, data["total_params"], [r["generated_tokens"] for r in data["runs"]],
              "smallest gap %.2g" % smallest_gap(data["runs"]))
    make_tiny(ref, os.path.join(a.out, "pth-tiny"))
    make_gpt2_shapes(ref, os.path.join(a.out, "pth-gpt2-shapes"))
    out = os.path.abspath(os.path.join(a.out, "pth-malicious"))
    os.makedirs(out, exist_ok=True)
    os.chdir(out)  # torch.load of torch.load.pth opens posix.system.pth from here
    make_malicious(out)


if __name__ == "__main__":
    main()
