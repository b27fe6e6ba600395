using Strix.Runtime;
using Strix.Tasks;
using System.Diagnostics;
using System.Globalization;
using Strix.Distributed;
using Strix.Engine;
using Strix.Engine.Callbacks;
using Strix.Engine.Optim;
using Strix.Engine.Strategies;
using Strix.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.MpiHost;

/// <summary>A batch of images and the dataset indices they came from.</summary>
sealed class ImageBatch(Tensor images, long[] indices) : IDisposable
{
    public Tensor Images { get; } = images;
    public long[] Indices { get; } = indices;
    public void Dispose() => Images.Dispose();
}

/// <summary>Fixed random images, batched in a shuffled order that depends only on (seed, epoch).</summary>
sealed class ImageSource(Tensor images, int batch, bool shuffle, long seed = 7) : IBatchSource<ImageBatch>
{
    public int Count => (int)((images.shape[0] + batch - 1) / batch);

    public IEnumerable<ImageBatch> GetEpoch(int epoch)
    {
        var order = shuffle ? new StrixRandom(seed, epoch).Permutation((int)images.shape[0]) : Enumerable.Range(0, (int)images.shape[0]).ToArray();
        for (int s = 0; s < order.Length; s += batch)
        {
            var idx = order.Skip(s).Take(batch).Select(i => (long)i).ToArray();
            using var t = tensor(idx);
            yield return new ImageBatch(images.index_select(0, t), idx);
        }
    }
}

/// <summary>
/// The tiny YOLOv8 trained on sum-of-squares of its head maps (batch mean), batch norm frozen to its
/// calibrated running statistics (a split batch must not change the maths). Validation logs a per-batch
/// loss (the trainer combines it over ranks) and gathers per-image scores across ranks itself
/// (<see cref="IProcessGroup.AllGatherVariable"/>), so its metrics equal one process on all images.
/// </summary>
sealed class TinyDetectorModule : StrixModule<ImageBatch>
{
    readonly List<Tensor> _scores = new(), _indices = new();

    public TinyDetectorModule(DetectionModel model) : base(model) { }
    DetectionModel Net => (DetectionModel)Model;

    public override OptimizerConfig ConfigureOptimizers() =>
        ParameterGroups.Create("sgd", YoloOptimizer.Groups(Model, 0.01, 0.9, 5e-4));

    public override void OnTrainEpochStart() => FreezeBatchNorm();
    public override void OnValidationEpochEnd() => LogGatheredScores();

    void FreezeBatchNorm() { foreach (var bn in Model.modules().OfType<NormBase>()) bn.eval(); }

    static Tensor Loss(Tensor[] outs) => outs.Select(o => o.pow(2).mean()).Aggregate((a, b) => a + b);

    public override Tensor TrainingStep(ImageBatch batch, int batchIdx)
    {
        var loss = Loss(Net.call(batch.Images));
        Log("train/loss", loss);
        return loss;
    }

    public override void OnValidationEpochStart() { _scores.Clear(); _indices.Clear(); }

    public override void ValidationStep(ImageBatch batch, int batchIdx)
    {
        var outs = Net.call(batch.Images);
        Log("val/loss", Loss(outs));
        // A per-image statistic: mean class logit of the stride-8 map.
        var perImage = outs[0][TensorIndex.Colon, TensorIndex.Slice(64, null)].mean(new long[] { 1, 2, 3 });
        _scores.Add(perImage.to(ScalarType.Float64).cpu().DetachFromDisposeScope()); // the trainer disposes step tensors
        _indices.Add(tensor(batch.Indices).DetachFromDisposeScope());
    }

    void LogGatheredScores()
    {
        var g = Trainer.Strategy.Group;
        using var local = _scores.Count > 0 ? cat(_scores, 0) : zeros(0, ScalarType.Float64);
        using var localIdx = _indices.Count > 0 ? cat(_indices, 0) : zeros(0, ScalarType.Int64);
        using var all = g.AllGatherVariable(local);
        using var allIdx = g.AllGatherVariable(localIdx);
        using var order = allIdx.argsort();
        using var sorted = all.index_select(0, order);
        // Order-free metrics over the whole validation set: mean, and the 0.8 quantile.
        Log("metrics/score_mean", sorted.mean().ToDouble());
        Log("metrics/score_q80", sorted.quantile(0.8).ToDouble());
        Log("metrics/images", (double)all.shape[0]);
        Log("fitness", -sorted.mean().ToDouble());
        foreach (var t in _scores.Concat(_indices)) t.Dispose();
        _scores.Clear(); _indices.Clear();
    }
}

/// <summary>Kills this rank (SIGKILL) at a given epoch and batch, to test what the others do.</summary>
sealed class KillAt(int epoch, int batch) : Callback
{
    public override void OnTrainBatchStart(Trainer trainer, StrixModule module, object? b, int batchIdx)
    {
        if (trainer.Epoch != epoch || batchIdx != batch) return;
        Console.Error.WriteLine($"rank {trainer.Strategy.Rank}: killing myself (SIGKILL) at epoch {epoch + 1}, batch {batchIdx}");
        Console.Error.Flush();
        Process.GetCurrentProcess().Kill();
    }
}

/// <summary>Records where training (re)started.</summary>
sealed class StartRecorder : Callback
{
    public int Epoch = -1;
    public long Step = -1;
    public override void OnTrainStart(Trainer trainer, StrixModule module) { Epoch = trainer.Epoch; Step = trainer.GlobalStep; }
}

/// <summary>Trainer-level DDP: equivalence with one process, sharded validation, rank-0 checkpoints, kill and resume.</summary>
static class TrainerScenarios
{
    const int TrainImages = 24, ValImages = 10, LocalBatch = 4, ImageSize = 64;

    static (Tensor train, Tensor val) Data()
    {
        using var gen = new Generator(123, CPU);
        return (rand(new long[] { TrainImages, 3, ImageSize, ImageSize }, generator: gen),
                rand(new long[] { ValImages, 3, ImageSize, ImageSize }, generator: gen));
    }

    /// <summary>Rank-dependent initial weights (the strategy must replace them by rank 0's); BN statistics from the data on rank 0 only.</summary>
    static DetectionModel NewModel(int rank, Tensor calibration)
    {
        manual_seed(100 + 17 * rank);
        var m = new DetectionModel(new YoloScale("t", 0.33, 0.0625, 1024), 2);
        if (rank == 0)
        {
            var norms = m.modules().OfType<NormBase>().ToList();
            foreach (var bn in norms) bn.momentum = 1.0;
            m.train();
            using (no_grad()) foreach (var o in m.call(calibration)) o.Dispose();
            foreach (var bn in norms) bn.momentum = 0.03;
        }
        else
            foreach (var (name, b) in m.named_buffers())
                using (no_grad()) if (name.EndsWith("running_var")) b.fill_(3.0);
        return m;
    }

    static (Trainer trainer, FitResult result, TinyDetectorModule module) Fit(Strategy strategy, int epochs, int batch, string? dir,
        Tensor train, Tensor val, string? resume = null, Callback? extra = null)
    {
        var module = new TinyDetectorModule(NewModel(strategy.Rank, train));
        var callbacks = new List<Callback>();
        if (dir is not null) callbacks.Add(new ModelCheckpoint(Path.Combine(dir, "weights")));
        if (extra is not null) callbacks.Add(extra);
        var trainer = new Trainer(new TrainerOptions
        {
            MaxEpochs = epochs, Seed = 0, GradientClipVal = 10, Ema = true, EmaTau = 2,
            Strategy = strategy, HandleSignals = false, Log = TextWriter.Null, DefaultRootDir = dir,
        }, callbacks);
        // Validation batches do not depend on the world size: the same 4-image batches, spread over the ranks.
        var result = trainer.Fit(module, new ImageSource(train, batch, shuffle: true), new ImageSource(val, LocalBatch, shuffle: false), resume);
        return (trainer, result, module);
    }

    static double MaxDiff(nn.Module a, nn.Module b) =>
        a.parameters().Zip(b.parameters()).Max(p => (p.First - p.Second).abs().max().ToDouble());

    static double EmaDiff(Trainer a, Trainer b) =>
        a.Ema!.State.Max(kv => kv.Value.is_floating_point() ? (kv.Value - b.Ema!.State[kv.Key]).abs().max().ToDouble() : 0);

    static double Spread(IProcessGroup g, nn.Module model, ModelEma? ema)
    {
        using var scope = NewDisposeScope();
        var parts = model.parameters().Select(p => p.detach().reshape(-1)).ToList();
        if (ema is not null) parts.AddRange(ema.State.Values.Where(v => v.is_floating_point()).Select(v => v.reshape(-1)));
        var all = g.AllGather(cat(parts, 0));
        return (all - all[0]).abs().max().ToDouble();
    }

    static string F(double v) => v.ToString("E6", CultureInfo.InvariantCulture);

    /// <summary>DDP Trainer.Fit (2 ranks × batch 4, 1 epoch = 3 steps) vs one process × batch 8, and sharded validation.</summary>
    public static int Equivalence(IProcessGroup g, Dictionary<string, string> options)
    {
        var (train, val) = Data();
        var dir = options.GetValueOrDefault("dir");
        var ddp = new DistributedDataParallelStrategy(g, bucketBytes: 64 * 1024);
        var (t, r, m) = Fit(ddp, 1, LocalBatch, dir, train, val);
        double spread = Spread(g, m.Model, t.Ema);
        int saved = ((ModelCheckpoint?)t.Callbacks.OfType<ModelCheckpoint>().FirstOrDefault())?.Saved.Count ?? 0;
        var saves = g.GatherObjects(saved);
        if (g.Rank == 0)
        {
            var (ts, rs, ms) = Fit(SingleDeviceStrategy.Instance, 1, LocalBatch * g.WorldSize, null, train, val);
            var md = r.Metrics; var ss = rs.Metrics;
            Console.WriteLine(string.Join(" ", new[]
            {
                "RESULT", $"steps_ddp={r.GlobalStep}", $"steps_single={rs.GlobalStep}",
                $"weights_maxdiff={F(MaxDiff(m.Model, ms.Model))}", $"ema_maxdiff={F(EmaDiff(t, ts))}", $"ranks_spread={F(spread)}",
                $"val_loss_ddp={F(md["val/loss"])}", $"val_loss_single={F(ss["val/loss"])}",
                $"score_mean_ddp={F(md["metrics/score_mean"])}", $"score_mean_single={F(ss["metrics/score_mean"])}",
                $"score_q80_ddp={F(md["metrics/score_q80"])}", $"score_q80_single={F(ss["metrics/score_q80"])}",
                $"val_images_ddp={md["metrics/images"]}", $"train_loss_ddp={F(md["train/loss"])}", $"train_loss_single={F(ss["train/loss"])}",
                $"checkpoints_per_rank={string.Join(";", saves)}",
            }));
        }
        return 0;
    }

    /// <summary>2 epochs under DDP with checkpoints; rank 1 is SIGKILLed in epoch 2 (the others must exit non-zero).</summary>
    public static int Kill(IProcessGroup g, Dictionary<string, string> options)
    {
        var (train, val) = Data();
        var ddp = new DistributedDataParallelStrategy(g);
        Fit(ddp, 2, LocalBatch, options["dir"], train, val, extra: g.Rank == 1 ? new KillAt(1, 1) : null);
        Console.WriteLine("RESULT survived=true");
        return 0;
    }

    /// <summary>Resumes the killed run from <c>last</c> under DDP; rank 0 compares with one uninterrupted process.</summary>
    public static int Resume(IProcessGroup g, Dictionary<string, string> options)
    {
        var (train, val) = Data();
        var dir = options["dir"];
        var last = Path.Combine(dir, "weights", "last.safetensors");
        var ddp = new DistributedDataParallelStrategy(g);
        var start = new StartRecorder();
        var (t, r, m) = Fit(ddp, 2, LocalBatch, dir, train, val, resume: last, extra: start);
        double spread = Spread(g, m.Model, t.Ema);
        if (g.Rank == 0)
        {
            var (ts, rs, ms) = Fit(SingleDeviceStrategy.Instance, 2, LocalBatch * g.WorldSize, null, train, val);
            Console.WriteLine($"RESULT start_epoch={start.Epoch} start_step={start.Step} resumed_epochs={r.EpochsCompleted} steps={r.GlobalStep} steps_single={rs.GlobalStep} " +
                $"weights_maxdiff={F(MaxDiff(m.Model, ms.Model))} ema_maxdiff={F(EmaDiff(t, ts))} ranks_spread={F(spread)}");
        }
        return 0;
    }
}
