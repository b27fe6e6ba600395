using Strix.Runtime;
using System.Text.RegularExpressions;
using Strix.Loss;
using Strix.Models;
using Strix.Nn;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// How far bf16 autocast moves one YOLOv8 training step from fp32, on the same synthetic batch: the
/// relative error ‖bf16 − fp32‖ / ‖fp32‖ of each top-level layer's activation and of every parameter's
/// gradient (median and worst per kind). <c>probe=true</c> replaces the YOLO loss by a smooth one
/// (outputs · fixed random weights), because the assigner's top-k is discontinuous and would mix
/// assignment flips into the numbers; <c>weights=…</c> measures a trained model instead of a fresh one;
/// <c>unit=true</c> measures one convolution and stacks of Conv blocks alone.
/// <c>bench -- amp-grads model=yolov8n imgsz=160 batch=8 probe=true</c>
/// </summary>
public static class AmpGradsBench
{
    public static int Run(string[] args)
    {
        var a = BenchUtil.Options(args);
        string scale = a.GetValueOrDefault("model", "yolov8n");
        int imgsz = int.Parse(a.GetValueOrDefault("imgsz", "160"));
        int batch = int.Parse(a.GetValueOrDefault("batch", "8"));
        bool probe = a.GetValueOrDefault("probe", "false") == "true";
        manual_seed(0);
        if (a.GetValueOrDefault("unit", "false") == "true") return Units();
        string? weights = a.GetValueOrDefault("weights");
        using var model = weights is not null ? ModelLoader.Load(weights).Model : DetectionModel.Create(scale, 6);
        model.train();
        var loss = new DetectionLoss(model);
        var images = rand(batch, 3, imgsz, imgsz);
        int n = batch * 4;
        var batchIdx = HeldScalarMath.Arange(batch, ScalarType.Float32).repeat_interleave(4);
        var cls = randint(0, model.NumClasses, n).to(ScalarType.Float32);
        var boxes = cat(new[] { rand(n, 2).Times(0.6).Plus(0.2), rand(n, 2).Times(0.3).Plus(0.05) }, 1);
        Tensor[]? probeWeights = null;

        // Each top-level layer's output, captured by a hook, per pass.
        var activations = new List<List<(string Layer, Tensor Value)>>();
        foreach (var (name, m) in model.named_modules())
            if (Regex.IsMatch(name, @"^model\.\d+$") && m is nn.Module<Tensor, Tensor> layer)
                layer.register_forward_hook((_, _, y) =>
                {
                    activations[^1].Add((name, y.detach().to(ScalarType.Float32).clone().DetachFromDisposeScope()));
                    return y;
                });

        Dictionary<string, Tensor> Step(ScalarType? autocast)
        {
            foreach (var p in model.parameters()) p.grad?.zero_();
            activations.Add(new());
            using var scope = NewDisposeScope();
            Tensor[] preds;
            using (autocast is ScalarType dt ? Autocast.Enable(dt) : null) preds = model.forward(images);
            Tensor l;
            if (probe)
            {
                probeWeights ??= preds.Select(p => randn(p.shape).DetachFromDisposeScope()).ToArray();
                l = preds.Select((p, i) => (p.to(ScalarType.Float32) * probeWeights[i]).sum()).Aggregate((x, y) => x.Plus(y));
            }
            else l = loss.Compute(preds, batchIdx, cls, boxes).Loss;
            l.backward();
            return model.named_parameters().Where(p => p.parameter.grad is not null)
                .ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope());
        }

        var f32 = Step(null);
        var b16 = Step(ScalarType.BFloat16);
        var grads = f32.Select(kv => (name: kv.Key, rel: RelativeError(b16[kv.Key], kv.Value))).ToList();
        string Kind(string name) => name.Contains(".bn.") ? (name.EndsWith("weight") ? "bn.weight" : "bn.bias")
            : name.EndsWith("bias") ? "head bias" : "conv.weight";
        var byKind = grads.GroupBy(r => Kind(r.name)).Select(g =>
        {
            var v = g.Select(r => r.rel).Order().ToArray();
            return (object)new { kind = g.Key, count = v.Length, median = BenchUtil.Round(v[v.Length / 2], 4), max = BenchUtil.Round(v[^1], 4) };
        }).ToList();
        var layers = activations[0].Select((x, i) => (object)new { layer = x.Layer, rel_error = BenchUtil.Round(RelativeError(activations[1][i].Value, x.Value), 4) }).ToList();
        var worst = grads.OrderByDescending(r => r.rel).Take(8).Select(r => (object)new { r.name, rel_error = BenchUtil.Round(r.rel, 4) }).ToList();
        BenchUtil.Print(new { bench = "amp-grads", model = scale, weights, imgsz, batch, probe, activations = layers, gradients = byKind, worst_gradients = worst });
        return 0;
    }

    static double RelativeError(Tensor value, Tensor reference) =>
        (value - reference).norm().item<float>() / Math.Max(reference.norm().item<float>(), 1e-30);

    /// <summary>One 3×3 convolution in bf16 vs fp32, then stacks of 1 and 6 Conv blocks under autocast.</summary>
    static int Units()
    {
        var pad = new long[] { 1, 1 };
        var convs = new List<object>();
        foreach (var (c, hw) in new[] { (16, 80), (64, 20), (128, 10) })
        {
            using var scope = NewDisposeScope();
            var x = randn(8, c, hw, hw);
            var w = randn(c, c, 3, 3).Times(0.1).requires_grad_(true);
            var probe = randn(8, c, hw, hw);
            var y32 = nn.functional.conv2d(x, w, padding: pad);
            (y32 * probe).sum().backward();
            var g32 = w.grad!.clone(); w.grad!.zero_();
            var xb = x.to(ScalarType.BFloat16).requires_grad_(true);
            var yb = nn.functional.conv2d(xb, w.to(ScalarType.BFloat16), padding: pad);
            (yb.to(ScalarType.Float32) * probe).sum().backward();
            convs.Add(new
            {
                channels = c, size = hw,
                output_rel_error = BenchUtil.Round(RelativeError(yb.to(ScalarType.Float32), y32), 4),
                grad_weight_rel_error = BenchUtil.Round(RelativeError(w.grad!, g32), 4),
                grad_input_rel_error = BenchUtil.Round(RelativeError(xb.grad!.to(ScalarType.Float32), nn.functional.conv_transpose2d(probe, w.detach(), padding: pad)), 4),
            });
        }
        var stacks = new List<object>();
        foreach (int depth in new[] { 1, 6 })
        {
            manual_seed(1);
            var blocks = Enumerable.Range(0, depth).Select(_ => new Conv(32, 32, 3)).ToList();
            foreach (var b in blocks) b.train();
            var x = randn(8, 32, 40, 40);
            var probe = randn(8, 32, 40, 40);
            Dictionary<string, Tensor> Grads(bool bf16)
            {
                foreach (var b in blocks) foreach (var p in b.parameters()) p.grad?.zero_();
                var y = x;
                using (bf16 ? Autocast.Enable(ScalarType.BFloat16) : null)
                    foreach (var b in blocks) y = b.call(y);
                (y.to(ScalarType.Float32) * probe).sum().backward();
                return blocks.SelectMany((b, i) => b.named_parameters().Select(p => (name: $"{i}.{p.name}", grad: p.parameter.grad!.clone())))
                    .ToDictionary(t => t.name, t => t.grad);
            }
            var f = Grads(false);
            var g = Grads(true);
            stacks.Add(new { depth, max_grad_rel_error = BenchUtil.Round(f.Max(kv => RelativeError(g[kv.Key], kv.Value)), 4) });
        }
        BenchUtil.Print(new { bench = "amp-grads-units", convolutions = convs, conv_block_stacks = stacks });
        return 0;
    }
}
