using Strix.Data;

namespace Strix.Engine.Yolo;

/// <summary>
/// A <see cref="DataLoader"/> as the trainer's batch source: each epoch calls
/// <see cref="DataLoader.SetEpoch"/> first, so shuffling, augmentation draws and close_mosaic are a
/// function of (seed, epoch) — what makes a resumed run see the same batches.
/// </summary>
public sealed class LoaderSource(DataLoader loader) : IBatchSource<Batch>
{
    public DataLoader Loader { get; } = loader;
    public int Count => Loader.Count;

    public IEnumerable<Batch> GetEpoch(int epoch)
    {
        Loader.SetEpoch(epoch);
        foreach (var b in Loader) yield return b;
    }
}
