using Strix.Tasks;
using Strix.Tasks.Detect;
using Strix.Data;
using Strix.Eval;
using static TorchSharp.torch;

namespace Strix.Tests.Distributed;

/// <summary>
/// Data-parallel validation: ranks validate batch-strided shards, exchange <see cref="Validator.ExportShard"/>,
/// and <see cref="Validator.MergeShards"/> must reproduce the single-process pass exactly.
/// </summary>
public class ShardedValidationTests
{
    static readonly string[] Names = { "a", "b", "c" };
    const int Size = 64, Anchors = 12;

    /// <summary>Batches of labelled images and decoded predictions: jittered copies of the labels (some with the wrong class) plus clutter.</summary>
    static List<(Batch Batch, Tensor Decoded)> MakeBatches(int batches, int batchSize, int seed)
    {
        var rng = new Random(seed);
        var list = new List<(Batch, Tensor)>();
        int file = 0;
        for (int b = 0; b < batches; b++)
        {
            var samples = new List<Sample>();
            var decoded = zeros(batchSize, 4 + Names.Length, Anchors);
            for (int i = 0; i < batchSize; i++)
            {
                int n = rng.Next(0, 4);
                var cls = new float[n];
                var boxes = new float[n * 4];
                for (int k = 0; k < n; k++)
                {
                    cls[k] = rng.Next(Names.Length);
                    float w = 0.1f + 0.3f * (float)rng.NextDouble(), h = 0.1f + 0.3f * (float)rng.NextDouble();
                    float x = w / 2 + (1 - w) * (float)rng.NextDouble(), y = h / 2 + (1 - h) * (float)rng.NextDouble();
                    boxes[4 * k] = x; boxes[4 * k + 1] = y; boxes[4 * k + 2] = w; boxes[4 * k + 3] = h;
                }
                samples.Add(new Sample(new RgbImage(Size, Size, new byte[Size * Size * 3]), cls, boxes, $"img{file++}.jpg", (Size, Size), (Size, Size), (1, 1, 0, 0)));
                for (int a = 0; a < Anchors; a++)
                {
                    bool onLabel = a < n * 2;
                    int k = onLabel ? a % n : 0;
                    float jitter = onLabel ? 0.03f : 1f;
                    float px = onLabel ? boxes[4 * k] : (float)rng.NextDouble(), py = onLabel ? boxes[4 * k + 1] : (float)rng.NextDouble();
                    float pw = onLabel ? boxes[4 * k + 2] : 0.2f, ph = onLabel ? boxes[4 * k + 3] : 0.2f;
                    decoded[i, 0, a] = (px + jitter * 0.1f * (float)(rng.NextDouble() - 0.5)) * Size;
                    decoded[i, 1, a] = (py + jitter * 0.1f * (float)(rng.NextDouble() - 0.5)) * Size;
                    decoded[i, 2, a] = pw * Size * (1 + 0.2f * (float)(rng.NextDouble() - 0.5));
                    decoded[i, 3, a] = ph * Size * (1 + 0.2f * (float)(rng.NextDouble() - 0.5));
                    int c = onLabel && rng.NextDouble() < 0.8 ? (int)cls[k] : rng.Next(Names.Length);
                    decoded[i, 4 + c, a] = (float)(0.05 + 0.9 * rng.NextDouble());
                }
            }
            list.Add((Batch.Collate(samples), decoded));
        }
        return list;
    }

    static DetectionValidator Validator()
    {
        var v = new DetectionValidator(Names, new ValidatorOptions { Plots = false, Verbose = false, Log = null });
        v.Begin();
        return v;
    }

    [Theory]
    [InlineData(7, 2)]
    [InlineData(5, 3)]
    [InlineData(2, 3)] // a rank without any batch
    public void MergedShards_EqualTheSingleProcessPass(int batchCount, int world)
    {
        var batches = MakeBatches(batchCount, 3, seed: batchCount * 10 + world);
        var single = Validator();
        for (int g = 0; g < batches.Count; g++) single.Postprocess(batches[g].Decoded, batches[g].Batch, g);
        var expected = single.End().Metrics;
        Assert.True(expected.Map50 > 0.1, "the synthetic predictions must give non-trivial metrics");

        var shards = new byte[world][];
        for (int r = 0; r < world; r++)
        {
            var v = Validator();
            int local = 0;
            for (int g = r; g < batches.Count; g += world) v.Postprocess(batches[g].Decoded, batches[g].Batch, local++);
            shards[r] = v.ExportShard();
        }
        var merged = Validator();
        merged.MergeShards(shards);
        var actual = merged.End().Metrics;

        Assert.Equal(expected.Images, actual.Images);
        Assert.Equal(expected.InstancesPerClass, actual.InstancesPerClass);
        Assert.Equal(expected.Map, actual.Map);
        Assert.Equal(expected.Map50, actual.Map50);
        Assert.Equal(expected.MeanPrecision, actual.MeanPrecision);
        Assert.Equal(expected.MeanRecall, actual.MeanRecall);
        Assert.Equal(expected.Ap5095, actual.Ap5095);
        foreach (var (b, d) in batches) { b.Dispose(); d.Dispose(); }
    }

    [Fact]
    public void ShardsThatAreNotBatchStrided_AreRejected()
    {
        var batches = MakeBatches(3, 2, seed: 1);
        var r0 = Validator();
        r0.Postprocess(batches[0].Decoded, batches[0].Batch, 0);
        r0.Postprocess(batches[1].Decoded, batches[1].Batch, 1); // global batches 0 and 1 on rank 0, none on rank 1
        var r1 = Validator();
        var merged = Validator();
        Assert.Throws<InvalidDataException>(() => merged.MergeShards(new[] { r0.ExportShard(), r1.ExportShard() }));
    }
}
