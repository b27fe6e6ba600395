using Strix.IO;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Strix.Data;
using Strix.Distributed;
using Strix.Engine.Callbacks;
using Strix.Engine.Loggers;
using Strix.Engine.Strategies;
using Strix.Eval;
using Strix.Plotting;
using Strix.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine.Yolo;

/// <summary>What a <see cref="YoloTraining.Run"/> produced.</summary>
public sealed record TrainResult(string RunDir, string? BestPath, string? LastPath, FitResult Fit,
    IReadOnlyDictionary<string, double> FinalMetrics, TimeSpan WallTime, double DataWaitFraction, TimeSpan TrainBatchTime);

/// <summary>
/// <c>strix train</c>: resolves the data and model, builds loaders, the <see cref="YoloModule"/>, the
/// run folder (<c>runs/detect/trainN</c> with <c>args.yaml</c>), callbacks (checkpoints, early
/// stopping, learning-rate monitor, progress bar, plots) and loggers (results.csv, TensorBoard), trains
/// with the generic <see cref="Trainer"/>, then validates <c>best</c> with per-class metrics and plots.
/// Under a data-parallel <see cref="Strategy"/> (<c>mpirun -np N strix train …</c>) <c>batch</c> is the
/// total over the ranks (as in Ultralytics), each rank loads only its share of the data, and rank 0
/// alone makes the run folder, logs, plots, writes checkpoints and runs the final evaluation.
/// </summary>
public static class YoloTraining
{
    /// <summary>Arguments a resumed run may change; everything else comes from the checkpoint.</summary>
    public static readonly string[] ResumeOverridable =
        { "epochs", "time", "patience", "device", "workers", "plots", "save_period", "val", "precision", "max_steps", "verbose" };

    /// <param name="args">The run's arguments.</param>
    /// <param name="log">Where progress text goes (default Console.Out).</param>
    /// <param name="callbacks">Extra callbacks, run after the built-in ones.</param>
    /// <param name="strategy">How training is spread over processes (<see cref="DistributedLaunch"/>); default one process.</param>
    public static TrainResult Run(TrainingArguments args, TextWriter? log = null, IEnumerable<Callback>? callbacks = null, Strategy? strategy = null)
    {
        var st = strategy ?? SingleDeviceStrategy.Instance;
        bool main = st.IsGlobalZero;
        int world = st.WorldSize;
        var output = main ? log ?? Console.Out : TextWriter.Null; // rank 0 talks for the job
        var wall = Stopwatch.StartNew();
        var resumePath = ResumePath(args);
        string? runDirFromCheckpoint = null;
        if (resumePath is not null)
        {
            args = ArgumentsForResume(resumePath, args, output);
            var weightsDir = Path.GetDirectoryName(Path.GetFullPath(resumePath))!;
            runDirFromCheckpoint = Path.GetFileName(weightsDir) == "weights" ? Path.GetDirectoryName(weightsDir)! : weightsDir;
        }

        bool fastDevRun = args.GetBool("fast_dev_run");
        var cfg = DatasetConfig.Resolve(args.Data, m => output.WriteLine(m));
        bool singleCls = args.GetBool("single_cls");
        IReadOnlyList<string> names = singleCls ? new[] { "item" } : cfg.Names;

        // Seeded before the model is built, so a fresh model's initial weights (and with them the whole run)
        // are the same in every process for the same seed; the trainer re-seeds at fit start.
        Seeding.SeedEverything(args.GetInt("seed"), args.GetBool("deterministic"));
        using var loaded = LoadModel(args, resumePath, names.Count, output);
        var model = loaded.Model;
        model.train();
        Freeze(model, args.Freeze(), output);

        var device = st.ResolveDevice(args.GetString("device")); // DDP: the local rank's GPU, CPU threads split
        string precision = args.GetString("precision")
            ?? (device.type == DeviceType.CUDA && args.GetBool("amp") ? "fp16-mixed" : "32");
        bool fromScratch = resumePath is null && (YoloScale.IsScaleName(args.Model) || !args.GetBool("pretrained"));
        if (fromScratch && precision == "bf16-mixed" && main)
            output.WriteLine("note: precision=bf16-mixed from random weights learns more slowly than fp32: a fresh network amplifies bf16 " +
                "rounding (README: bf16-mixed vs fp32). Fine-tuning trained weights in bf16 matches fp32.");
        int workers = Math.Min(args.GetInt("workers"), Environment.ProcessorCount);
        int imgsz = args.ImgSz, batch = args.Batch, stride = Math.Max(32, model.MaxStride);
        int rankBatch = batch / world; // Ultralytics splits the batch over the ranks
        if (rankBatch < 1) throw new ArgumentException($"batch={batch} is smaller than the {world} ranks: batch is the total over all ranks, use batch ≥ {world}");
        if (batch % world != 0) output.WriteLine($"WARNING ⚠️ batch={batch} is not a multiple of {world} ranks: each rank trains on {rankBatch} images per step");
        var hyp = AugmentationOptions.FromLookup((k, d) => args.GetDouble(k));
        var cache = DataLoaderOptions.ParseCache(args.GetString("cache"));
        var trainOptions = DataLoaderOptions.ForTraining(imgsz, rankBatch, workers, args.GetInt("seed"), hyp, args.Epochs) with
        {
            Fraction = args.GetDouble("fraction"), Cache = cache, Rect = args.GetBool("rect"), Stride = stride,
            Rank = st.Rank, WorldSize = world,
        };
        // Validation batches are one process's (batch × 2, rect shapes per batch), dealt out whole to the
        // ranks; the module merges the statistics, so the metrics equal single-process validation exactly.
        var valOptions = DataLoaderOptions.ForValidation(imgsz, batch * 2, workers) with
        {
            Cache = cache, Stride = stride, Rank = st.Rank, WorldSize = world,
        };
        void Warn(string m) => output.WriteLine($"WARNING ⚠️ {m}");
        var valSplit = args.GetString("split") ?? "val";
        DataLoader? trainMade = null, valMade = null;
        void MakeLoaders()
        {
            trainMade = DataLoader.Create(cfg, "train", trainOptions, Warn);
            valMade = DataLoader.Create(cfg, valSplit, valOptions, Warn);
        }
        if (world > 1) st.Group.MainFirst(MakeLoaders); // rank 0 writes the label caches, the others read them
        else MakeLoaders();
        using var trainLoader = trainMade!;
        using var valLoader = valMade!;

        string runDir = "";
        if (main)
            runDir = runDirFromCheckpoint
                ?? (fastDevRun ? Path.Combine(Path.GetTempPath(), $"strix-fast-dev-run-{Guid.NewGuid():N}")
                    : RunDirectory.Create(args.GetString("project") ?? Path.Combine("runs", "detect"), args.GetString("name") ?? "train", args.GetBool("exist_ok")));
        runDir = st.FromRankZero(runDir); // rank 0 picked the numbered folder (train, train2, …)
        bool plots = args.GetBool("plots") && !fastDevRun && main;
        if (!fastDevRun && main)
        {
            RunDirectory.WriteArgs(runDir, args.ToYamlItems().Append(KeyValuePair.Create("save_dir", (object?)runDir)));
            if (plots && resumePath is null) DataPlots.PlotLabels(trainLoader.Dataset.Scan, names, Path.Combine(runDir, "labels.jpg"));
        }

        var module = new YoloModule(model, names, args, trainLoader.Dataset.Count, output);
        var checkpoint = new ModelCheckpoint(Path.Combine(runDir, "weights"), "fitness", "max",
            saveLast: args.GetBool("save") || resumePath is not null, savePeriod: args.GetInt("save_period"));
        var allCallbacks = new List<Callback>
        {
            new ProgressBar(plain: output), new LearningRateMonitor(), checkpoint, new EarlyStopping("fitness", args.GetInt("patience")),
        };
        if (plots) allCallbacks.Add(new TrainingPlots(runDir, names));
        if (callbacks is not null) allCallbacks.AddRange(callbacks);
        var loggers = new List<TrainingLogger>();
        if (!fastDevRun && main)
        {
            loggers.Add(new CsvLogger(Path.Combine(runDir, "results.csv"), YoloModule.ResultColumns));
            loggers.Add(new TensorBoardLogger(runDir));
        }
        var options = new TrainerOptions
        {
            MaxEpochs = args.Epochs,
            TimeHours = args.GetNullableDouble("time"),
            MaxSteps = args.GetString("max_steps") is null ? null : args.GetInt("max_steps"),
            Device = st.IsDistributed ? args.GetString("device") ?? "" : device.ToString(), // DDP resolves it per local rank
            Precision = precision,
            GradientClipVal = 10.0,
            Ema = true,
            FastDevRun = fastDevRun,
            OverfitBatches = args.GetInt("overfit_batches"),
            LimitTrainBatches = args.GetString("limit_train_batches") is string lt ? BatchLimit.Parse(lt) : null,
            LimitValBatches = args.GetString("limit_val_batches") is string lv ? BatchLimit.Parse(lv) : null,
            Val = args.GetBool("val"),
            Deterministic = args.GetBool("deterministic"),
            Seed = args.GetInt("seed"),
            DefaultRootDir = runDir,
            Log = output,
            Strategy = st,
        };
        var trainer = new Trainer(options, allCallbacks, loggers);
        output.WriteLine($"Using {trainLoader.Dataset.Count} train, {valLoader.Dataset.Count} val images at imgsz={imgsz}, batch={batch}, " +
            $"precision={precision}, device={device}, {workers} dataloader workers" +
            (world > 1 ? $"; {world} ranks ({st.Group.Backend}), {rankBatch} images per rank per step" : ""));
        if (!fastDevRun) output.WriteLine($"Logging results to {runDir}");
        output.WriteLine(args.GetNullableDouble("time") is double h ? $"Starting training for {h} hours..." : $"Starting training for {args.Epochs} epochs...");

        var fit = trainer.Fit(module, new LoaderSource(trainLoader), new LoaderSource(valLoader), resumePath);
        output.WriteLine($"\n{fit.EpochsCompleted} epochs completed in {fit.TrainTime.TotalHours:0.000} hours ({fit.StopReason}); " +
            $"waiting for data took {100 * trainer.DataWaitFraction:0.0}% of the training-step time.");

        IReadOnlyDictionary<string, double> final = fit.Metrics;
        if (!main) return new TrainResult(runDir, null, null, fit, final, wall.Elapsed, trainer.DataWaitFraction, trainer.TrainBatchTime); // rank 0 evaluates and reports
        string? best = File.Exists(checkpoint.BestPath) ? checkpoint.BestPath : null;
        string? last = File.Exists(checkpoint.LastPath) ? checkpoint.LastPath : null;
        if (fit.Interrupted)
        {
            output.WriteLine($"Training interrupted ({fit.StopReason}); resume with: strix train resume model={last}");
        }
        else if (best is not null && !fastDevRun)
        {
            if (world == 1) final = FinalEvaluation(module, best, new LoaderSource(valLoader), options, runDir, plots, output);
            else
            {
                // Rank 0 alone, on the whole validation set, as one process.
                using var fullVal = DataLoader.Create(cfg, valSplit, valOptions with { Rank = 0, WorldSize = 1 }, _ => { });
                final = FinalEvaluation(module, best, new LoaderSource(fullVal), options with { Strategy = null, Device = device.ToString() }, runDir, plots, output);
            }
        }
        if (!fastDevRun) output.WriteLine($"Results saved to {runDir}");
        else { try { Directory.Delete(runDir, recursive: true); } catch (IOException) { } }
        return new TrainResult(runDir, best, last, fit, final, wall.Elapsed, trainer.DataWaitFraction, trainer.TrainBatchTime);
    }

    /// <summary>Validates the best weights with the per-class table, the confusion matrix and the curves (Ultralytics' final_eval).</summary>
    static IReadOnlyDictionary<string, double> FinalEvaluation(YoloModule module, string best, LoaderSource val, TrainerOptions options,
        string runDir, bool plots, TextWriter output)
    {
        output.WriteLine($"\nValidating {best}...");
        using (var ck = Checkpoint.Load(best))
            Trainer.LoadInto(module.Model, ck.Weights, best);
        module.PerClassTable = true;
        var evaluator = new Trainer(options with { Ema = false, HandleSignals = false, LimitValBatches = null, FastDevRun = false },
            new Callback[] { new ProgressBar(plain: output) });
        var metrics = evaluator.Validate(module, val);
        if (plots && module.LastResults is { } r)
        {
            CurvePlots.SaveAll(r, runDir);
            if (module.LastConfusion is { } cm) ConfusionMatrixPlot.SaveBoth(cm, module.Names, runDir);
            PlotValidationBatches(module, val, runDir);
        }
        return metrics;
    }

    /// <summary>val_batch{0,1,2}_labels.jpg and _pred.jpg for the final weights, drawn by the validator on the first batches.</summary>
    static void PlotValidationBatches(YoloModule module, LoaderSource val, string runDir)
    {
        var validator = new Validator(module.Names, new ValidatorOptions
        {
            Plots = true, SaveDir = runDir, SingleCls = module.SingleClass, Verbose = false, Log = null,
        });
        validator.Begin();
        module.Detector.eval();
        int i = 0;
        foreach (var batch in val.GetEpoch(0))
        {
            using (batch)
            {
                if (i < validator.Options.PlotBatches) validator.Step(module.Detector, batch, i);
            }
            if (++i >= validator.Options.PlotBatches) break;
        }
    }

    /// <summary><c>resume=path</c>, or bare <c>resume</c> with <c>model=</c> the checkpoint; null when not resuming.</summary>
    static string? ResumePath(TrainingArguments args)
    {
        var r = args.GetString("resume");
        if (r is null || r.Equals("false", StringComparison.OrdinalIgnoreCase)) return null;
        var path = r.Equals("true", StringComparison.OrdinalIgnoreCase) ? args.Model : r;
        if (!File.Exists(path))
            throw new FileNotFoundException($"resume: checkpoint '{path}' not found (pass resume=runs/detect/train/weights/last.safetensors or resume model=…)", path);
        return path;
    }

    /// <summary>The checkpoint's own arguments, with the few a resumed run may change taken from the command line.</summary>
    static TrainingArguments ArgumentsForResume(string path, TrainingArguments given, TextWriter output)
    {
        var meta = Safetensors.ReadMetadata(path);
        if (!meta.TryGetValue("args", out var json) || JsonNode.Parse(json) is not JsonObject saved)
            throw new InvalidDataException($"{path}: not a Strix training checkpoint (no training arguments); resume from weights/last.safetensors");
        var args = TrainingArguments.Parse(saved.Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value ?? ""))
            .Where(kv => TrainingArguments.Definitions.Any(d => d.Name == kv.Key)));
        foreach (var (k, v) in given.Items())
        {
            if (!given.IsGiven(k) || k is "resume" or "model") continue;
            if (ResumeOverridable.Contains(k)) args.Set(k, v);
            else output.WriteLine($"WARNING ⚠️ {k}={v} is ignored when resuming (the checkpoint's value is kept)");
        }
        args.Set("resume", path);
        args.Validate();
        return args;
    }

    static LoadedModel LoadModel(TrainingArguments args, string? resumePath, int nc, TextWriter output)
    {
        if (resumePath is not null) return ModelLoader.Load(resumePath, nc, m => output.WriteLine(m));
        var loaded = ModelLoader.Load(args.Model, nc, m => output.WriteLine(m));
        if (args.GetBool("pretrained") || YoloScale.IsScaleName(args.Model)) return loaded;
        using (loaded)
        {
            var fresh = new DetectionModel(loaded.Model.Scale, nc);
            output.WriteLine($"pretrained=False: training {args.Model}'s architecture from scratch");
            return new LoadedModel(fresh, ModelMetadata.For(fresh), args.Model, null);
        }
    }

    /// <summary>Freezes <c>model.{i}.</c> for the given layers, and always the DFL integral (Ultralytics' rule).</summary>
    static void Freeze(DetectionModel model, int[]? layers, TextWriter output)
    {
        var prefixes = (layers ?? Array.Empty<int>()).Select(i => $"model.{i}.").Append(".dfl").ToArray();
        foreach (var (name, p) in model.named_parameters())
        {
            if (!prefixes.Any(name.Contains)) continue;
            if (layers is { Length: > 0 } && !name.Contains(".dfl")) output.WriteLine($"Freezing layer '{name}'");
            p.requires_grad = false;
        }
    }
}
