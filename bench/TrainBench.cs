using System.Diagnostics;
using Strix.Engine.Optim;
using Strix.Engine.Precision;
using Strix.Loss;
using Strix.Models;
using Strix.Nn;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// One YOLOv8 training step (forward, loss, backward, clip, SGD) on synthetic images and targets, per
/// precision: milliseconds per step split into phases and images per second.
/// <c>bench -- train model=yolov8n imgsz=640 batch=16 steps=3 precision=32,bf16-mixed</c>
/// </summary>
public static class TrainBench
{
    public static int Run(string[] args)
    {
        var a = BenchUtil.Options(args);
        string scale = a.GetValueOrDefault("model", "yolov8n");
        int imgsz = int.Parse(a.GetValueOrDefault("imgsz", "640"));
        int batch = int.Parse(a.GetValueOrDefault("batch", "16"));
        int steps = int.Parse(a.GetValueOrDefault("steps", "3"));
        var precisions = a.GetValueOrDefault("precision", "32,bf16-mixed").Split(',');
        if (a.TryGetValue("data", out var data)) return RealLoop(data, scale, imgsz, batch, steps, precisions[0], int.Parse(a.GetValueOrDefault("workers", "8")));

        manual_seed(0);
        using var model = DetectionModel.Create(scale, 80);
        model.train();
        if (a.GetValueOrDefault("cl_weights", "false") == "true")
            foreach (var (_, m) in model.named_modules())
                if (m is TorchSharp.Modules.Conv2d c && c.weight!.shape[2] > 1)
                    c.weight = new TorchSharp.Modules.Parameter(Strix.Runtime.MemoryFormat.ToChannelsLast(c.weight.detach()));
        var loss = new DetectionLoss(model);
        var opt = new Sgd(Strix.Tasks.YoloOptimizer.Groups(model, 0.01, 0.937, 5e-4));
        var images = rand(batch, 3, imgsz, imgsz);
        // channels_last=true: NHWC storage (torch's channels_last), which the convolutions then keep.
        if (a.GetValueOrDefault("channels_last", "false") == "true") images = Strix.Runtime.MemoryFormat.ToChannelsLast(images);
        // 8 boxes per image, random centres and sizes.
        int n = batch * 8;
        var batchIdx = arange(batch).repeat_interleave(8).to(ScalarType.Float32);
        var cls = randint(0, 80, n).to(ScalarType.Float32);
        var xy = rand(n, 2) * 0.6 + 0.2;
        var wh = rand(n, 2) * 0.2 + 0.05;
        var boxes = cat(new[] { xy, wh }, 1);

        // Precisions are interleaved step by step and the minimum is reported beside the median, so a
        // machine shared with other jobs biases neither precision.
        var modes = precisions.Select(Precisions.Parse).ToArray();
        var samples = modes.Select(_ => new List<double[]>()).ToArray();
        for (int s = 0; s < steps + 1; s++)
            for (int m = 0; m < modes.Length; m++)
            {
                var t = Step(model, loss, opt, modes[m], images, batchIdx, cls, boxes);
                if (s > 0) samples[m].Add(t); // the first round is warm-up
            }
        var results = modes.Select((mode, m) =>
        {
            var totals = samples[m].Select(Wall).OrderBy(x => x).ToArray();
            var best = samples[m].OrderBy(Wall).First();
            var cpu = samples[m].Select(t => t[4]).OrderBy(x => x).ToArray();
            double median = totals[totals.Length / 2];
            return (object)new
            {
                precision = mode.Name(),
                ms_per_step_min = BenchUtil.Round(totals[0], 1),
                ms_per_step_median = BenchUtil.Round(median, 1),
                cpu_ms_per_step_median = BenchUtil.Round(cpu[cpu.Length / 2], 1),
                cpu_ms_per_image_median = BenchUtil.Round(cpu[cpu.Length / 2] / batch, 2),
                images_per_s = BenchUtil.Round(batch * 1000.0 / totals[0]),
                forward_ms = BenchUtil.Round(best[0], 1),
                loss_ms = BenchUtil.Round(best[1], 1),
                backward_ms = BenchUtil.Round(best[2], 1),
                clip_and_step_ms = BenchUtil.Round(best[3], 1),
            };
        }).ToList();
        double f32 = samples[0].Select(Wall).Min();
        var speedups = modes.Skip(1).Select((mode, i) => new { precision = mode.Name(), speedup_vs_first = BenchUtil.Round(f32 / samples[i + 1].Select(Wall).Min(), 2) }).ToList();
        BenchUtil.Print(new { bench = "train", model = scale, imgsz, batch, steps, machine = BenchUtil.Machine(), load_average = LoadAverage(), results, speedups });
        return 0;
    }

    /// <summary>
    /// The real training loop (DataLoader with augmentation, Trainer, DetectionModule) for <paramref name="steps"/>
    /// batches: images per second and the fraction of step time the loop waited for data.
    /// </summary>
    static int RealLoop(string data, string scale, int imgsz, int batch, int steps, string precision, int workers)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"strix-bench-train-{Guid.NewGuid():N}");
        var args = Strix.Config.ConfigRecords.Parse<Strix.Config.TrainConfig>(new Dictionary<string, string>
        {
            ["data"] = data, ["model"] = scale, ["imgsz"] = imgsz.ToString(), ["batch"] = batch.ToString(), ["epochs"] = "1",
            ["limit_train_batches"] = steps.ToString(), ["limit_val_batches"] = "1", ["val"] = "false", ["plots"] = "false", ["save"] = "false",
            ["workers"] = workers.ToString(), ["precision"] = precision, ["project"] = dir,
        });
        try
        {
            var r = Strix.Tasks.YoloTraining.Run(args, TextWriter.Null);
            double seconds = r.TrainBatchTime.TotalSeconds;
            BenchUtil.Print(new
            {
                bench = "train-loop", data, model = scale, imgsz, batch, steps, precision, workers,
                machine = BenchUtil.Machine(), load_average = LoadAverage(),
                images_per_s = BenchUtil.Round(steps * batch / seconds),
                data_wait_fraction = BenchUtil.Round(r.DataWaitFraction, 3),
                note = "training batches only (data wait included); the first steps include warm-up",
            });
        }
        finally { try { Directory.Delete(dir, true); } catch (IOException) { } }
        return 0;
    }

    static double Wall(double[] t) => t[0] + t[1] + t[2] + t[3];

    static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); } catch (IOException) { return "unknown"; }
    }

    /// <summary>One step; returns milliseconds of forward, loss, backward, clip+step.</summary>
    static double[] Step(DetectionModel model, DetectionLoss loss, Optimizer opt, PrecisionMode mode, Tensor images, Tensor batchIdx, Tensor cls, Tensor boxes)
    {
        var t = new double[5];
        var cpu0 = Environment.CpuUsage.TotalTime;
        var sw = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        Tensor[] preds;
        using (mode.AutocastDType() is ScalarType dt ? Autocast.Enable(dt) : null) preds = model.forward(images);
        t[0] = sw.Elapsed.TotalMilliseconds;
        var (l, _) = loss.Compute(preds, batchIdx, cls, boxes);
        t[1] = sw.Elapsed.TotalMilliseconds - t[0];
        l.backward();
        t[2] = sw.Elapsed.TotalMilliseconds - t[0] - t[1];
        GradientClipping.ClipGradNorm(opt.NamedParameters.Select(q => q.Param), 10.0);
        opt.Step();
        opt.ZeroGrad();
        t[3] = sw.Elapsed.TotalMilliseconds - t[0] - t[1] - t[2];
        t[4] = (Environment.CpuUsage.TotalTime - cpu0).TotalMilliseconds;
        return t;
    }
}
