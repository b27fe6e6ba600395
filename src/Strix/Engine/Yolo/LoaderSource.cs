using Strix.Data;

namespace Strix.Engine.Yolo;

/// <summary>A <see cref="DataLoader"/> as the trainer's batch source: epoch e's batches depend only on (seed, e).</summary>
public sealed class LoaderSource(DataLoader loader) : IBatchSource<Batch>
{
    public DataLoader Loader => loader;
    public int Count => loader.Count;
    public IEnumerable<Batch> GetEpoch(int epoch) => loader.GetEpoch(epoch);
    public IEnumerable<Batch> GetEpoch(int epoch, int start) => loader.GetEpoch(epoch, start);
}
