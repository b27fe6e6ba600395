using System.Diagnostics;
using Strix.Models;
using Strix.Nn;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// Where a fused model's inference time goes: each layer of the architecture table (and the head's decode) timed
/// on its own, in a pass that walks the table as <see cref="DetectionModel.forward"/> does, for NCHW input and for the
/// channels-last input <c>TorchBackend</c> feeds the CPU model; the two layouts alternate pass by pass.
/// <c>bench -- layers model=yolov8n imgsz=640 runs=20</c>
/// </summary>
public static class LayersBench
{
    public static int Run(string[] args)
    {
        var a = BenchUtil.Options(args);
        string name = a.GetValueOrDefault("model", "yolov8n");
        int imgsz = int.Parse(a.GetValueOrDefault("imgsz", "640"));
        int runs = int.Parse(a.GetValueOrDefault("runs", "20"));
        manual_seed(0);
        using var model = DetectionModel.Create(name, 80);
        model.eval();
        model.Fuse();
        using var x = rand(1, 3, imgsz, imgsz);
        using var xNhwc = MemoryFormat.ToChannelsLast(x);

        int n = model.Layers.Count + 1; // the last slot is the head's decode
        var nchw = Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray();
        var nhwc = Enumerable.Range(0, n).Select(_ => new List<double>()).ToArray();
        var totals = new[] { new List<double>(), new List<double>() };
        for (int r = 0; r < runs + 2; r++)
        {
            bool keep = r >= 2; // two warm-up passes
            var t0 = TimedPass(model, x, keep ? nchw : null);
            var t1 = TimedPass(model, xNhwc, keep ? nhwc : null);
            if (keep) { totals[0].Add(t0); totals[1].Add(t1); }
        }

        var rows = new List<object>();
        double sumNhwc = nhwc.Sum(BenchUtil.Median);
        for (int i = 0; i < n; i++)
        {
            bool decode = i == n - 1;
            var layer = decode ? null : model.Layers[i];
            rows.Add(new
            {
                layer = decode ? "decode" : layer!.Index.ToString(),
                type = decode ? "Detect.Decode" : layer!.Type,
                arguments = decode ? "" : layer!.Arguments,
                ms_nchw = BenchUtil.Round(BenchUtil.Median(nchw[i]), 3),
                ms_channels_last = BenchUtil.Round(BenchUtil.Median(nhwc[i]), 3),
                share_channels_last = BenchUtil.Round(BenchUtil.Median(nhwc[i]) / sumNhwc, 3),
            });
        }
        foreach (var row in rows) Console.Error.WriteLine(row);
        Console.Error.WriteLine($"pass NCHW {BenchUtil.Median(totals[0]):F1} ms, channels-last {BenchUtil.Median(totals[1]):F1} ms");
        BenchUtil.Print(new
        {
            bench = "layers",
            model = name,
            imgsz,
            batch = 1,
            fused = true,
            dtype = "Float32",
            runs,
            machine = BenchUtil.Machine(),
            pass_ms = new { nchw = BenchUtil.Round(BenchUtil.Median(totals[0]), 1), channels_last = BenchUtil.Round(BenchUtil.Median(totals[1]), 1) },
            layers = rows,
        });
        return 0;
    }

    /// <summary>One forward pass through the layer table with each layer timed; returns the pass's milliseconds.</summary>
    static double TimedPass(DetectionModel model, Tensor x, List<double>[]? times)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var pass = Stopwatch.StartNew();
        var outputs = new Tensor?[model.Layers.Count];
        Tensor cur = x;
        Tensor[]? raw = null;
        foreach (var layer in model.Layers)
        {
            Tensor Input(int f) => f == -1 ? cur : outputs[f]!;
            var sw = Stopwatch.StartNew();
            switch (layer.Module)
            {
                case Detect d: raw = d.call(layer.Inputs.Select(Input).ToArray()); break;
                case Concat c: cur = c.call(layer.Inputs.Select(Input).ToArray()); break;
                case TorchSharp.torch.nn.Module<Tensor, Tensor> m: cur = m.call(Input(layer.Inputs[0])); break;
                default: throw new NotSupportedException($"layer {layer.Index} ({layer.Type}) is not timed by this bench");
            }
            times?[layer.Index].Add(sw.Elapsed.TotalMilliseconds);
            outputs[layer.Index] = cur;
        }
        var decode = Stopwatch.StartNew();
        using (var y = model.Head.Decode(raw!)) times?[^1].Add(decode.Elapsed.TotalMilliseconds);
        return pass.Elapsed.TotalMilliseconds;
    }

}
