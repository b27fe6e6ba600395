using Strix.Config;
using Strix.Data;
using Strix.Plotting;

namespace Strix.Tasks;

/// <summary>
/// A data.yaml dataset (detection and segmentation): <see cref="DataLoader"/>s for the train and validation
/// splits with the task's loader options (<see cref="YoloTask.ConfigureLoader"/>). Validation batches are one
/// process's (batch × 2, rect shapes per batch), dealt out whole to the ranks; the module merges the
/// statistics, so the metrics equal single-process validation exactly.
/// </summary>
public sealed class YoloTaskDataset(DatasetConfig config, YoloTask task) : TaskDataset
{
    public DatasetConfig Config { get; } = config;
    public override IReadOnlyList<string> Names => Config.Names;

    public override RunLoaders CreateLoaders(TrainConfig args, LoaderRequest r, string valSplit, Action<string> warn)
    {
        var trainOptions = task.ConfigureLoader(DataLoaderOptions.ForTraining(r.ImgSz, r.RankBatch, r.Workers, args.Seed, args.ToAugmentation(), args.Epochs) with
        {
            Fraction = args.Fraction, Cache = args.Cache, Rect = args.Rect, Stride = r.Stride, Rank = r.Rank, WorldSize = r.WorldSize,
        }, args);
        var valOptions = task.ConfigureLoader(DataLoaderOptions.ForValidation(r.ImgSz, r.Batch * 2, r.Workers) with
        {
            Cache = args.Cache, Stride = r.Stride, Rank = r.Rank, WorldSize = r.WorldSize,
        }, args);
        if (task.ReadsKeypoints)
        {
            trainOptions = trainOptions with { KptShape = Config.KptShape, FlipIdx = Config.FlipIdx };
            valOptions = valOptions with { KptShape = Config.KptShape, FlipIdx = Config.FlipIdx };
        }
        var train = DataLoader.Create(Config, "train", trainOptions, warn);
        DataLoader val;
        try { val = DataLoader.Create(Config, valSplit, valOptions, warn); }
        catch { train.Dispose(); throw; }
        return new RunLoaders(new LoaderSource(train), new LoaderSource(val), train.Dataset.Count, val.Dataset.Count,
            () =>
            {
                var full = DataLoader.Create(Config, valSplit, valOptions with { Rank = 0, WorldSize = 1 }, _ => { });
                return (new LoaderSource(full), full);
            },
            new IDisposable[] { train, val });
    }

    public override bool PlotLabels(RunLoaders loaders, IReadOnlyList<string> names, string path)
    {
        if (loaders.Train is not LoaderSource source) return false;
        DataPlots.PlotLabels(source.Loader.Dataset.Scan, names, path);
        return true;
    }
}
