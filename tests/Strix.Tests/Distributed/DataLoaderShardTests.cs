using Strix.Data;
using Strix.Tests.Data;

namespace Strix.Tests.Distributed;

/// <summary>The data loader's data-parallel shards: what each rank loads under DDP.</summary>
public class DataLoaderShardTests
{
    static readonly Lazy<string> Yaml = new(() => DataFixtures.Rectangles(TestPaths.NewTempDir(), 11, seed: 5));

    static List<(string[] Files, long[] Shape)> Batches(DataLoader loader, int epoch)
    {
        loader.SetEpoch(epoch);
        var list = new List<(string[], long[])>();
        foreach (var b in loader) using (b) list.Add((b.Files, b.Images.shape));
        return list;
    }

    [Fact]
    public void TrainingShards_AreEqualSized_InterleaveTheSingleProcessOrder_AndCoverTheEpoch()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        var options = DataLoaderOptions.ForTraining(imgsz: 96, batch: 4, workers: 0, seed: 3) with { Hyp = AugmentationOptions.None, Augment = false };
        using var single = DataLoader.Create(cfg, "train", options, _ => { });
        using var r0 = DataLoader.Create(cfg, "train", options with { Rank = 0, WorldSize = 2 }, _ => { });
        using var r1 = DataLoader.Create(cfg, "train", options with { Rank = 1, WorldSize = 2 }, _ => { });
        Assert.Equal(2, r0.Count);                       // ⌈11 / 2⌉ = 6 samples per rank, batches of 4
        Assert.Equal(2, r1.Count);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var full = single.EpochOrder(epoch);
            int[] a = r0.EpochOrder(epoch), b = r1.EpochOrder(epoch);
            Assert.Equal(6, a.Length);
            Assert.Equal(6, b.Length);
            for (int i = 0; i < 6; i++)
            {
                Assert.Equal(full[(2 * i) % 11], a[i]);
                Assert.Equal(full[(2 * i + 1) % 11], b[i]);   // position 11 wraps to the first sample
            }
            var files = Batches(r0, epoch).Concat(Batches(r1, epoch)).SelectMany(x => x.Files).ToList();
            Assert.Equal(12, files.Count);
            Assert.Equal(11, files.Distinct().Count());
        }
    }

    [Fact]
    public void ValidationShards_AreWholeRectBatches_EachImageOnce()
    {
        var cfg = DatasetConfig.Load(Yaml.Value);
        var options = DataLoaderOptions.ForValidation(imgsz: 96, batch: 4, workers: 0);
        using var single = DataLoader.Create(cfg, "train", options, _ => { });
        using var r0 = DataLoader.Create(cfg, "train", options with { Rank = 0, WorldSize = 2 }, _ => { });
        using var r1 = DataLoader.Create(cfg, "train", options with { Rank = 1, WorldSize = 2 }, _ => { });
        var all = Batches(single, 0);                     // 3 rect batches: 4, 4, 3 images
        var a = Batches(r0, 0);
        var b = Batches(r1, 0);
        Assert.Equal(3, all.Count);
        Assert.Equal(2, r0.Count);
        Assert.Equal(1, r1.Count);
        // Rank 0 gets global batches 0 and 2, rank 1 batch 1 — same images, same rect shapes.
        Assert.Equal(all[0].Files, a[0].Files); Assert.Equal(all[0].Shape, a[0].Shape);
        Assert.Equal(all[2].Files, a[1].Files); Assert.Equal(all[2].Shape, a[1].Shape);
        Assert.Equal(all[1].Files, b[0].Files); Assert.Equal(all[1].Shape, b[0].Shape);
    }

    [Fact]
    public void InvalidShard_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => (DataLoaderOptions.ForTraining() with { Rank = 2, WorldSize = 2 }).Validate());
    }
}
