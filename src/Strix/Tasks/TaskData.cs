using Strix.Config;
using Strix.Data;
using Strix.Engine;
using Strix.Engine.Strategies;

namespace Strix.Tasks;

/// <summary>What a run's loaders need beyond the dataset: sizes, workers, the seed and this process's share.</summary>
public sealed record LoaderRequest(int ImgSz, int RankBatch, int Batch, int Workers, int Stride, int Rank, int WorldSize);

/// <summary>
/// A run's train and validation batch sources as a task built them, with their image counts, and for a
/// data-parallel run the whole validation split for rank 0's final evaluation.
/// </summary>
public sealed class RunLoaders(IBatchSource<Batch> train, IBatchSource<Batch> val, int trainImages, int valImages,
    Func<(IBatchSource<Batch> Source, IDisposable Owner)> fullValidation, IEnumerable<IDisposable> owned) : IDisposable
{
    public IBatchSource<Batch> Train { get; } = train;
    public IBatchSource<Batch> Val { get; } = val;
    public int TrainImages { get; } = trainImages;
    public int ValImages { get; } = valImages;
    /// <summary>The validation split unsharded (one process evaluating everything) and what to dispose after it.</summary>
    public Func<(IBatchSource<Batch> Source, IDisposable Owner)> FullValidation { get; } = fullValidation;

    public void Dispose()
    {
        foreach (var d in owned) d.Dispose();
    }
}

/// <summary>
/// The dataset a run trains on, as its task reads it: the class names (needed before the model is built) and
/// the loaders. Detection and segmentation read a data.yaml (<see cref="YoloTaskDataset"/>); classification reads
/// class folders.
/// </summary>
public abstract class TaskDataset
{
    /// <summary>The dataset's class names, in class-index order.</summary>
    public abstract IReadOnlyList<string> Names { get; }

    /// <summary>The train loader (augmented, shuffled) and the validation loader of split <paramref name="valSplit"/>.</summary>
    public abstract RunLoaders CreateLoaders(TrainConfig args, LoaderRequest request, string valSplit, Action<string> warn);

    /// <summary>labels.jpg (class counts and box statistics) for the train split, where the task has one; false when it has none.</summary>
    public virtual bool PlotLabels(RunLoaders loaders, IReadOnlyList<string> names, string path) => false;
}
