using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// Forward latency of several architectures side by side (default yolov8n vs yolo11n) at 640, batch 1, fused,
/// fp32 and bf16 (autocast as in bf16-mixed inference); the models alternate run by run, so a machine shared with
/// other work biases none of them. <c>bench -- models models=yolov8n,yolo11n imgsz=640 runs=15</c>
/// </summary>
public static class ModelsBench
{
    public static int Run(string[] args)
    {
        var a = BenchUtil.Options(args);
        var names = a.GetValueOrDefault("models", "yolov8n,yolo11n").Split(',');
        int imgsz = int.Parse(a.GetValueOrDefault("imgsz", "640"));
        int runs = int.Parse(a.GetValueOrDefault("runs", "15"));
        manual_seed(0);
        var models = names.Select(n => { var m = DetectionModel.Create(n, 80); m.eval(); m.Fuse(); return m; }).ToArray();
        var gflops = models.Select(m => ModelProfiler.GFlops(m, imgsz, imgsz)).ToArray();
        using var x0 = rand(1, 3, imgsz, imgsz);
        // channels_last=true: NHWC input, which oneDNN's kernels then carry through the network (Strix.Runtime.MemoryFormat).
        bool channelsLast = a.GetValueOrDefault("channels_last", "false") == "true";
        using var x = channelsLast ? Strix.Runtime.MemoryFormat.ToChannelsLast(x0) : x0.alias();
        var rows = new List<object>();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var samples = models.Select(_ => new List<double>()).ToArray();
            for (int r = 0; r < runs + 2; r++)
                for (int i = 0; i < models.Length; i++)
                {
                    var sw = System.Diagnostics.Stopwatch.StartNew();
                    using (no_grad())
                    using (dtype == ScalarType.BFloat16 ? Strix.Nn.Autocast.Enable(dtype) : null)
                    using (var y = models[i].Predict(x)) { }
                    if (r >= 2) samples[i].Add(sw.Elapsed.TotalMilliseconds); // two warm-up rounds
                }
            for (int i = 0; i < models.Length; i++)
            {
                var s = samples[i].OrderBy(v => v).ToArray();
                rows.Add(new
                {
                    model = names[i], dtype = dtype.ToString(), parameters_fused = models[i].ParameterCount(),
                    gflops = BenchUtil.Round(gflops[i], 2), ms_median = BenchUtil.Round(s[s.Length / 2], 1), ms_min = BenchUtil.Round(s[0], 1),
                    ratio_to_first_median = BenchUtil.Round(s[s.Length / 2] / samples[0].OrderBy(v => v).ElementAt(s.Length / 2), 3),
                });
                Console.Error.WriteLine($"{names[i]} {dtype}: median {s[s.Length / 2]:F1} ms");
            }
        }
        foreach (var m in models) m.Dispose();
        BenchUtil.Print(new { bench = "models", imgsz, batch = 1, fused = true, channels_last = channelsLast, runs, machine = BenchUtil.Machine(), forward = rows });
        return 0;
    }
}
