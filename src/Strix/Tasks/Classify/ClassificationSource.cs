using Strix.Data;
using Strix.Engine;
using Strix.Engine.Strategies;

namespace Strix.Tasks.Classify;

/// <summary>A <see cref="ClassificationLoader"/> as the trainer's batch source (epoch e is a function of seed and e; resume seeks).</summary>
public sealed class ClassificationSource(ClassificationLoader loader) : IBatchSource<Batch>, IRankShardedSource
{
    public ClassificationLoader Loader { get; } = loader;
    public int Count => Loader.Count;
    public bool IsRankSharded => Loader.IsRankSharded;
    public IEnumerable<Batch> GetEpoch(int epoch) => Loader.GetEpoch(epoch);
    public IEnumerable<Batch> GetEpoch(int epoch, int start) => Loader.GetEpoch(epoch, start);
}
