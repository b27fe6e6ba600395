namespace Strix.Engine;

/// <summary>
/// Where a trainer gets its batches. <see cref="GetEpoch(int)"/> must depend only on the epoch number (and
/// the source's own seed): shuffling and augmentation for epoch e are a function of (seed, e). That
/// makes the data pipeline's randomness part of every checkpoint for free, so resuming mid-run replays
/// exactly the batches the uninterrupted run would have seen.
/// </summary>
public interface IBatchSource<TBatch>
{
    /// <summary>Batches per epoch.</summary>
    int Count { get; }

    /// <summary>The batches of one epoch, in order.</summary>
    IEnumerable<TBatch> GetEpoch(int epoch);

    /// <summary>
    /// The batches of one epoch from <paramref name="start"/> on (resume). The default enumerates and
    /// drops the first ones; sources that can seek should override it.
    /// </summary>
    IEnumerable<TBatch> GetEpoch(int epoch, int start)
    {
        int i = 0;
        foreach (var b in GetEpoch(epoch))
        {
            if (i++ < start) { (b as IDisposable)?.Dispose(); continue; }
            yield return b;
        }
    }
}

/// <summary>Ready-made batch sources.</summary>
public static class BatchSource
{
    /// <summary>The same batches every epoch (the caller keeps ownership; the trainer never disposes them).</summary>
    public static IBatchSource<T> Fixed<T>(IReadOnlyList<T> batches) => new FixedSource<T>(batches);

    /// <summary>A source built from a per-epoch factory (the trainer disposes each batch after use).</summary>
    public static IBatchSource<T> FromFactory<T>(int count, Func<int, IEnumerable<T>> epoch) => new FactorySource<T>(count, epoch);

    sealed class FixedSource<T>(IReadOnlyList<T> batches) : IBatchSource<T>, IBorrowedBatches
    {
        public int Count => batches.Count;
        public IEnumerable<T> GetEpoch(int epoch) => batches;
        public IEnumerable<T> GetEpoch(int epoch, int start) => batches.Skip(start);
    }

    sealed class FactorySource<T>(int count, Func<int, IEnumerable<T>> epoch) : IBatchSource<T>
    {
        public int Count => count;
        public IEnumerable<T> GetEpoch(int e) => epoch(e);
    }
}

/// <summary>Marks sources whose batches the caller owns: the trainer must not dispose them.</summary>
public interface IBorrowedBatches { }
