using Strix.Data;
using Strix.Engine.Strategies;

namespace Strix.Engine.Yolo;

/// <summary>A <see cref="DataLoader"/> as the trainer's batch source: epoch e's batches depend only on (seed, e).</summary>
public sealed class LoaderSource(DataLoader loader) : IBatchSource<Batch>, IRankShardedSource
{
    public DataLoader Loader => loader;
    /// <summary>True when the loader was built for one rank's share (DataLoaderOptions.WorldSize &gt; 1).</summary>
    public bool IsRankSharded => loader.Options.WorldSize > 1;
    public int Count => loader.Count;
    public IEnumerable<Batch> GetEpoch(int epoch) => loader.GetEpoch(epoch);
    public IEnumerable<Batch> GetEpoch(int epoch, int start) => loader.GetEpoch(epoch, start);
}
