using Strix.Models;
using Strix.Nn;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// Where a segmentation training step's extra time goes at the quick start's size (batch 16, 160 px, channels-last,
/// train mode): forward + backward of yolov8n-seg beside yolov8n, and of the prototype branch and its transposed
/// convolution alone, each in channels-last and contiguous layout.
/// </summary>
public static class SegTrainBench
{
    public static int Run(string[] args)
    {
        int runs = args.Contains("quick") ? 3 : 8;
        manual_seed(0);
        using var seg = DetectionModel.Create("yolov8n-seg", 6);
        using var det = DetectionModel.Create("yolov8n", 6);
        using var x0 = rand(16, 3, 160, 160);
        using var x = MemoryFormat.ToChannelsLast(x0);
        double Step(Func<Tensor[]> f, IEnumerable<TorchSharp.Modules.Parameter> ps) => BenchUtil.MedianMs(() =>
        {
            var outs = f();
            using var loss = outs.Select(o => o.mean()).Aggregate((a, b) => a + b);
            loss.backward();
            foreach (var o in outs) o.Dispose();
            foreach (var p in ps) { p.grad?.Dispose(); p.grad = null; }
        }, runs, warmup: 1);
        var rows = new List<object>();
        void Row(string what, double ms) { rows.Add(new { what, ms = BenchUtil.Round(ms) }); Console.Error.WriteLine($"{what}: {ms:F1} ms"); }
        seg.train(); det.train();
        if (!args.Contains("loader-only")) {
        Row("yolov8n-seg fwd+bwd", Step(() => seg.forward(x), seg.parameters()));
        Row("yolov8n fwd+bwd", Step(() => det.forward(x), det.parameters()));
        var head = (Segment)seg.Head;
        {
            using var p3a = randn(16, 64, 20, 20);
            using var p3 = MemoryFormat.ToChannelsLast(p3a);
            using var h1 = head.proto.cv1.call(p3);
            using var up = head.proto.upsample.call(h1);
            using var h2 = head.proto.cv2.call(up);
            Console.Error.WriteLine($"layouts: cv1 out CL={MemoryFormat.IsChannelsLast(h1)}, upsample out CL={MemoryFormat.IsChannelsLast(up)}, cv2 out CL={MemoryFormat.IsChannelsLast(h2)}");
        }
        foreach (bool cl in new[] { true, false })
        {
            using var p3a = randn(16, 64, 20, 20).requires_grad_(true);
            using var p3 = cl ? MemoryFormat.ToChannelsLast(p3a) : p3a.alias();
            string tag = cl ? "channels-last" : "contiguous";
            Row($"proto fwd+bwd {tag}", Step(() => new[] { head.proto.call(p3) }, head.proto.parameters()));
            Row($"proto.upsample fwd+bwd {tag}", Step(() => new[] { head.proto.upsample.call(p3) }, head.proto.upsample.parameters()));
            Row($"proto.cv2 fwd+bwd {tag}", Step(() => { using var u = randn(16, 64, 40, 40); using var uu = cl ? MemoryFormat.ToChannelsLast(u) : u.alias(); return new[] { head.proto.cv2.call(uu) }; }, head.proto.cv2.parameters()));
            Row($"cv4[0] fwd+bwd {tag}", Step(() => new[] { head.cv4[0].call(p3) }, head.cv4[0].parameters()));
        }
        }
        // The loader's CPU per epoch (one worker, nothing else running): shapes vs shapes-seg with its masks.
        foreach (bool segments in new[] { false, true })
        {
            var yaml = Strix.Data.ShapesDataset.Ensure(options: new Strix.Data.ShapesOptions { Segments = segments });
            var cfg = Strix.Data.DatasetConfig.Load(yaml);
            var opts = Strix.Data.DataLoaderOptions.ForTraining(160, 16, 1, seed: 0) with { Segments = segments, MaskRatio = 4, OverlapMask = true };
            using var loader = Strix.Data.DataLoader.Create(cfg, "train", opts, _ => { });
            for (int epoch = 0; epoch < 2; epoch++)
            {
                loader.SetEpoch(epoch);
                var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                int n = 0;
                foreach (var b in loader) { n++; b.Dispose(); }
                var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0;
                if (epoch == 1) Row($"loader epoch {(segments ? "shapes-seg" : "shapes")} cpu_s ({n} batches; wall {sw.Elapsed.TotalSeconds:F1} s)", cpu.TotalMilliseconds);
            }
        }
        BenchUtil.Print(new { bench = "seg-train", batch = 16, imgsz = 160, machine = BenchUtil.Machine(), rows });
        return 0;
    }
}
