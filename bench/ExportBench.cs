using System.Diagnostics;
using Strix.Export;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// ONNX export of yolov8n (time, size) and inference latency at 640, batch 1: ONNX Runtime (intra-op
/// threads = cores) next to TorchSharp eager with BN fused, fp32, in the same process, TorchSharp through
/// <c>TorchBackend</c> (channels-last input on the CPU, as <c>strix predict</c> runs it) and, for the record, with NCHW input.
/// The two are timed in alternation (one ORT run, one TorchSharp run, …, each after a short pause) so a busy machine slows
/// both alike, then in blocks as a check.
/// Args: <c>quick</c> (fewer runs), <c>runs=N</c>, <c>imgsz=640</c>, <c>threads=N</c> (both runtimes; default: cores),
/// <c>spin=0</c> (ORT threads do not spin; run with OMP_WAIT_POLICY=PASSIVE to do the same for TorchSharp).
/// </summary>
public static class ExportBench
{
    /// <summary>Pause before each timed call, long enough for idle worker threads to stop spinning.</summary>
    const int QuietMs = 30;

    public static int Run(string[] args)
    {
        int runs = args.Contains("quick") ? 5 : 30;
        int imgsz = 640;
        int threads = 0; // 0: TorchSharp's default and one ORT intra-op thread per core
        bool spin = true; // spin=0 stops ORT's idle threads spinning (pair with OMP_WAIT_POLICY=PASSIVE for TorchSharp)
        foreach (var a in args)
        {
            if (a.StartsWith("runs=")) runs = int.Parse(a[5..]);
            if (a.StartsWith("imgsz=")) imgsz = int.Parse(a[6..]);
            if (a.StartsWith("threads=")) threads = int.Parse(a[8..]);
            if (a == "spin=0") spin = false;
        }
        if (threads > 0) set_num_threads(threads);
        manual_seed(0);
        var dir = Path.Combine(Path.GetTempPath(), $"strix-export-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            using var model = DetectionModel.Create("yolov8n", 80);
            model.eval();

            // Export: the first call includes JIT and TorchSharp warm-up; the second is the steady cost.
            var fp32 = Path.Combine(dir, "yolov8n.onnx");
            var sw = Stopwatch.StartNew();
            OnnxExporter.Export(model, fp32, new OnnxExportOptions { ImageSize = imgsz });
            double exportColdMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            OnnxExporter.Export(model, fp32, new OnnxExportOptions { ImageSize = imgsz });
            double exportMs = sw.Elapsed.TotalMilliseconds;
            var fp16 = Path.Combine(dir, "yolov8n-fp16.onnx");
            var dyn = Path.Combine(dir, "yolov8n-dynamic.onnx");
            OnnxExporter.Export(model, fp16, new OnnxExportOptions { ImageSize = imgsz, Half = true });
            OnnxExporter.Export(model, dyn, new OnnxExportOptions { ImageSize = imgsz, Dynamic = true });

            using var fused = new DetectionModel(YoloScale.N, 80);
            fused.load_state_dict(model.state_dict());
            fused.eval();
            fused.Fuse();

            using var x = rand(1, 3, imgsz, imgsz);
            sw.Restart();
            var ortOptions = new OnnxRuntimeOptions { IntraOpThreads = threads, AllowSpinning = spin };
            using var ort = OnnxRuntimeBackend.Open(fp32, ortOptions);
            double sessionMs = sw.Elapsed.TotalMilliseconds;
            using var ortDyn = OnnxRuntimeBackend.Open(dyn, ortOptions);
            using var ortHalf = OnnxRuntimeBackend.Open(fp16, ortOptions);

            // The product path (strix predict/val on weights): TorchBackend hands the CPU model channels-last input.
            using var torchBackend = new Strix.Inference.TorchBackend(fused, Enumerable.Range(0, 80).Select(i => $"c{i}").ToArray(), imgsz);
            void Torch() { using var y = torchBackend.Forward(x); }
            void TorchNchw() { using var _ = no_grad(); using var y = fused.Predict(x); }
            void Ort() { using var y = ort.Forward(x); }
            void OrtDyn() { using var y = ortDyn.Forward(x); }
            void OrtHalf() { using var y = ortHalf.Forward(x); }

            float maxDiff;
            using (var a = ort.Forward(x))
            using (var b = torchBackend.Forward(x))
            using (var d = (a - b).abs().max()) maxDiff = d.item<float>();

            for (int i = 0; i < 3; i++) { Torch(); Ort(); OrtDyn(); TorchNchw(); }
            var times = new Dictionary<string, List<double>> { ["torch"] = new(), ["ort"] = new(), ["ort_dynamic"] = new(), ["torch_nchw"] = new() };
            for (int i = 0; i < runs; i++)
            {
                times["ort"].Add(Time(Ort));
                times["torch"].Add(Time(Torch));
                times["ort_dynamic"].Add(Time(OrtDyn));
                times["torch_nchw"].Add(Time(TorchNchw));
            }
            // A check on the alternation: each runtime in back-to-back blocks (its own threads still warm), two rounds.
            var blocks = new Dictionary<string, List<double>> { ["torch"] = new(), ["ort"] = new() };
            for (int round = 0; round < 2; round++)
            {
                Thread.Sleep(QuietMs);
                for (int i = 0; i < Math.Max(3, runs / 2); i++) blocks["torch"].Add(TimeNow(Torch));
                Thread.Sleep(QuietMs);
                for (int i = 0; i < Math.Max(3, runs / 2); i++) blocks["ort"].Add(TimeNow(Ort));
            }
            double blockTorchMs = BenchUtil.Median(blocks["torch"]), blockOrtMs = BenchUtil.Median(blocks["ort"]);
            double halfMs = BenchUtil.MedianMs(OrtHalf, runs: Math.Max(3, runs / 5), warmup: 1);
            double torchMs = BenchUtil.Median(times["torch"]), ortMs = BenchUtil.Median(times["ort"]), dynMs = BenchUtil.Median(times["ort_dynamic"]);
            double nchwMs = BenchUtil.Median(times["torch_nchw"]);
            Console.Error.WriteLine($"torch fused fp32 {torchMs:F1} ms (NCHW input {nchwMs:F1}), ORT fp32 {ortMs:F1} ms (dynamic {dynMs:F1}, fp16 {halfMs:F1}), ratio {torchMs / ortMs:F2}; in blocks {blockTorchMs:F1} vs {blockOrtMs:F1} ms, ratio {blockTorchMs / blockOrtMs:F2}");

            BenchUtil.Print(new
            {
                bench = "export",
                model = "yolov8n",
                imgsz,
                batch = 1,
                runs,
                machine = BenchUtil.Machine(),
                ort_intra_op_threads = threads > 0 ? threads : Environment.ProcessorCount,
                ort_allow_spinning = spin,
                omp_wait_policy = Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(default)",
                load_average = LoadAverage(),
                export = new
                {
                    ms_first = BenchUtil.Round(exportColdMs, 1),
                    ms = BenchUtil.Round(exportMs, 1),
                    mb_fp32 = BenchUtil.Round(new FileInfo(fp32).Length / 1e6, 2),
                    mb_fp16 = BenchUtil.Round(new FileInfo(fp16).Length / 1e6, 2),
                    ort_session_create_ms = BenchUtil.Round(sessionMs, 1),
                },
                latency_ms = new
                {
                    torchsharp_fused_fp32 = BenchUtil.Round(torchMs),
                    torchsharp_fused_fp32_nchw_input = BenchUtil.Round(nchwMs),
                    onnxruntime_fp32 = BenchUtil.Round(ortMs),
                    onnxruntime_fp32_dynamic = BenchUtil.Round(dynMs),
                    onnxruntime_fp16 = BenchUtil.Round(halfMs),
                    torchsharp_min = BenchUtil.Round(times["torch"].Min()),
                    onnxruntime_min = BenchUtil.Round(times["ort"].Min()),
                },
                ratio_torchsharp_over_ort = BenchUtil.Round(torchMs / ortMs, 3),
                in_blocks = new
                {
                    torchsharp_fused_fp32 = BenchUtil.Round(blockTorchMs),
                    onnxruntime_fp32 = BenchUtil.Round(blockOrtMs),
                    ratio_torchsharp_over_ort = BenchUtil.Round(blockTorchMs / blockOrtMs, 3),
                },
                goal_ratio = 1.15,
                max_abs_diff_ort_vs_torchsharp = maxDiff,
            });
            return 0;
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// One timed call after a short pause: both runtimes keep their worker threads spinning for a while after a run
    /// (ORT's intra-op pool, libtorch's OpenMP team), so without the pause each run would share the cores with the
    /// other runtime's still-spinning threads.
    /// </summary>
    static double Time(Action a)
    {
        Thread.Sleep(QuietMs);
        return TimeNow(a);
    }

    static double TimeNow(Action a)
    {
        var sw = Stopwatch.StartNew();
        a();
        return sw.Elapsed.TotalMilliseconds;
    }

    static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "unknown"; }
    }
}
