using System.Diagnostics;
using System.Text.Json;
using Strix.Data;
using Strix.Engine.Callbacks;
using Strix.Engine.Loggers;
using Strix.Distributed;
using Strix.Engine.Strategies;
using Strix.Eval;
using Strix.Models;
using TorchSharp;

namespace Strix.Engine.Yolo;

/// <summary>What a training run produced.</summary>
public sealed record TrainResult(string RunDir, string? BestWeights, string? LastWeights, FitResult Fit,
    ValidationResult? FinalValidation, TimeSpan WallTime);

/// <summary>
/// <c>strix train</c> as a library call: resolves the dataset and model, makes the run folder, wires the
/// YOLO module into the generic <see cref="Trainer"/> with Ultralytics' callbacks and loggers, and
/// finally validates the best weights with every plot. <see cref="Resume"/> continues a run exactly.
/// </summary>
public static class YoloTrainer
{
    /// <summary>Ultralytics' results.csv columns after <c>epoch</c> (which the CSV logger writes first), in order.</summary>
    public static readonly string[] ResultColumns =
    {
        "train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/precision(B)", "metrics/recall(B)",
        "metrics/mAP50(B)", "metrics/mAP50-95(B)", "val/box_loss", "val/cls_loss", "val/dfl_loss", "lr/pg0", "lr/pg1", "lr/pg2",
    };

    /// <summary>Trains from scratch or from pretrained weights.</summary>
    /// <param name="args">Every argument, Ultralytics' names and defaults.</param>
    /// <param name="log">Where progress and reports go (default standard output).</param>
    /// <param name="model">A model to train instead of resolving <see cref="TrainArgs.Model"/> (e.g. a custom scale); it is disposed at the end.</param>
    /// <param name="callbacks">Extra callbacks, after the built-in ones.</param>
    /// <param name="strategy">Data-parallel training (<see cref="DistributedLaunch"/>); default one process. <c>batch</c> is the total over all ranks, as in Ultralytics.</param>
    public static TrainResult Train(TrainArgs args, TextWriter? log = null, DetectionModel? model = null, IEnumerable<Callback>? callbacks = null, Strategy? strategy = null) =>
        Run(args, resumeFrom: null, log ?? Console.Out, model, callbacks, strategy);

    /// <summary>
    /// Continues the run whose resumable checkpoint is <paramref name="lastCheckpoint"/> with the arguments it
    /// was started with; <paramref name="epochs"/> may extend it.
    /// </summary>
    public static TrainResult Resume(string lastCheckpoint, int? epochs = null, TextWriter? log = null, IEnumerable<Callback>? callbacks = null, Strategy? strategy = null)
    {
        if (!File.Exists(lastCheckpoint)) throw new FileNotFoundException($"resume: checkpoint {lastCheckpoint} not found", lastCheckpoint);
        var meta = Safetensors.ReadMetadata(lastCheckpoint);
        if (!meta.TryGetValue("train_args", out var json))
            throw new InvalidDataException($"{lastCheckpoint}: no training arguments stored; is it a Strix training checkpoint (weights/last.safetensors)?");
        var stored = JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? new();
        var args = TrainArgs.FromLookup(new DictionaryArgLookup(stored));
        if (epochs is int e) args = args with { Epochs = e };
        // The run continues in its own folder.
        var runDir = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(lastCheckpoint)))!;
        args = args with { Project = Path.GetDirectoryName(runDir)!, Name = Path.GetFileName(runDir), ExistOk = true };
        return Run(args, Path.GetFullPath(lastCheckpoint), log ?? Console.Out, null, callbacks, strategy);
    }

    static TrainResult Run(TrainArgs args, string? resumeFrom, TextWriter log, DetectionModel? given, IEnumerable<Callback>? extraCallbacks, Strategy? strategy)
    {
        var wall = Stopwatch.StartNew();
        args.Check();
        // Data-parallel: rank 0 talks, plots and writes; every rank loads only its share of the data.
        var st = strategy ?? SingleDeviceStrategy.Instance;
        bool main = st.IsGlobalZero;
        int world = st.WorldSize;
        if (!main) log = TextWriter.Null;
        int rankBatch = args.Batch / world;
        if (rankBatch < 1) throw new ArgumentException($"batch={args.Batch} is smaller than the {world} ranks: Ultralytics splits batch over the ranks, use batch ≥ {world}");
        if (args.Batch % world != 0) log.WriteLine($"WARNING ⚠️ batch={args.Batch} is not a multiple of {world} ranks: each rank trains on {rankBatch} images per step");
        var data = DatasetConfig.Resolve(args.Data, s => log.WriteLine(s));
        var names = args.SingleCls ? new[] { "object" } : data.Names;

        // Model: a resumed run rebuilds the architecture and takes every tensor from the checkpoint.
        DetectionModel model;
        if (given is not null)
        {
            if (given.NumClasses != names.Length) throw new ArgumentException($"the model has {given.NumClasses} classes, the dataset {names.Length}");
            model = given;
        }
        else if (resumeFrom is not null)
        {
            var (m, _) = WeightsFile.Load(resumeFrom);
            model = m;
        }
        else if (args.Pretrained || YoloScale.IsScaleName(args.Model))
            model = ModelLoader.Load(args.Model, names.Length, s => log.WriteLine(s)).Model;
        else
        {
            var meta = WeightsFile.ReadMetadata(args.Model);
            model = new DetectionModel(meta.Scale, names.Length);
        }
        Freeze(model, args.Freeze, log);

        string runDir;
        if (main)
        {
            runDir = RunDirectory.Create(args.Project, args.Name, args.ExistOk);
            RunDirectory.WriteArgs(runDir, args.ToDictionary().Select(kv => KeyValuePair.Create(kv.Key, (object?)kv.Value)));
            log.WriteLine($"run folder: {runDir}{(world > 1 ? $" ({world} ranks, {rankBatch} images per rank per step)" : "")}");
        }
        else runDir = "";
        runDir = st.FromRankZero(runDir); // rank 0 picked the numbered folder (train, train2, …)

        var cache = DataLoaderOptions.ParseCache(args.Cache);
        var trainOptions = DataLoaderOptions.ForTraining(args.ImgSz, rankBatch, args.Workers, args.Seed, args.Hyp, args.Epochs)
            with { Cache = cache, Fraction = args.Fraction, Rank = st.Rank, WorldSize = world };
        // Validation batches are those of one process (batch × 2, rect shapes per batch), dealt out to the
        // ranks whole: the merged statistics then equal single-process validation exactly.
        var valOptions = DataLoaderOptions.ForValidation(args.ImgSz, args.Batch * 2, args.Workers)
            with { Cache = cache, Rank = st.Rank, WorldSize = world };
        DataLoader? trainLoader = null, valLoader = null;
        void MakeLoaders()
        {
            trainLoader = DataLoader.Create(data, "train", trainOptions, s => log.WriteLine(s));
            valLoader = DataLoader.Create(data, "val", valOptions, s => log.WriteLine(s));
        }
        if (world > 1) st.Group.MainFirst(MakeLoaders); // rank 0 writes the label caches, the others read them
        else MakeLoaders();
        using var train = trainLoader!;
        using var val = valLoader!;
        log.WriteLine(train.Dataset.Scan.Summary);
        log.WriteLine(val.Dataset.Scan.Summary);
        if (main && args.Plots && resumeFrom is null) DataPlots.PlotLabels(train.Dataset.Scan, names, Path.Combine(runDir, "labels.jpg"));

        var validator = new Validator(names, new ValidatorOptions { Plots = false, Verbose = false, SingleCls = args.SingleCls, Log = null });
        var module = new YoloModule(model, args, names, train, validator, main && args.Plots ? runDir : null);
        var checkpoint = new ModelCheckpoint(Path.Combine(runDir, "weights"), monitor: "fitness", mode: "max",
            saveLast: args.Save, savePeriod: args.SavePeriod);
        var callbacks = new List<Callback> { new ProgressBar(), new LearningRateMonitor(), new EarlyStopping("fitness", args.Patience) };
        if (args.Save) callbacks.Add(checkpoint);
        if (extraCallbacks is not null) callbacks.AddRange(extraCallbacks);
        var loggers = new List<TrainingLogger>();
        if (!args.FastDevRun && main)
        {
            loggers.Add(new CsvLogger(Path.Combine(runDir, "results.csv"), ResultColumns));
            loggers.Add(new TensorBoardLogger(runDir));
        }
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = args.Epochs, TimeHours = args.Time, Device = args.Device, Precision = args.Precision,
            GradientClipVal = 10.0, Ema = true, FastDevRun = args.FastDevRun, OverfitBatches = args.OverfitBatches,
            LimitTrainBatches = BatchLimit.Parse(args.LimitTrainBatches), LimitValBatches = BatchLimit.Parse(args.LimitValBatches),
            Val = args.Val, Deterministic = args.Deterministic, Seed = args.Seed, DefaultRootDir = runDir, Log = log,
            Strategy = st,
        }, callbacks, loggers);

        FitResult fit;
        try { fit = trainer.Fit(module, new LoaderSource(train), new LoaderSource(val), resumeFrom); }
        finally { model.Dispose(); }

        if (!main) return new TrainResult(runDir, null, null, fit, null, wall.Elapsed); // rank 0 reports and validates the best weights
        var csv = Path.Combine(runDir, "results.csv");
        if (args.Plots && File.Exists(csv)) ResultsPlot.Plot(csv, Path.Combine(runDir, "results.png"));

        string? best = args.Save && !args.FastDevRun && File.Exists(checkpoint.BestPath) ? checkpoint.BestPath : null;
        string? last = args.Save && !args.FastDevRun && File.Exists(checkpoint.LastPath) ? checkpoint.LastPath : null;
        ValidationResult? final = null;
        if (best is not null && args.Val)
        {
            log.WriteLine($"\nValidating {Path.GetRelativePath(Environment.CurrentDirectory, best)}...");
            var (bestModel, _) = WeightsFile.Load(best);
            using (bestModel)
            {
                bestModel.to(Devices.Parse(args.Device));
                bestModel.eval();
                var finalValidator = new Validator(names, new ValidatorOptions
                {
                    Plots = args.Plots, SaveDir = runDir, SingleCls = args.SingleCls, Log = s => log.WriteLine(s),
                });
                if (world == 1) final = finalValidator.Run(bestModel, val.GetEpoch(0));
                else
                {
                    // Rank 0 alone, over the whole validation set.
                    using var full = DataLoader.Create(data, "val", valOptions with { Rank = 0, WorldSize = 1 }, _ => { });
                    final = finalValidator.Run(bestModel, full.GetEpoch(0));
                }
            }
        }
        log.WriteLine($"{fit.EpochsCompleted} epochs completed in {wall.Elapsed.TotalHours:0.000} hours ({fit.StopReason}).");
        log.WriteLine($"Results saved to {Path.GetRelativePath(Environment.CurrentDirectory, runDir)}");
        return new TrainResult(runDir, best, last, fit, final, wall.Elapsed);
    }

    /// <summary>Freezes the first <paramref name="layers"/> layers (and always the fixed DFL weights).</summary>
    static void Freeze(DetectionModel model, int layers, TextWriter log)
    {
        var prefixes = Enumerable.Range(0, layers).Select(i => $"model.{i}.").ToArray();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.EndsWith(".dfl.conv.weight", StringComparison.Ordinal)) { p.requires_grad = false; continue; }
            if (prefixes.Any(name.StartsWith)) { p.requires_grad = false; }
        }
        if (layers > 0) log.WriteLine($"Freezing layers model.0 … model.{layers - 1}");
    }
}
