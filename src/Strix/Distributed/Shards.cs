namespace Strix.Distributed;

/// <summary>
/// The one rule by which data-parallel training splits a sequence (a training epoch's samples, a
/// validation pass's whole batches, any batch source's batches) over W ranks: rank r takes positions
/// r, r+W, r+2W, …. For training (<c>pad</c>) the sequence is wrapped to a multiple of W, so every rank
/// takes ⌈n/W⌉ items and the same number of steps — PyTorch's DistributedSampler padding; read position p
/// as item p mod n. For evaluation (no <c>pad</c>) each item is taken exactly once.
/// </summary>
public static class Shards
{
    /// <summary>How many of <paramref name="n"/> items rank <paramref name="rank"/> of <paramref name="world"/> takes.</summary>
    public static int Count(int n, int rank, int world, bool pad)
    {
        Check(n, rank, world);
        if (n == 0) return 0;
        return pad ? (n + world - 1) / world : Math.Max(0, (n - rank + world - 1) / world);
    }

    /// <summary>The positions rank <paramref name="rank"/> takes, in order; with <paramref name="pad"/> the last may be ≥ n (wrapped: use p mod n).</summary>
    public static IEnumerable<int> Positions(int n, int rank, int world, bool pad)
    {
        int count = Count(n, rank, world, pad);
        for (int i = 0; i < count; i++) yield return rank + i * world;
    }

    static void Check(int n, int rank, int world)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), $"{n} items");
        if (world < 1 || rank < 0 || rank >= world) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {world}");
    }
}
