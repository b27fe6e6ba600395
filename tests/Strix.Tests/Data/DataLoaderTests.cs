using Strix.Runtime;
using Strix.Data;
using static TorchSharp.torch;

namespace Strix.Tests.Data;

public class DataLoaderTests
{
    static readonly Lazy<string> Yaml = new(() => DataFixtures.Rectangles(TestPaths.NewTempDir(), 11, seed: 5));

    static DataLoaderOptions Train(int workers, int batch = 4) => DataLoaderOptions.ForTraining(imgsz: 96, batch: batch, workers: workers, seed: 7,
        hyp: new AugmentationOptions { MixUp = 0.3, Degrees = 5 }) with { Prefetch = 2 };

    static List<(byte[] Img, float[] Idx, float[] Cls, float[] Box, string[] Files)> Collect(DataLoader loader, int epoch)
    {
        loader.SetEpoch(epoch);
        var list = new List<(byte[], float[], float[], float[], string[])>();
        foreach (var b in loader)
            using (b)
                list.Add((b.Images.bytes.ToArray(), b.BatchIdx.data<float>().ToArray(), b.Cls.data<float>().ToArray(), b.Bboxes.data<float>().ToArray(), b.Files));
        return list;
    }

    [Fact]
    public void BatchesFollowTheContract()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        using var loader = DataLoader.Create(cfg, "train", Train(workers: 2), _ => { });
        Assert.Equal(11, loader.Dataset.Count);
        Assert.Equal(3, loader.Count);
        loader.SetEpoch(0);
        var sizes = new List<int>();
        foreach (var b in loader)
        {
            using (b)
            {
                sizes.Add(b.Count);
                Assert.Equal(ScalarType.Byte, b.Images.dtype);
                Assert.Equal(new long[] { b.Count, 3, 96, 96 }, b.Images.shape);
                long n = b.Cls.shape[0];
                Assert.Equal(new long[] { n }, b.BatchIdx.shape);
                Assert.Equal(new long[] { n, 4 }, b.Bboxes.shape);
                Assert.Equal(ScalarType.Float32, b.Bboxes.dtype);
                Assert.True(n > 0);
                var idx = b.BatchIdx.data<float>().ToArray();
                Assert.All(idx, i => Assert.InRange(i, 0, b.Count - 1));
                Assert.Equal(idx.OrderBy(i => i), idx); // grouped by image
                Assert.All(b.Bboxes.data<float>().ToArray(), v => Assert.InRange(v, 0f, 1f));
                Assert.Equal(b.Count, b.Files.Length);
                Assert.Equal(b.Count, b.OriginalShapes.Length);
                Assert.All(b.ResizedShapes, s => Assert.Equal(96, Math.Max(s.Height, s.Width)));
            }
        }
        Assert.Equal(new[] { 4, 4, 3 }, sizes);
    }

    [Fact]
    public void CollateWritesChannelsFirstRgb()
    {
        var img = new RgbImage(2, 1, new byte[] { 1, 2, 3, 4, 5, 6 });
        var s = new Sample(img, new float[] { 2 }, new float[] { 0.5f, 0.5f, 0.2f, 0.2f }, "f", (1, 2), (1, 2), (1, 1, 0, 0));
        using var b = Batch.Collate(new[] { s, s });
        Assert.Equal(new byte[] { 1, 4, 2, 5, 3, 6, 1, 4, 2, 5, 3, 6 }, b.Images.bytes.ToArray());
        Assert.Equal(new float[] { 0, 1 }, b.BatchIdx.data<float>().ToArray());
        Assert.Equal(new float[] { 2, 2 }, b.Cls.data<float>().ToArray());
    }

    [Fact]
    public void SameSeedGivesIdenticalBatchesWithOneAndFourWorkers()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        using var one = DataLoader.Create(cfg, "train", Train(workers: 1), _ => { });
        using var four = DataLoader.Create(cfg, "train", Train(workers: 4), _ => { });
        using var sync = DataLoader.Create(cfg, "train", Train(workers: 0), _ => { });
        foreach (var epoch in new[] { 0, 1 })
        {
            var a = Collect(one, epoch);
            var b = Collect(four, epoch);
            var c = Collect(sync, epoch);
            Assert.Equal(a.Count, b.Count);
            for (int i = 0; i < a.Count; i++)
            {
                Assert.Equal(a[i].Files, b[i].Files);
                Assert.Equal(a[i].Img, b[i].Img);
                Assert.Equal(a[i].Idx, b[i].Idx);
                Assert.Equal(a[i].Cls, b[i].Cls);
                Assert.Equal(a[i].Box, b[i].Box);
                Assert.Equal(a[i].Img, c[i].Img);
            }
        }
        // Another epoch reshuffles: every image once, in a different order.
        var e0 = Collect(one, 0).SelectMany(x => x.Files).ToList();
        var e1 = Collect(one, 1).SelectMany(x => x.Files).ToList();
        Assert.Equal(e0.OrderBy(f => f), e1.OrderBy(f => f));
        Assert.Equal(11, e0.Distinct().Count());
        Assert.NotEqual(e0, e1);
    }

    [Fact]
    public void ResumingMidEpochYieldsTheSameTail()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        using var loader = DataLoader.Create(cfg, "train", Train(workers: 2, batch: 3), _ => { });
        var full = loader.GetEpoch(4).Select(b => { using (b) return (b.Files, b.Images.bytes.ToArray()); }).ToList();
        var tail = loader.GetEpoch(4, startBatch: 2).Select(b => { using (b) return (b.Files, b.Images.bytes.ToArray()); }).ToList();
        Assert.Equal(4, full.Count);
        Assert.Equal(2, tail.Count);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(full[i + 2].Files, tail[i].Files);
            Assert.Equal(full[i + 2].Item2, tail[i].Item2);
        }
        Assert.Empty(loader.GetEpoch(4, startBatch: 4));
    }

    [Fact]
    public void SamplerShardsTheEpoch()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        var ds = YoloDataset.Create(cfg, "train", Train(workers: 1), _ => { });
        // Two "ranks" taking alternate positions of one shared permutation, padded to equal length.
        int[] Shard(int epoch, int rank)
        {
            var perm = new StrixRandom(1, epoch).Permutation(ds.Count).ToList();
            perm.Add(perm[0]);
            return perm.Where((_, i) => i % 2 == rank).ToArray();
        }
        using var r0 = new DataLoader(ds, sampler: e => Shard(e, 0));
        using var r1 = new DataLoader(ds, sampler: e => Shard(e, 1));
        Assert.Equal(6, r0.SamplesPerEpoch);
        Assert.Equal(2, r0.Count);
        var files0 = r0.GetEpoch(1).SelectMany(b => { using (b) return b.Files; }).ToList();
        var files1 = r1.GetEpoch(1).SelectMany(b => { using (b) return b.Files; }).ToList();
        Assert.Equal(Shard(1, 0).Select(i => ds.Items[i].ImageFile), files0);
        Assert.Equal(11, files0.Concat(files1).Distinct().Count());
    }

    [Fact]
    public void WorkerErrorSurfacesWithTheFileName()
    {
        var root = TestPaths.NewTempDir();
        var yaml = DataFixtures.Rectangles(root, 6);
        var cfg = DatasetConfig.Load(yaml);
        using var loader = DataLoader.Create(cfg, "train", Train(workers: 2, batch: 2), _ => { });
        // Damage one image after the check pass, as a disk or a user might mid-training.
        var victim = loader.Dataset.Items[3].ImageFile;
        File.WriteAllBytes(victim, new byte[] { 1, 2, 3 });
        loader.SetEpoch(0);
        var e = Assert.Throws<InvalidDataException>(() => { foreach (var b in loader) b.Dispose(); });
        Assert.Contains(victim, e.Message);
    }

    [Fact]
    public void BreakingOutEarlyStopsTheWorkers()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        var loader = DataLoader.Create(cfg, "train", Train(workers: 3, batch: 2), _ => { });
        loader.SetEpoch(0);
        foreach (var b in loader) { b.Dispose(); break; }
        var e = loader.GetEnumerator();
        Assert.True(e.MoveNext());
        e.Current.Dispose();
        loader.Dispose(); // stops the still-running enumeration and its workers
        Assert.Throws<ObjectDisposedException>(() => e.MoveNext());
        e.Dispose();
        Assert.Throws<ObjectDisposedException>(() => loader.GetEnumerator());
    }

    [Fact]
    public void CloseMosaicFollowsTheEpoch()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        using var loader = DataLoader.Create(cfg, "train", Train(workers: 0) with { Epochs = 5, Hyp = new AugmentationOptions { CloseMosaic = 2 } }, _ => { });
        loader.SetEpoch(2);
        Assert.True(loader.MosaicEnabled);
        loader.SetEpoch(3);
        Assert.False(loader.MosaicEnabled);
        // Without mosaic a sample is its own image letterboxed: only its own boxes.
        var s = loader.Dataset.Load(0, 3);
        Assert.True(s.Count <= loader.Dataset.Items[0].Count);
        loader.SetEpoch(1); // resuming earlier turns it back on
        Assert.True(loader.MosaicEnabled);
        loader.CloseMosaic();
        Assert.False(loader.MosaicEnabled);
    }

    [Fact]
    public void RectValidationBatchesAreSortedByAspectRatio()
    {
        var root = TestPaths.NewTempDir();
        var sizes = new[] { (100, 50), (50, 100), (80, 80), (120, 40), (60, 90), (90, 60) };
        var yaml = DataFixtures.Make(root, sizes.Select((s, i) => new DataFixtures.Img($"i{i}.png", s.Item1, s.Item2, "0 0.5 0.5 0.5 0.5\n")));
        var opts = DataLoaderOptions.ForValidation(imgsz: 64, batch: 2, workers: 2);
        using var loader = DataLoader.Create(DatasetConfig.Load(yaml), "val", opts, _ => { });
        var ars = loader.Dataset.Items.Select(l => (double)l.Height / l.Width).ToArray();
        Assert.Equal(ars.OrderBy(a => a), ars);
        var shapes = new List<long[]>();
        foreach (var b in loader)
            using (b)
            {
                shapes.Add(b.Images.shape[2..]);
                for (int i = 0; i < b.Count; i++)
                {
                    // Letterboxed content fits the batch shape and the ratio maps the original size onto it.
                    var (rw, rh, pw, ph) = b.RatioPad[i];
                    Assert.True(b.OriginalShapes[i].Width * rw + 2 * pw <= b.Images.shape[3] + 1e-6);
                    Assert.True(b.OriginalShapes[i].Height * rh + 2 * ph <= b.Images.shape[2] + 1e-6);
                }
            }
        Assert.Equal(new[] { new long[] { 64, 96 }, new long[] { 96, 96 }, new long[] { 96, 64 } }, shapes);
    }

    [Fact]
    public void FractionAndRamAndDiskCachesGiveTheSameSamples()
    {
        var root = TestPaths.NewTempDir();
        var cfg = DatasetConfig.Load(DataFixtures.Rectangles(root, 8, seed: 9));
        var baseOpts = Train(workers: 2);
        using var plain = DataLoader.Create(cfg, "train", baseOpts, _ => { });
        using var ram = DataLoader.Create(cfg, "train", baseOpts with { Cache = ImageCacheMode.Ram }, _ => { });
        using var disk = DataLoader.Create(cfg, "train", baseOpts with { Cache = ImageCacheMode.Disk }, _ => { });
        var p = Collect(plain, 0);
        Assert.Equal(p.Select(x => x.Img), Collect(ram, 0).Select(x => x.Img));
        Assert.Equal(p.Select(x => x.Img), Collect(disk, 0).Select(x => x.Img));
        Assert.True(File.Exists(ImageCache_DiskPath(cfg.Train[0], 96)));
        Assert.Equal(p.Select(x => x.Img), Collect(disk, 0).Select(x => x.Img)); // now read from the .rgb files

        using var half = DataLoader.Create(cfg, "train", baseOpts with { Fraction = 0.5 }, _ => { });
        Assert.Equal(4, half.Dataset.Count);
    }

    [Fact]
    public void LargeJpegsAreDecodedReducedWithTheSameResult()
    {
        var root = TestPaths.NewTempDir();
        // A smooth gradient with a sharp rectangle, 1300x700: decoded at 1/2 scale for imgsz 320.
        var px = new byte[1300 * 700 * 3];
        for (int y = 0; y < 700; y++)
            for (int x = 0; x < 1300; x++)
            {
                int i = (y * 1300 + x) * 3;
                px[i] = (byte)(x * 255 / 1299); px[i + 1] = (byte)(y * 255 / 699); px[i + 2] = (byte)(x > 400 && x < 900 && y > 200 && y < 500 ? 250 : 20);
            }
        var dir = Path.Combine(root, "images", "train");
        Directory.CreateDirectory(dir);
        ImageIO.Save(new RgbImage(1300, 700, px), Path.Combine(dir, "big.jpg"), 95);
        var reduced = YoloDataset.Create(DatasetConfig.Load(DataFixtures.Make(root, Array.Empty<DataFixtures.Img>())), "train",
            new DataLoaderOptions { ImgSize = 320 }, _ => { }).LoadImage(0).Image;
        Assert.Equal((320, 173), (reduced.Width, reduced.Height)); // ceil(700·320/1300)
        var full = ImageIO.Load(Path.Combine(dir, "big.jpg"));
        var reference = ImageOps.ResizeBilinear(full, 320, 173);
        double mad = reduced.Pixels.Zip(reference.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(mad < 3, $"mean abs difference to full decode + resize is {mad:F2}");
    }

    [Fact]
    public void RecentImagesDecodeOnceAndStayBounded()
    {
        var cache = new RecentImages(capacity: 3);
        int decodes = 0;
        RgbImage Load() { Interlocked.Increment(ref decodes); Thread.Sleep(20); return RgbImage.Filled(2, 2, 1, 1, 1); }
        Parallel.For(0, 8, _ => cache.GetOrLoad(7, Load));
        Assert.Equal(1, decodes); // eight concurrent requests, one decode
        for (int k = 0; k < 10; k++) cache.GetOrLoad(k, Load);
        Assert.Equal(3, cache.Count);
        Assert.Throws<InvalidDataException>(() => cache.GetOrLoad(42, () => throw new InvalidDataException("bad")));
        Assert.Equal(2, cache.Count); // 42 pushed the oldest out, then was dropped itself
        Assert.Equal(1, cache.GetOrLoad(42, () => RgbImage.Filled(1, 1, 1, 1, 1)).Width); // the failure was not kept
    }

    [Fact]
    public void MosaicPartnersComeFromNearbyPositionsOfTheEpochOrder()
    {
        var root = TestPaths.NewTempDir();
        var cfg = DatasetConfig.Load(DataFixtures.Rectangles(root, 40, seed: 2, minSize: 40, maxSize: 60));
        var ds = YoloDataset.Create(cfg, "train", Train(workers: 0, batch: 4), _ => { }); // window ±8
        Assert.Equal(8, ds.PartnerWindow);
        var order = ds.EpochOrder(3);
        Assert.Equal(Enumerable.Range(0, 40), order.Order());
        Assert.NotEqual(order, ds.EpochOrder(4));
        var pos = new int[40];
        for (int i = 0; i < 40; i++) pos[order[i]] = i;
        var rng = new StrixRandom(5);
        var offsets = new HashSet<int>();
        for (int t = 0; t < 400; t++)
        {
            int index = rng.NextInt(40), partner = ds.Partner(index, 3, rng);
            int d = ((pos[partner] - pos[index]) % 40 + 40) % 40;
            if (d > 20) d -= 40;
            Assert.InRange(Math.Abs(d), 1, 8);
            offsets.Add(d);
        }
        Assert.Equal(16, offsets.Count); // every offset in ±1..8 occurs
    }

    static string ImageCache_DiskPath(string image, int imgsz) => Path.ChangeExtension(image, $".strix{imgsz}.rgb");

    [Fact]
    public void RamCacheIsRefusedWhenItWouldNotFit()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        var warnings = new List<string>();
        var ds = new YoloDataset(cfg.Train, cfg.Names, Train(workers: 0) with { Cache = ImageCacheMode.Ram }, warnings.Add, "train: ", availableMemoryBytes: 1000);
        Assert.Contains(warnings, w => w.Contains("cache=ram needs") && w.Contains("not caching"));
        Assert.Equal(96, ds.Load(0, 0).Image.Width); // still loads
    }
}
