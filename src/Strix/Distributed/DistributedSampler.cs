using static TorchSharp.torch;

namespace Strix.Distributed;

/// <summary>
/// Splits every epoch's sample order across ranks, as PyTorch's <c>DistributedSampler</c> (which
/// Ultralytics uses): the epoch order is <c>randperm(length)</c> from a generator seeded with
/// <c>seed + epoch</c> (the same permutation PyTorch produces), padded by wrapping around to a multiple
/// of the world size (or truncated with <c>dropLast</c>), and rank <c>r</c> takes positions
/// <c>r, r + W, r + 2W, …</c>. Shards are disjoint within the unpadded part, cover the epoch, and every
/// rank gets the same count — so all ranks run the same number of steps and no collective waits forever.
/// </summary>
public sealed class DistributedSampler
{
    public int DatasetLength { get; }
    public int NumReplicas { get; }
    public int Rank { get; }
    public bool Shuffle { get; }
    public long Seed { get; }
    public bool DropLast { get; }
    /// <summary>Set before each epoch (<c>set_epoch</c>): a different shuffle every epoch, identical on every rank.</summary>
    public int Epoch { get; set; }
    /// <summary>Samples each rank gets per epoch.</summary>
    public int NumSamples { get; }
    /// <summary><see cref="NumSamples"/> × <see cref="NumReplicas"/>: the padded (or truncated) epoch length.</summary>
    public int TotalSize => NumSamples * NumReplicas;

    public DistributedSampler(int datasetLength, int numReplicas, int rank, bool shuffle = true, long seed = 0, bool dropLast = false)
    {
        if (datasetLength < 0) throw new ArgumentOutOfRangeException(nameof(datasetLength));
        if (numReplicas < 1) throw new ArgumentOutOfRangeException(nameof(numReplicas), "need at least one replica");
        if (rank < 0 || rank >= numReplicas) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is not in [0, {numReplicas})");
        if (datasetLength == 0) throw new ArgumentException("the dataset is empty: nothing to sample", nameof(datasetLength));
        if (dropLast && datasetLength < numReplicas)
            throw new ArgumentException($"dropLast with {datasetLength} samples and {numReplicas} ranks would leave every rank without data");
        DatasetLength = datasetLength;
        NumReplicas = numReplicas;
        Rank = rank;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        NumSamples = dropLast && datasetLength % numReplicas != 0
            ? (int)Math.Ceiling((double)(datasetLength - numReplicas) / numReplicas)
            : (int)Math.Ceiling((double)datasetLength / numReplicas);
    }

    /// <summary>A sampler for <paramref name="group"/>'s rank and world size.</summary>
    public static DistributedSampler For(IProcessGroup group, int datasetLength, bool shuffle = true, long seed = 0, bool dropLast = false) =>
        new(datasetLength, group.WorldSize, group.Rank, shuffle, seed, dropLast);

    /// <summary>The whole epoch order before padding and sharding (same on every rank).</summary>
    public int[] EpochOrder()
    {
        if (!Shuffle) return Enumerable.Range(0, DatasetLength).ToArray();
        using var g = new Generator(unchecked((ulong)(Seed + Epoch)), CPU);
        using var perm = randperm(DatasetLength, generator: g);
        return perm.data<long>().Select(v => (int)v).ToArray();
    }

    /// <summary>This rank's dataset indices for <see cref="Epoch"/>, <see cref="NumSamples"/> of them.</summary>
    public int[] Indices()
    {
        var order = EpochOrder();
        var padded = new int[TotalSize];
        for (int i = 0; i < TotalSize; i++) padded[i] = order[i % order.Length]; // wraps (repeatedly if needed) or truncates
        var mine = new int[NumSamples];
        for (int i = 0; i < NumSamples; i++) mine[i] = padded[Rank + i * NumReplicas];
        return mine;
    }

    /// <summary>
    /// Rank <paramref name="rank"/>'s part of an evaluation set: indices <c>rank, rank + W, …</c> with no
    /// padding, so no image is counted twice. Counts may differ by one between ranks; that is safe because
    /// evaluation runs no per-batch collectives — statistics are gathered once at the end.
    /// </summary>
    public static int[] EvaluationShard(int datasetLength, int numReplicas, int rank)
    {
        if (numReplicas < 1) throw new ArgumentOutOfRangeException(nameof(numReplicas));
        if (rank < 0 || rank >= numReplicas) throw new ArgumentOutOfRangeException(nameof(rank));
        var list = new List<int>();
        for (int i = rank; i < datasetLength; i += numReplicas) list.Add(i);
        return list.ToArray();
    }
}
