using Strix.Config;
using Strix.Data;

namespace Strix.Tasks.Classify;

/// <summary>
/// A class-folder dataset as a run's data: <see cref="ClassificationLoader"/>s over train/ (augmented, shuffled,
/// dealt out to the ranks) and the validation split (batch × 2, centre crops, whole batches per rank).
/// </summary>
public sealed class ClassificationTaskDataset(string root) : TaskDataset
{
    public string Root { get; } = root;
    readonly string[] _names = ClassificationDataset.ReadNames(root);
    public override IReadOnlyList<string> Names => _names;

    public override RunLoaders CreateLoaders(TrainConfig args, LoaderRequest r, string valSplit, Action<string> warn)
    {
        var train = ClassificationDataset.Load(Root, "train", warn);
        var val = ClassificationDataset.Load(Root, valSplit, warn);
        var trainOptions = ClassificationLoaderOptions.ForTraining(r.ImgSz, r.RankBatch, r.Workers, args.Seed, args.ToAugmentation(), args.Erasing,
            ClassifyTransforms.ParseAutoAugment(args.AutoAugment)) with
        {
            Fraction = args.Fraction, Rank = r.Rank, WorldSize = r.WorldSize,
        };
        var valOptions = ClassificationLoaderOptions.ForValidation(r.ImgSz, r.Batch * 2, r.Workers) with { Rank = r.Rank, WorldSize = r.WorldSize };
        var trainLoader = new ClassificationLoader(train, trainOptions);
        var valLoader = new ClassificationLoader(val, valOptions);
        return new RunLoaders(new ClassificationSource(trainLoader), new ClassificationSource(valLoader), trainLoader.ImageCount, valLoader.ImageCount,
            () => (new ClassificationSource(new ClassificationLoader(val, valOptions with { Rank = 0, WorldSize = 1 })), NoOwner.Instance), Array.Empty<IDisposable>());
    }

    sealed class NoOwner : IDisposable
    {
        public static readonly NoOwner Instance = new();
        public void Dispose() { }
    }
}
