using System.Diagnostics;
using System.Text.Json.Nodes;
using Strix.Config;
using Strix.Data;
using Strix.Distributed;
using Strix.Engine;
using Strix.Engine.Callbacks;
using Strix.Engine.Loggers;
using Strix.Engine.Precision;
using Strix.Engine.Strategies;
using Strix.IO;
using Strix.Models;
using Strix.Models.Architecture;
using Strix.Plotting;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tasks;

/// <summary>What a <see cref="YoloTraining.Run"/> produced.</summary>
public sealed record TrainResult(string RunDir, string? BestPath, string? LastPath, FitResult Fit,
    IReadOnlyDictionary<string, double> FinalMetrics, TimeSpan WallTime, double DataWaitFraction, TimeSpan TrainBatchTime);

/// <summary>
/// <c>strix train</c>: resolves the data and model, builds loaders, the task's <see cref="TaskModule"/>, the
/// run folder (<c>runs/detect/trainN</c> with <c>args.yaml</c>), callbacks (checkpoints, early
/// stopping, learning-rate monitor, progress bar, plots) and loggers (results.csv, TensorBoard), trains
/// with the generic <see cref="Trainer"/>, then validates <c>best</c> with per-class metrics and plots.
/// Under a data-parallel <see cref="Strategy"/> (<c>mpirun -np N strix train …</c>) <c>batch</c> is the
/// total over the ranks (as in Ultralytics), each rank loads only its share of the data, and rank 0
/// alone makes the run folder, logs, plots, writes checkpoints and runs the final evaluation.
/// </summary>
public static class YoloTraining
{
    /// <param name="args">The run's arguments.</param>
    /// <param name="log">Where progress text goes (default Console.Out).</param>
    /// <param name="callbacks">Extra callbacks, run after the built-in ones.</param>
    /// <param name="strategy">How training is spread over processes (<see cref="DistributedLaunch"/>); default one process.</param>
    public static TrainResult Run(TrainConfig args, TextWriter? log = null, IEnumerable<Callback>? callbacks = null, Strategy? strategy = null)
    {
        args.Validate(); // a record built in code gets the checks a parsed one had
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
        var task = YoloTasks.For(args);
        args = task.WithDefaults(args);

        bool fastDevRun = args.FastDevRun;
        var dataset = task.OpenDataset(args.Data, m => output.WriteLine(m));
        bool singleCls = args.SingleCls;
        IReadOnlyList<string> names = singleCls ? new[] { "item" } : dataset.Names;

        // Seeded before the model is built, so a fresh model's initial weights (and with them the whole run)
        // are the same in every process for the same seed; the trainer re-seeds at fit start.
        Seeding.SeedEverything(args.Seed, args.Deterministic);
        using var loaded = LoadModel(args, resumePath, names.Count, output);
        using var adapted = resumePath is null ? task.AdaptModel(loaded.Model, dataset, m => output.WriteLine(m)) : null;
        var model = adapted ?? loaded.Model;
        if (model.Task != task.Name)
            throw new ArgumentException($"task={task.Name} needs a {task.Name} model, and {args.Model} is a {model.Task} model" +
                (task.Name == "segment" ? " (e.g. model=yolov8n-seg)" : task.Name == "classify" ? " (e.g. model=yolov8n-cls)" : task.Name == "pose" ? " (e.g. model=yolov8n-pose)" : task.Name == "obb" ? " (e.g. model=yolov8n-obb)"
                    : $" (e.g. model={model.Name.Replace("-seg", "").Replace("-cls", "").Replace("-pose", "").Replace("-obb", "")})"));
        model.train();
        Freeze(model, args.FrozenLayers(), output);

        var device = st.ResolveDevice(args.Device); // DDP: the local rank's GPU, CPU threads split
        var precision = args.Precision ?? (device.type == DeviceType.CUDA && args.Amp ? PrecisionMode.Fp16Mixed : PrecisionMode.Fp32);
        bool fromScratch = resumePath is null && (ModelCatalog.NamesArchitecture(args.Model) || !args.Pretrained);
        if (fromScratch && precision == PrecisionMode.Bf16Mixed && main)
            output.WriteLine("note: precision=bf16-mixed from random weights learns more slowly than fp32: a fresh network amplifies bf16 " +
                "rounding (README: bf16-mixed vs fp32). Fine-tuning trained weights in bf16 matches fp32.");
        int workers = Math.Min(args.Workers, Environment.ProcessorCount);
        int imgsz = args.ImgSz, batch = args.Batch, stride = Math.Max(32, model.MaxStride);
        int rankBatch = batch / world; // Ultralytics splits the batch over the ranks
        if (rankBatch < 1) throw new ArgumentException($"batch={batch} is smaller than the {world} ranks: batch is the total over all ranks, use batch ≥ {world}");
        if (batch % world != 0) output.WriteLine($"WARNING ⚠️ batch={batch} is not a multiple of {world} ranks: each rank trains on {rankBatch} images per step");
        void Warn(string m) => output.WriteLine($"WARNING ⚠️ {m}");
        var valSplit = args.Split;
        var request = new LoaderRequest(imgsz, rankBatch, batch, workers, stride, st.Rank, world);
        RunLoaders? made = null;
        void MakeLoaders() => made = dataset.CreateLoaders(args, request, valSplit, Warn);
        if (world > 1) st.Group.MainFirst(MakeLoaders); // rank 0 writes the label caches, the others read them
        else MakeLoaders();
        using var loaders = made!;

        string runDir = "";
        if (main)
            runDir = runDirFromCheckpoint
                ?? (fastDevRun ? Path.Combine(Path.GetTempPath(), $"strix-fast-dev-run-{Guid.NewGuid():N}")
                    : RunDirectory.Create(args.Project ?? Path.Combine("runs", task.Name), args.Name ?? "train", args.ExistOk));
        runDir = st.FromRankZero(runDir); // rank 0 picked the numbered folder (train, train2, …)
        bool plots = args.Plots && !fastDevRun && main;
        if (!fastDevRun && main)
        {
            RunDirectory.WriteArgs(runDir, args.YamlItems().Append(KeyValuePair.Create("save_dir", (object?)runDir)));
            if (plots && resumePath is null) dataset.PlotLabels(loaders, names, Path.Combine(runDir, "labels.jpg"));
        }

        var module = task.CreateModule(model, names, args, loaders.TrainImages, output);
        var checkpoint = new ModelCheckpoint(Path.Combine(runDir, "weights"), "fitness", "max",
            saveLast: args.Save || resumePath is not null, savePeriod: args.SavePeriod);
        var allCallbacks = new List<Callback>
        {
            new ProgressBar(plain: output), new LearningRateMonitor(), checkpoint, new EarlyStopping("fitness", args.Patience),
        };
        if (plots) allCallbacks.Add(new TrainingPlots(runDir, names));
        if (callbacks is not null) allCallbacks.AddRange(callbacks);
        var loggers = new List<TrainingLogger>();
        if (!fastDevRun && main)
        {
            loggers.Add(new CsvLogger(Path.Combine(runDir, "results.csv"), module.ResultColumns));
            loggers.Add(new TensorBoardLogger(runDir));
        }
        var profiler = args.ProfilerSimple && main
            ? new Strix.Engine.Profilers.SimpleProfiler(device.type == DeviceType.CUDA ? () => torch.cuda.synchronize() : null)
            {
                OutputPath = fastDevRun ? null : Path.Combine(runDir, "profile.json"),
            }
            : null;
        var options = new TrainerOptions
        {
            Profiler = profiler,
            MaxEpochs = args.Epochs,
            TimeHours = args.Time,
            MaxSteps = args.MaxSteps,
            Device = st.IsDistributed ? args.Device ?? "" : device.ToString(), // DDP resolves it per local rank
            Precision = precision,
            GradientClipVal = 10.0,
            Ema = true,
            FastDevRun = fastDevRun,
            OverfitBatches = args.OverfitBatches,
            LimitTrainBatches = args.LimitTrainBatches,
            LimitValBatches = args.LimitValBatches,
            Val = args.Val,
            Deterministic = args.Deterministic,
            Seed = args.Seed,
            DefaultRootDir = runDir,
            Log = output,
            Strategy = st,
        };
        var trainer = new Trainer(options, allCallbacks, loggers);
        output.WriteLine($"Using {loaders.TrainImages} train, {loaders.ValImages} val images at imgsz={imgsz}, batch={batch}, " +
            $"precision={precision.Name()}, device={device}, {workers} dataloader workers" +
            (world > 1 ? $"; {world} ranks ({st.Group.Backend}), {rankBatch} images per rank per step" : ""));
        if (!fastDevRun) output.WriteLine($"Logging results to {runDir}");
        output.WriteLine(args.Time is double h ? $"Starting training for {h} hours..." : $"Starting training for {args.Epochs} epochs...");

        var fit = trainer.Fit(module, loaders.Train, loaders.Val, resumePath);
        output.WriteLine($"\n{fit.EpochsCompleted} epochs completed in {fit.TrainTime.TotalHours:0.000} hours ({fit.StopReason}); " +
            $"waiting for data took {100 * trainer.DataWaitFraction:0.0}% of the training-step time.");

        if (profiler is not null)
        {
            output.WriteLine();
            output.Write(profiler.Summary());
            profiler.Write();
        }
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
            if (world == 1) final = FinalEvaluation(module, best, loaders.Val, options, runDir, plots, output);
            else
            {
                // Rank 0 alone, on the whole validation set, as one process.
                var (fullVal, owner) = loaders.FullValidation();
                using (owner) final = FinalEvaluation(module, best, fullVal, options with { Strategy = null, Device = device.ToString() }, runDir, plots, output);
            }
        }
        if (!fastDevRun) output.WriteLine($"Results saved to {runDir}");
        else { try { Directory.Delete(runDir, recursive: true); } catch (IOException) { } }
        return new TrainResult(runDir, best, last, fit, final, wall.Elapsed, trainer.DataWaitFraction, trainer.TrainBatchTime);
    }

    /// <summary>Validates the best weights with the per-class table, the confusion matrix and the curves (Ultralytics' final_eval).</summary>
    static IReadOnlyDictionary<string, double> FinalEvaluation(TaskModule module, string best, IBatchSource<Batch> val, TrainerOptions options,
        string runDir, bool plots, TextWriter output)
    {
        output.WriteLine($"\nValidating {best}...");
        using (var ck = Checkpoint.Load(best))
            Trainer.LoadInto(module.Model, ck.Weights, best);
        module.UseFinalValidation(plots ? runDir : null);
        var evaluator = new Trainer(options with { Ema = false, HandleSignals = false, Profiler = null, LimitValBatches = null, FastDevRun = false },
            new Callback[] { new ProgressBar(plain: output) });
        return evaluator.Validate(module, val);
    }

    /// <summary>The checkpoint to resume from (<see cref="TrainConfig.ResumePath"/>), checked to exist; null when not resuming.</summary>
    static string? ResumePath(TrainConfig args)
    {
        var path = args.ResumePath;
        if (path is not null && !File.Exists(path))
            throw new FileNotFoundException($"resume: checkpoint '{path}' not found (pass resume=runs/detect/train/weights/last.safetensors or resume model=…)", path);
        return path;
    }

    /// <summary>The checkpoint's own arguments, with the few a resumed run may change taken from the command line.</summary>
    static TrainConfig ArgumentsForResume(string path, TrainConfig given, TextWriter output)
    {
        var meta = Safetensors.ReadMetadata(path);
        if (!meta.TryGetValue("args", out var json))
            throw new InvalidDataException($"{path}: not a Strix training checkpoint (no training arguments); resume from weights/last.safetensors");
        JsonObject saved;
        try { saved = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{path}: its training arguments are not a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{path}: its training arguments are damaged ({e.Message})", e); }
        if (saved.Any(kv => kv.Value is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.String))
            throw new InvalidDataException($"{path}: its training arguments are damaged (every value must be text)");
        var known = ConfigRecord.Arguments(typeof(TrainConfig)).Select(a => a.Name).ToHashSet();
        var args = TrainConfig.Defaults.With(saved.Where(kv => known.Contains(kv.Key))
            .Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value)));
        var overrides = new List<KeyValuePair<string, string?>>();
        foreach (var (k, v) in given.Items())
        {
            if (!given.IsGiven(k) || k is "resume" or "model") continue;
            if (TrainConfig.ResumeOverridable.Contains(k)) overrides.Add(KeyValuePair.Create(k, (string?)v));
            else output.WriteLine($"WARNING ⚠️ {k}={v} is ignored when resuming (the checkpoint's value is kept)");
        }
        overrides.Add(KeyValuePair.Create("resume", (string?)path));
        return args.With(overrides);
    }

    static LoadedModel LoadModel(TrainConfig args, string? resumePath, int nc, TextWriter output)
    {
        if (resumePath is not null) return ModelLoader.Load(resumePath, nc, m => output.WriteLine(m));
        var loaded = ModelLoader.Load(args.Model, nc, m => output.WriteLine(m));
        if (args.Pretrained || ModelCatalog.NamesArchitecture(args.Model)) return loaded;
        using (loaded)
        {
            var fresh = loaded.Model.WithClasses(nc);
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
