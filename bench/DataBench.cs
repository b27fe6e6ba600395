using Strix.Runtime;
using System.Diagnostics;
using Strix.Data;
using Strix.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// Data loader throughput on coco128 (imgsz 640, batch 16, mosaic on, 2 workers) in images/s, a
/// single-thread breakdown of the per-sample stages, and — for the "never starves" comparison —
/// yolov8n training-step throughput (forward + backward + SGD step on a proxy loss) at the same
/// size. Args: <c>quick</c> (fewer epochs), <c>workers=N</c>, <c>epochs=N</c>, <c>train_steps=N</c>, <c>data=yaml</c>.
/// </summary>
public static class DataBench
{
    public static int Run(string[] args)
    {
        bool quick = args.Contains("quick");
        string Arg(string k, string d) => args.FirstOrDefault(a => a.StartsWith(k + "="))?[(k.Length + 1)..] ?? d;
        int workers = int.Parse(Arg("workers", "2"));
        int epochs = int.Parse(Arg("epochs", quick ? "2" : "3"));
        int trainSteps = int.Parse(Arg("train_steps", quick ? "1" : "2"));
        var yaml = Arg("data", Path.Combine(FindAssets(), "coco128.yaml"));
        const int Imgsz = 640, Batch = 16;

        var cfg = DatasetConfig.Load(yaml);
        var opts = DataLoaderOptions.ForTraining(Imgsz, Batch, workers, seed: 0) with { Prefetch = 4 };
        using var loader = DataLoader.Create(cfg, "train", opts, _ => { });

        // Loader throughput per epoch. Epoch 0 decodes every image once (what every epoch costs on a
        // dataset much larger than the recent-image cache); later epochs of coco128 mostly hit that cache.
        var perEpoch = new List<double>();
        double firstBatchMs = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            loader.SetEpoch(epoch);
            var t0 = Stopwatch.StartNew();
            int n = 0;
            foreach (var b in loader)
            {
                using (b)
                {
                    if (n == 0 && epoch == 0) firstBatchMs = t0.Elapsed.TotalMilliseconds;
                    n += b.Count;
                }
            }
            // Whole epoch, pipeline fill included (the workers start with the epoch).
            perEpoch.Add(n / t0.Elapsed.TotalSeconds);
            Console.Error.WriteLine($"epoch {epoch}: {perEpoch[^1]:F1} images/s");
        }
        double loaderIps = perEpoch[0];
        double steadyIps = perEpoch.Count > 1 ? perEpoch.Skip(1).Average() : perEpoch[0];

        // Single-thread stage breakdown on the same data.
        var ds = loader.Dataset;
        var stages = Breakdown(ds, quick ? 8 : 24);

        // yolov8n training step at the same batch and size (proxy loss: the loss helper is not part of this bench).
        double trainIps = TrainThroughput(Imgsz, Batch, trainSteps);
        Console.Error.WriteLine($"yolov8n train step: {trainIps:F2} images/s");

        BenchUtil.Print(new
        {
            bench = "data",
            machine = BenchUtil.Machine(),
            dataset = yaml,
            imgsz = Imgsz,
            batch = Batch,
            workers,
            mosaic = opts.Hyp.Mosaic,
            loader_images_per_s = BenchUtil.Round(loaderIps, 1),
            loader_images_per_s_note = "whole epoch 0 incl. pipeline fill: every image decoded once, as on any dataset larger than the recent-image cache",
            loader_images_per_s_later_epochs = BenchUtil.Round(steadyIps, 1),
            loader_images_per_s_per_epoch = perEpoch.Select(v => BenchUtil.Round(v, 1)).ToArray(),
            loader_first_batch_ms = BenchUtil.Round(firstBatchMs, 0),
            single_thread_ms_per_image = stages,
            yolov8n_train_images_per_s = BenchUtil.Round(trainIps, 2),
            loader_over_train = BenchUtil.Round(loaderIps / trainIps, 1),
        });
        return 0;
    }

    static object Breakdown(YoloDataset ds, int n)
    {
        var hyp = ds.Options.Hyp;
        int s = ds.Options.ImgSize;
        double decode = 0, cold = 0, mosaic = 0, warp = 0, hsv = 0, flip = 0, full = 0;
        for (int i = 0; i < n; i++)
        {
            var rng = new StrixRandom(1, 0, i);
            var tiles = new (RgbImage, Instances)[4];
            var t = Stopwatch.StartNew();
            // Cold: decode + resize from the file, what every image costs once per epoch.
            var item = ds.Items[i % ds.Count];
            var raw = ImageCache.DecodeAtLeast(item.ImageFile, s, out int fw, out int fh);
            var rs = ImageCache.ResizedSize(fw, fh, s);
            ImageOps.ResizeBilinear(raw, rs.Width, rs.Height);
            cold += t.Elapsed.TotalMilliseconds; t.Restart();
            for (int k = 0; k < 4; k++)
            {
                var li = ds.LoadImage((i * 4 + k) % ds.Count);
                tiles[k] = (li.Image, Instances.FromNormalizedXywh(li.Labels.Cls, li.Labels.Boxes, li.Image.Width, li.Image.Height));
            }
            decode += t.Elapsed.TotalMilliseconds / 4; t.Restart();
            var (canvas, labels) = Mosaic.Combine(tiles, s, rng);
            mosaic += t.Elapsed.TotalMilliseconds; t.Restart();
            var (img, inst) = RandomPerspective.Apply(canvas, labels, hyp, rng, -s / 2, -s / 2);
            warp += t.Elapsed.TotalMilliseconds; t.Restart();
            RandomHsv.Apply(img, hyp.HsvH, hyp.HsvS, hyp.HsvV, rng);
            hsv += t.Elapsed.TotalMilliseconds; t.Restart();
            RandomFlip.Horizontal(img, inst);
            flip += t.Elapsed.TotalMilliseconds; t.Restart();
            ds.Load(i % ds.Count, 0);
            full += t.Elapsed.TotalMilliseconds;
        }
        var samples = Enumerable.Range(0, 16).Select(i => ds.Load(i % ds.Count, 1)).ToList();
        double collate = BenchUtil.MedianMs(() => { using var b = Batch.Collate(samples); }, runs: 5, warmup: 1);
        return new
        {
            decode_resize_cold = BenchUtil.Round(cold / n),
            load_4_tiles_via_recent_cache = BenchUtil.Round(decode * 4 / n),
            mosaic_canvas = BenchUtil.Round(mosaic / n),
            perspective_warp = BenchUtil.Round(warp / n),
            hsv = BenchUtil.Round(hsv / n),
            flip = BenchUtil.Round(flip / n),
            full_sample = BenchUtil.Round(full / n),
            collate_batch16 = BenchUtil.Round(collate),
        };
    }

    static double TrainThroughput(int imgsz, int batch, int steps)
    {
        manual_seed(0);
        using var model = DetectionModel.Create("yolov8n", 80);
        model.train();
        using var opt = optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        double total = 0;
        for (int i = 0; i <= steps; i++)
        {
            using var scope = NewDisposeScope();
            var x = rand(batch, 3, imgsz, imgsz);
            var t = Stopwatch.StartNew();
            opt.zero_grad();
            var outs = model.call(x);
            var loss = outs.Select(o => o.square().mean()).Aggregate((a, b) => a + b);
            loss.backward();
            opt.step();
            if (i > 0) total += t.Elapsed.TotalSeconds; // first step is warm-up
        }
        return steps * batch / total;
    }

    static string FindAssets()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Strix.slnx"))) dir = dir.Parent;
        return Path.GetFullPath(Path.Combine(dir?.FullName ?? ".", "..", "shared", "assets"));
    }
}
