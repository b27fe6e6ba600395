using Strix.Distributed;

namespace Strix.Tests.Distributed;

public class DistributedSamplerTests
{
    // Expected shards printed by PyTorch 1.13: torch.utils.data.DistributedSampler(range(n), num_replicas=w,
    // rank=r, shuffle=…, seed=…, drop_last=…) after set_epoch(epoch).
    public static IEnumerable<object[]> PyTorchCases() => new[]
    {
        new object[] { 10, 3, 5L, 2, false, true, new[] { new[] { 5, 4, 9, 2 }, new[] { 0, 1, 6, 5 }, new[] { 3, 7, 8, 0 } } },
        new object[] { 10, 3, 5L, 2, true, true, new[] { new[] { 5, 4, 9 }, new[] { 0, 1, 6 }, new[] { 3, 7, 8 } } },
        new object[] { 2, 4, 0L, 0, false, true, new[] { new[] { 0 }, new[] { 1 }, new[] { 0 }, new[] { 1 } } },
        new object[] { 7, 2, 0L, 1, false, false, new[] { new[] { 0, 2, 4, 6 }, new[] { 1, 3, 5, 0 } } },
    };

    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void Shards_EqualPyTorchDistributedSampler(int n, int world, long seed, int epoch, bool dropLast, bool shuffle, int[][] expected)
    {
        for (int r = 0; r < world; r++)
        {
            var s = new DistributedSampler(n, world, r, shuffle, seed, dropLast) { Epoch = epoch };
            Assert.Equal(expected[r], s.Indices());
            Assert.Equal(expected[r].Length, s.NumSamples);
        }
    }

    [Fact]
    public void EpochOrder_IsPyTorchsRandperm()
    {
        // torch.randperm(25, generator=torch.Generator().manual_seed(3)) in PyTorch 1.13
        var s = new DistributedSampler(25, 1, 0, shuffle: true, seed: 3);
        Assert.Equal(new[] { 11, 9, 16, 6, 0, 5, 10, 18, 21, 12, 14, 24, 17, 7, 23, 4, 19, 3, 15, 8, 2, 22, 20, 1, 13 }, s.EpochOrder());
    }

    [Theory]
    [InlineData(128, 2)]
    [InlineData(127, 4)]
    [InlineData(5, 8)]
    public void Shards_AreEqualSized_DisjointOnTheEpoch_AndCoverIt(int n, int world)
    {
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var shards = Enumerable.Range(0, world).Select(r => new DistributedSampler(n, world, r, seed: 9) { Epoch = epoch }.Indices()).ToArray();
            int per = (n + world - 1) / world;
            Assert.All(shards, s => Assert.Equal(per, s.Length));
            var all = shards.SelectMany(s => s).ToArray();
            Assert.Equal(Enumerable.Range(0, n), all.Distinct().OrderBy(i => i));     // covers every sample
            Assert.Equal(per * world - n, all.Length - all.Distinct().Count());         // only the padding repeats
        }
    }

    [Fact]
    public void Epochs_ShuffleDifferently_AndSeedsReproduce()
    {
        var a = new DistributedSampler(100, 2, 0, seed: 1) { Epoch = 0 }.Indices();
        var b = new DistributedSampler(100, 2, 0, seed: 1) { Epoch = 1 }.Indices();
        var c = new DistributedSampler(100, 2, 0, seed: 1) { Epoch = 1 }.Indices();
        Assert.NotEqual(a, b);
        Assert.Equal(b, c);
    }

    [Fact]
    public void EvaluationShard_HasNoPadding_AndPartitionsTheSet()
    {
        var shards = Enumerable.Range(0, 3).Select(r => DistributedSampler.EvaluationShard(10, 3, r)).ToArray();
        Assert.Equal(new[] { 0, 3, 6, 9 }, shards[0]);
        Assert.Equal(new[] { 1, 4, 7 }, shards[1]);
        Assert.Equal(Enumerable.Range(0, 10), shards.SelectMany(s => s).OrderBy(i => i));
    }

    [Fact]
    public void InvalidArguments_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 2, 2));
        Assert.Throws<ArgumentException>(() => new DistributedSampler(0, 2, 0));
        Assert.Throws<ArgumentException>(() => new DistributedSampler(1, 2, 0, dropLast: true));
    }
}
