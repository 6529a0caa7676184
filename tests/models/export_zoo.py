#!/usr/bin/env python3
"""FusionRT's model zoo: exports reference models to ONNX with PyTorch.

Each model is built from a configuration with random weights drawn from a fixed
seed (no download), put in eval mode, exported with torch.onnx.export (opset 17,
dynamic batch and, for text models, dynamic sequence), and run once in PyTorch
(float32, CPU) on fixed random inputs to give reference outputs.

For each model NAME the output folder gets:
  NAME.onnx   the exported model
  NAME.npz    "in.<input name>" arrays and "out.<output name>" reference outputs
and manifest.json describes every model (inputs, outputs, dynamic axes, the
exporter and versions used, the tolerance tests apply).

Sizes: "tiny" (a few hundred KB each; these are committed under
tests/models/tiny/ so CI needs no PyTorch) and "full" (the real architectures
at their published sizes, for benchmarks; never committed).

  python3 tests/models/export_zoo.py --size tiny --out tests/models/tiny
  python3 tests/models/export_zoo.py --size full --out /tmp/zoo --models bert,resnet50

Needs torch, torchvision, transformers and onnx (the GPU machine has them).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

SEED = 20261123
OPSET = 17
DYNAMO_OPSET = 18

# Reference-vs-FusionRT tolerance, as the relative L2 error ||out - ref|| / ||ref||.
# Both sides compute in float32 with different summation orders; over a few
# layers that gives errors around 1e-6, so 1e-4 leaves room without letting a
# wrong kernel (errors of order 1e-2 and up) pass.
FP32_REL_L2 = 1e-4


def text_inputs(torch, batch, seq, vocab, with_mask=True, with_types=False):
    g = torch.Generator().manual_seed(SEED + 1)
    feeds = {"input_ids": torch.randint(0, vocab, (batch, seq), generator=g)}
    if with_mask:
        mask = torch.ones(batch, seq, dtype=torch.int64)
        if batch > 1:
            mask[1, seq - seq // 4:] = 0  # padding at the end of the second row
        feeds["attention_mask"] = mask
    if with_types:
        types = torch.zeros(batch, seq, dtype=torch.int64)
        types[:, seq // 2:] = 1
        feeds["token_type_ids"] = types
    return feeds


def image_inputs(torch, batch, size):
    g = torch.Generator().manual_seed(SEED + 2)
    return {"pixel_values": torch.randn(batch, 3, size, size, generator=g)}


def make_bert(torch, size):
    from transformers import BertConfig, BertModel
    if size == "tiny":
        cfg = BertConfig(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=256, max_position_embeddings=64)
        batch, seq = 2, 16
    else:
        cfg = BertConfig()  # bert-base-uncased: 12 layers, hidden 768, 12 heads
        batch, seq = 1, 128
    model = BertModel(cfg)
    feeds = text_inputs(torch, batch, seq, cfg.vocab_size, with_types=True)
    return model, feeds, ["last_hidden_state", "pooler_output"], {"batch": 0, "sequence": 1}


def make_gpt2(torch, size):
    from transformers import GPT2Config, GPT2Model
    if size == "tiny":
        cfg = GPT2Config(vocab_size=512, n_embd=64, n_layer=2, n_head=4, n_positions=64)
        batch, seq = 2, 16
    else:
        cfg = GPT2Config()  # gpt2 (124M)
        batch, seq = 1, 128
    cfg.use_cache = False
    model = GPT2Model(cfg)
    feeds = text_inputs(torch, batch, seq, cfg.vocab_size, with_mask=False)
    return model, feeds, ["last_hidden_state"], {"batch": 0, "sequence": 1}


def make_t5enc(torch, size):
    from transformers import T5Config, T5EncoderModel
    if size == "tiny":
        cfg = T5Config(vocab_size=512, d_model=64, d_kv=16, d_ff=256, num_layers=2, num_heads=4)
        batch, seq = 2, 16
    else:
        cfg = T5Config()  # t5-small encoder: 6 layers, d_model 512, 8 heads
        batch, seq = 1, 128
    model = T5EncoderModel(cfg)
    feeds = text_inputs(torch, batch, seq, cfg.vocab_size)
    return model, feeds, ["last_hidden_state"], {"batch": 0, "sequence": 1}


def make_vit(torch, size):
    from transformers import ViTConfig, ViTModel
    if size == "tiny":
        cfg = ViTConfig(image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=256)
        batch = 2
    else:
        cfg = ViTConfig()  # ViT-B/16 at 224
        batch = 1
    model = ViTModel(cfg, add_pooling_layer=False)
    feeds = image_inputs(torch, batch, cfg.image_size)
    return model, feeds, ["last_hidden_state"], {"batch": 0}


def make_resnet50(torch, size):
    from transformers import ResNetConfig, ResNetForImageClassification
    if size == "tiny":
        # ResNet-50's block structure (bottlenecks, BN, ReLU, projection shortcuts) at small width.
        cfg = ResNetConfig(embedding_size=16, hidden_sizes=[32, 64, 128, 256], depths=[1, 1, 1, 1],
                           layer_type="bottleneck", num_labels=10)
        batch, image = 2, 32
    else:
        cfg = ResNetConfig(num_labels=1000)  # microsoft/resnet-50's architecture
        batch, image = 1, 224
    model = ResNetForImageClassification(cfg)
    feeds = image_inputs(torch, batch, image)
    return model, feeds, ["logits"], {"batch": 0}


def make_mobilenetv2(torch, size):
    import torchvision
    if size == "tiny":
        model = torchvision.models.mobilenet_v2(weights=None, width_mult=0.25, num_classes=10)
        batch, image = 2, 32
    else:
        model = torchvision.models.mobilenet_v2(weights=None)
        batch, image = 1, 224
    feeds = image_inputs(torch, batch, image)

    class Named(torch.nn.Module):  # torchvision models take the image positionally
        def __init__(self):
            super().__init__()
            self.net = model

        def forward(self, pixel_values):
            return self.net(pixel_values)

    return Named(), feeds, ["logits"], {"batch": 0}


# Exported without the exporter's constant folding, which would fold BatchNorm into the
# convolutions: FusionRT's own Conv+BatchNorm fusion must do it (as for models from other tools).
KEEP_BATCHNORM = {"resnet50"}

MODELS = {
    "bert": make_bert,
    "gpt2": make_gpt2,
    "t5enc": make_t5enc,
    "vit": make_vit,
    "resnet50": make_resnet50,
    "mobilenetv2": make_mobilenetv2,
}


class OutputsAsTuple:
    """Wraps a model so that forward(*inputs) returns a tuple of the named outputs."""

    def __new__(cls, torch, model, input_names, output_names):
        class Wrapper(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, *args):
                out = self.model(**dict(zip(input_names, args)))
                if isinstance(out, torch.Tensor):
                    return (out,)
                if hasattr(out, "keys"):
                    return tuple(out[name] for name in output_names)
                return tuple(out)

        return Wrapper()


def randomize_vectors(torch, model):
    """Gives biases, norm scales and BatchNorm statistics random values.

    Fresh models start with zero biases, unit norm scales and identity BatchNorm statistics,
    which would hide a fusion that drops or misplaces them; matrices keep their own init.
    """
    g = torch.Generator().manual_seed(SEED + 3)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.dim() == 1:
                base = 1.0 if torch.all(p == 1) else 0.0  # scales stay near 1, shifts near 0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
        for bname, b in model.named_buffers():
            if bname.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif bname.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))


def export_onnx(torch, wrapper, args, path, input_names, output_names, dynamic_axes,
                constant_folding=True, label="model"):
    """Exports with the TorchScript exporter at opset 17, or the dynamo one at 18 when the
    TorchScript exporter cannot (GPT-2 in transformers 5); returns which one ran."""
    try:
        torch.onnx.export(wrapper, args, path, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes,
                          do_constant_folding=constant_folding, dynamo=False)
        return "torchscript"
    except Exception as e:  # the TorchScript exporter may be gone in newer PyTorch
        print(f"  {label}: torchscript exporter failed ({type(e).__name__}: {str(e)[:300]}); "
              "trying dynamo", file=sys.stderr)
    # torch.export specializes a dimension of size 1 into a constant (the exported graph
    # would only accept batch 1): trace with the batch repeated to 2 when it is 1.
    args = tuple(a.repeat(2, *([1] * (a.dim() - 1))) if a.dim() and a.shape[0] == 1 else a
                 for a in args)
    # forward(*args) takes one tuple: its dynamic shapes are one tuple of per-input dicts.
    dims = {}
    shapes = tuple({axis: dims.setdefault(dim, torch.export.Dim(dim))
                    for axis, dim in dynamic_axes[k].items()} for k in input_names)
    # Opset 18: the dynamo exporter's lowest; its down-conversion to 17 leaves opset-18
    # attributes behind (Split's num_outputs), which onnxruntime rightly rejects.
    torch.onnx.export(wrapper, args, path, opset_version=DYNAMO_OPSET,
                      input_names=input_names, output_names=output_names,
                      dynamic_shapes=(shapes,), dynamo=True, external_data=False)
    return "dynamo"


def export_one(torch, name, size, out_dir):
    torch.manual_seed(SEED)
    model, feeds, output_names, dyn = MODELS[name](torch, size)
    randomize_vectors(torch, model)
    model.eval()
    input_names = list(feeds)
    wrapper = OutputsAsTuple(torch, model, input_names, output_names).eval()
    args = tuple(feeds[k] for k in input_names)
    with torch.no_grad():
        ref = wrapper(*args)
    dynamic_axes = {}
    for k in input_names:
        dims = {axis: dim for dim, axis in dyn.items() if axis < feeds[k].dim()}
        if name in ("vit", "resnet50", "mobilenetv2"):
            dims = {0: "batch"}
        dynamic_axes[k] = dims
    for k in output_names:
        dynamic_axes[k] = {0: "batch", **({1: "sequence"} if "sequence" in dyn
                                            and k == "last_hidden_state" else {})}
    path = os.path.join(out_dir, name + ".onnx")
    t0 = time.time()
    exporter = export_onnx(torch, wrapper, args, path, input_names, output_names, dynamic_axes,
                           constant_folding=name not in KEEP_BATCHNORM, label=name)
    seconds = time.time() - t0
    arrays = {f"in.{k}": v.numpy() for k, v in feeds.items()}
    arrays.update({f"out.{k}": v.detach().numpy() for k, v in zip(output_names, ref)})
    np.savez(os.path.join(out_dir, name + ".npz"), **arrays)
    import onnx
    proto = onnx.load(path)
    op_counts = {}
    for node in proto.graph.node:
        op_counts[node.op_type] = op_counts.get(node.op_type, 0) + 1
    params = sum(p.numel() for p in model.parameters())
    print(f"  {name}: {len(proto.graph.node)} nodes, {params} parameters, "
          f"{os.path.getsize(path)} bytes, exported in {seconds:.1f} s ({exporter})")
    return {
        "file": name + ".onnx",
        "reference": name + ".npz",
        "size": size,
        "parameters": params,
        "exporter": exporter,
        "opset": OPSET if exporter == "torchscript" else DYNAMO_OPSET,
        "inputs": {k: {"shape": list(v.shape), "dtype": str(v.numpy().dtype),
                       "dynamic": dynamic_axes[k]} for k, v in feeds.items()},
        "outputs": output_names,
        "onnx_nodes": len(proto.graph.node),
        "onnx_op_counts": dict(sorted(op_counts.items())),
        "tolerance_rel_l2": FP32_REL_L2,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", choices=["tiny", "full"], default="tiny")
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    import torch
    import transformers
    torch.set_num_threads(max(1, min(8, os.cpu_count() or 1)))
    os.makedirs(args.out, exist_ok=True)
    manifest = {"seed": SEED, "torch": torch.__version__,
                "transformers": transformers.__version__, "models": {}}
    failed = []
    for name in args.models.split(","):
        if name not in MODELS:
            sys.exit(f"unknown model '{name}' (known: {', '.join(MODELS)})")
        try:
            manifest["models"][name] = export_one(torch, name, args.size, args.out)
        except Exception as e:  # report and go on with the other models
            failed.append(name)
            print(f"  {name}: FAILED: {type(e).__name__}: {str(e)[:2000]}", file=sys.stderr)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    if failed:
        sys.exit(f"export failed for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
