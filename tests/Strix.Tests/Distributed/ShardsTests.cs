using Strix.Distributed;
using static TorchSharp.torch;

namespace Strix.Tests.Distributed;

public class ShardsTests
{
    /// <summary>A training epoch's share: positions r, r+W, … of the order, wrapped (Shards' rule, as the data loader applies it).</summary>
    static int[] TrainingShard(int[] order, int rank, int world) =>
        Shards.Positions(order.Length, rank, world, pad: true).Select(p => order[p % order.Length]).ToArray();

    static int[] TorchRandperm(int n, long seed)
    {
        using var g = new Generator(unchecked((ulong)seed), CPU);
        using var perm = randperm(n, generator: g);
        return perm.data<long>().Select(v => (int)v).ToArray();
    }

    // Expected shards printed by PyTorch 1.13: torch.utils.data.DistributedSampler(range(n), num_replicas=w,
    // rank=r, shuffle=…, seed=…) after set_epoch(epoch); its shuffled order is randperm(n) seeded seed + epoch.
    public static IEnumerable<object[]> PyTorchCases() => new[]
    {
        new object[] { 10, 3, 5L, 2, true, new[] { new[] { 5, 4, 9, 2 }, new[] { 0, 1, 6, 5 }, new[] { 3, 7, 8, 0 } } },
        new object[] { 2, 4, 0L, 0, true, new[] { new[] { 0 }, new[] { 1 }, new[] { 0 }, new[] { 1 } } },
        new object[] { 7, 2, 0L, 1, false, new[] { new[] { 0, 2, 4, 6 }, new[] { 1, 3, 5, 0 } } },
    };

    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void Training_shards_equal_pytorchs_distributed_sampler(int n, int world, long seed, int epoch, bool shuffle, int[][] expected)
    {
        var order = shuffle ? TorchRandperm(n, seed + epoch) : Enumerable.Range(0, n).ToArray();
        for (int r = 0; r < world; r++)
        {
            Assert.Equal(expected[r], TrainingShard(order, r, world));
            Assert.Equal(expected[r].Length, Shards.Count(n, r, world, pad: true));
        }
    }

    [Fact]
    public void Torch_randperm_matches_pytorch() => // torch.randperm(25, generator=torch.Generator().manual_seed(3)) in PyTorch 1.13
        Assert.Equal(new[] { 11, 9, 16, 6, 0, 5, 10, 18, 21, 12, 14, 24, 17, 7, 23, 4, 19, 3, 15, 8, 2, 22, 20, 1, 13 }, TorchRandperm(25, 3));

    [Theory]
    [InlineData(128, 2)]
    [InlineData(127, 4)]
    [InlineData(5, 8)]
    public void Training_shards_are_equal_sized_and_cover_the_epoch_with_only_the_padding_repeated(int n, int world)
    {
        var order = TorchRandperm(n, 9);
        var shards = Enumerable.Range(0, world).Select(r => TrainingShard(order, r, world)).ToArray();
        int per = (n + world - 1) / world;
        Assert.All(shards, s => Assert.Equal(per, s.Length));
        var all = shards.SelectMany(s => s).ToArray();
        Assert.Equal(Enumerable.Range(0, n), all.Distinct().OrderBy(i => i));
        Assert.Equal(per * world - n, all.Length - all.Distinct().Count());
    }

    [Fact]
    public void Evaluation_shards_have_no_padding_and_partition_the_set()
    {
        var shards = Enumerable.Range(0, 3).Select(r => Shards.Positions(10, r, 3, pad: false).ToArray()).ToArray();
        Assert.Equal(new[] { 0, 3, 6, 9 }, shards[0]);
        Assert.Equal(new[] { 1, 4, 7 }, shards[1]);
        Assert.Equal(new[] { 2, 5, 8 }, shards[2]);
        Assert.Empty(Shards.Positions(2, 2, 3, pad: false)); // a rank past the end gets nothing
        Assert.Equal(Enumerable.Range(0, 10), shards.SelectMany(s => s).OrderBy(i => i));
    }

    [Fact]
    public void Invalid_ranks_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Shards.Count(10, 2, 2, pad: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => Shards.Count(10, 0, 0, pad: false));
        Assert.Throws<ArgumentOutOfRangeException>(() => Shards.Count(-1, 0, 1, pad: false));
    }
}
