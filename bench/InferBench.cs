using Strix.Eval;
using Strix.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// yolov8n forward latency at 640 (batch 1 and 16; unfused/fused; fp32/bf16), achieved GFLOP/s and
/// its ratio to this machine's measured convolution peak, and NMS time on 8400×80 candidates.
/// </summary>
public static class InferBench
{
    public static int Run(string[] args)
    {
        int imgsz = 640;
        int runs = args.Contains("quick") ? 3 : 10;
        manual_seed(0);
        var peaks = new Dictionary<ScalarType, double> { [ScalarType.Float32] = ConvPeakGflops(ScalarType.Float32), [ScalarType.BFloat16] = ConvPeakGflops(ScalarType.BFloat16) };

        var rows = new List<object>();
        foreach (var fused in new[] { false, true })
        {
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
            {
                using var model = DetectionModel.Create("yolov8n", 80);
                model.eval();
                if (fused) model.Fuse();
                double gflopsRun = ModelProfiler.GFlops(model, imgsz, imgsz);
                foreach (var batch in new[] { 1, 16 })
                {
                    // bf16 runs as precision=bf16-mixed does: fp32 weights and input, convolutions in bf16 (Strix.Nn.Autocast).
                    using var x = rand(batch, 3, imgsz, imgsz);
                    double ms = BenchUtil.MedianMs(() =>
                    {
                        using var _ = no_grad();
                        using var cast = dtype == ScalarType.BFloat16 ? Strix.Nn.Autocast.Enable(dtype) : null;
                        using var y = model.Predict(x);
                    }, runs: batch == 1 ? runs : Math.Max(2, runs / 3), warmup: 1);
                    double perImage = ms / batch;
                    double achieved = gflopsRun / (perImage / 1000);
                    double peak = peaks[dtype];
                    rows.Add(new
                    {
                        fused, dtype = dtype.ToString(), batch,
                        ms_per_batch = BenchUtil.Round(ms), ms_per_image = BenchUtil.Round(perImage),
                        gflops_per_image = BenchUtil.Round(gflopsRun, 2),
                        achieved_gflops_per_s = BenchUtil.Round(achieved, 1),
                        fraction_of_conv_peak = BenchUtil.Round(achieved / peak, 3),
                        ideal_ms_at_peak = BenchUtil.Round(gflopsRun / peak * 1000, 2),
                    });
                    Console.Error.WriteLine($"fused={fused} {dtype} batch={batch}: {perImage:F1} ms/image");
                }
            }
        }

        var nms = NmsTiming(runs * 5);
        BenchUtil.Print(new { bench = "infer", model = "yolov8n", imgsz, machine = BenchUtil.Machine(), conv_peak_gflops_per_s = new { fp32 = BenchUtil.Round(peaks[ScalarType.Float32], 1), bf16 = BenchUtil.Round(peaks[ScalarType.BFloat16], 1) }, forward = rows, nms });
        return 0;
    }

    /// <summary>Best GFLOP/s over a few large, well-shaped 3×3 convolutions (the practical ceiling for this model's work).</summary>
    static double ConvPeakGflops(ScalarType dtype)
    {
        double best = 0;
        using var _ = no_grad();
        foreach (var (c, hw) in new[] { (64, 160), (128, 80), (256, 40) })
        {
            using var x = rand(1, c, hw, hw).to(dtype);
            using var w = rand(c, c, 3, 3).to(dtype);
            double flops = 2.0 * c * c * 9 * hw * hw;
            double ms = BenchUtil.MedianMs(() => { using var y = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 }); }, runs: 10, warmup: 2);
            best = Math.Max(best, flops / (ms / 1000) / 1e9);
        }
        return best;
    }

    /// <summary>NMS on a realistic 8400-anchor × 80-class output: most scores tiny, a few percent above conf 0.001.</summary>
    static object NmsTiming(int runs)
    {
        manual_seed(1);
        using var xy = rand(1, 2, 8400) * 640;
        using var wh = rand(1, 2, 8400) * 200 + 4;
        using var logits = randn(1, 80, 8400) * 1.5 - 10;
        using var scores = logits.sigmoid();
        using var pred = cat(new[] { xy, wh, scores }, 1);
        var options = new NmsOptions { Conf = 0.001, Iou = 0.7, MaxDet = 300, MultiLabel = true };
        int candidates = (int)(scores > 0.001).sum().item<long>();
        int kept = 0;
        double ms = BenchUtil.MedianMs(() =>
        {
            var d = Nms.NonMaxSuppression(pred, options);
            kept = (int)d[0].shape[0];
            foreach (var t in d) t.Dispose();
        }, runs, warmup: 3);
        double msSingle = BenchUtil.MedianMs(() =>
        {
            var d = Nms.NonMaxSuppression(pred, options with { MultiLabel = false });
            foreach (var t in d) t.Dispose();
        }, runs, warmup: 3);
        return new { anchors = 8400, classes = 80, conf = 0.001, candidates_multilabel = candidates, kept, ms_multilabel = BenchUtil.Round(ms, 3), ms_single_label = BenchUtil.Round(msSingle, 3) };
    }
}
