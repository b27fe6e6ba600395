using Strix.Distributed;

namespace Strix.Engine.Strategies;

/// <summary>
/// A source that can already yield only this rank's batches (e.g. a data loader built with
/// <c>Rank</c>/<c>WorldSize</c>); when <see cref="IsRankSharded"/> the DDP strategy uses it as it is.
/// Its shards must follow the same layout: training sources give every rank the same number of
/// batches, validation sources give rank r the global batches r, r+W, ….
/// </summary>
public interface IRankShardedSource
{
    bool IsRankSharded { get; }
}

/// <summary>
/// Rank <c>r</c>'s share of any deterministic batch source: global batches <c>r, r + W, r + 2W, …</c>
/// of each epoch. For training (<c>pad</c>) the sequence wraps around so every rank gets
/// ⌈count / W⌉ batches (<see cref="Shards"/>: all ranks take the same number of steps);
/// one global step then covers the W consecutive batches a single process would have used, i.e. DDP with
/// batch b equals one process with batch W·b on the same order. For validation (no <c>pad</c>) each
/// batch is seen exactly once. Sources that are not <see cref="IBorrowedBatches"/> are still enumerated
/// in full by every rank (skipped batches are disposed): efficient loaders should shard themselves and
/// implement <see cref="IRankShardedSource"/>.
/// </summary>
public sealed class ShardedBatchSource<T> : IBatchSource<T>
{
    readonly IBatchSource<T> _inner;
    readonly int _rank, _world;
    readonly bool _pad, _borrowed;

    public ShardedBatchSource(IBatchSource<T> inner, int rank, int world, bool pad)
    {
        if (world < 1 || rank < 0 || rank >= world) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} of {world}");
        _inner = inner; _rank = rank; _world = world; _pad = pad;
        _borrowed = inner is IBorrowedBatches;
    }

    public int Count => Shards.Count(_inner.Count, _rank, _world, _pad);

    public IEnumerable<T> GetEpoch(int epoch) => GetEpoch(epoch, 0);

    public IEnumerable<T> GetEpoch(int epoch, int start)
    {
        int n = _inner.Count, count = Count;
        if (start >= count) yield break;
        // Positions this rank wants, in order; wrapped ones (≥ n) come from a second pass over the epoch.
        var wanted = Shards.Positions(n, _rank, _world, _pad).Skip(start).ToList();
        var firstPass = wanted.Where(p => p < n).ToList();
        var wrapped = wanted.Where(p => p >= n).Select(p => p % n).ToList();
        foreach (var b in Pick(epoch, firstPass)) yield return b;
        if (wrapped.Count > 0)
            foreach (var b in Pick(epoch, wrapped)) yield return b;
    }

    /// <summary>Yields the batches at the given ascending global positions of one epoch, disposing the others.</summary>
    IEnumerable<T> Pick(int epoch, List<int> positions)
    {
        if (positions.Count == 0) yield break;
        int from = positions[0];
        int k = 0, pos = from;
        foreach (var b in _inner.GetEpoch(epoch, from))
        {
            if (k < positions.Count && pos == positions[k]) { k++; yield return b; }
            else if (!_borrowed) (b as IDisposable)?.Dispose();
            pos++;
            if (k == positions.Count) yield break;
        }
    }
}
