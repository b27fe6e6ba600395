using Strix.Engine;
using Strix.Engine.Strategies;

namespace Strix.Tests.Distributed;

public class ShardedBatchSourceTests
{
    /// <summary>Batches are their global index; each epoch offsets them so epochs are distinguishable.</summary>
    sealed class Numbered(int count) : IBatchSource<int>
    {
        public int Enumerated;
        public int Count => count;
        public IEnumerable<int> GetEpoch(int epoch)
        {
            for (int i = 0; i < count; i++) { Enumerated++; yield return epoch * 1000 + i; }
        }
    }

    static int[][] Shards(int count, int world, bool pad, int epoch = 0) =>
        Enumerable.Range(0, world).Select(r => new ShardedBatchSource<int>(new Numbered(count), r, world, pad).GetEpoch(epoch).ToArray()).ToArray();

    [Fact]
    public void Training_StridesBatchesOverRanks_AndWrapsSoAllRanksTakeTheSameSteps()
    {
        var s = Shards(7, 3, pad: true, epoch: 2);
        Assert.Equal(new[] { 2000, 2003, 2006 }, s[0]);
        Assert.Equal(new[] { 2001, 2004, 2000 }, s[1]); // position 7 wraps to batch 0
        Assert.Equal(new[] { 2002, 2005, 2001 }, s[2]);
        // Step k of all ranks together covers the global batches k·W … k·W+W−1: DDP(b) ≡ one process(W·b).
        for (int k = 0; k < 2; k++)
            Assert.Equal(Enumerable.Range(k * 3, 3).Select(i => 2000 + i), s.Select(r => r[k]));
    }

    [Fact]
    public void Validation_PartitionsTheBatches_WithoutPadding()
    {
        var s = Shards(7, 3, pad: false);
        Assert.Equal(new[] { 0, 3, 6 }, s[0]);
        Assert.Equal(new[] { 1, 4 }, s[1]);
        Assert.Equal(new[] { 2, 5 }, s[2]);
        Assert.Equal(Enumerable.Range(0, 7), s.SelectMany(x => x).OrderBy(x => x));
        var fewer = Shards(1, 2, pad: false);
        Assert.Equal(new[] { 0 }, fewer[0]);
        Assert.Empty(fewer[1]);
    }

    [Fact]
    public void Resume_StartsAtTheRanksOwnBatchIndex_AndStopsEnumeratingEarly()
    {
        var inner = new Numbered(100);
        var shard = new ShardedBatchSource<int>(inner, 1, 4, pad: true);
        Assert.Equal(25, shard.Count);
        Assert.Equal(new[] { 89, 93, 97 }, shard.GetEpoch(0, start: 22).ToArray());
        var firstTwo = shard.GetEpoch(0).Take(2).ToArray();
        Assert.Equal(new[] { 1, 5 }, firstTwo);
    }

    [Fact]
    public void SingleRank_IsTheSourceItself_InOrder()
    {
        var s = Shards(5, 1, pad: true);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }, s[0]);
    }
}
