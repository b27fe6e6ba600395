using Strix.Engine;
using Strix.Data;
using Strix.Engine.Strategies;

namespace Strix.Tasks;

/// <summary>
/// A <see cref="DataLoader"/> as the trainer's batch source: each epoch calls
/// <see cref="DataLoader.SetEpoch"/> first, so shuffling, augmentation draws and close_mosaic are a
/// function of (seed, epoch) — what makes a resumed run see the same batches.
/// </summary>
public sealed class LoaderSource(DataLoader loader) : IBatchSource<Batch>, IRankShardedSource
{
    public DataLoader Loader { get; } = loader;
    public int Count => Loader.Count;
    /// <summary>True when the loader was built for one rank's share (DataLoaderOptions.WorldSize &gt; 1).</summary>
    public bool IsRankSharded => Loader.Options.WorldSize > 1;

    public IEnumerable<Batch> GetEpoch(int epoch)
    {
        Loader.SetEpoch(epoch);
        foreach (var b in Loader) yield return b;
    }
}
