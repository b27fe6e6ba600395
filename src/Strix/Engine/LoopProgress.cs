using System.Text.Json.Nodes;

namespace Strix.Engine;

/// <summary>
/// The trainer's progress as one typed record: what a checkpoint stores under its <c>trainer</c> JSON
/// and what a resumed run continues from. <see cref="ToJson"/> and <see cref="FromJson"/> are the only
/// places its keys are spelled. Fields under "resumable only" are present in <c>last</c> checkpoints
/// (<see cref="Resumable"/>), not in deployment ones (<c>best</c>).
/// </summary>
public sealed record LoopProgress
{
    public bool Resumable { get; init; }
    /// <summary>The epoch to continue in (0-based): the next one when the saved epoch was finished.</summary>
    public int Epoch { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already trained (0 at an epoch boundary).</summary>
    public int Batch { get; init; }
    public int EpochsCompleted { get; init; }
    public int MaxEpochs { get; init; }
    public long GlobalStep { get; init; }
    public int BatchesPerEpoch { get; init; }
    /// <summary>Training time of all sessions so far.</summary>
    public double TrainSeconds { get; init; }
    public string Precision { get; init; } = "32";
    public string Device { get; init; } = "cpu";
    /// <summary>The metric row at save time (training means, validation, learning rates).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    /// <summary>The EMA's scalar state (updates, decay, tau); null without EMA.</summary>
    public JsonObject? Ema { get; init; }

    // resumable only
    /// <summary>The iteration of the last optimizer step (gradients after it are pending).</summary>
    public long LastOptIteration { get; init; } = -1;
    public long Iteration { get; init; }
    /// <summary>Consecutive non-finite steps so far (the divergence guard's count).</summary>
    public int NonFinite { get; init; }
    public string? OptimizerName { get; init; }
    /// <summary>Per-group hyper-parameters and scalar state of the optimizer.</summary>
    public JsonArray? OptimizerGroups { get; init; }
    public JsonObject? Scheduler { get; init; }
    /// <summary>The precision plugin's state (the fp16 loss scale).</summary>
    public JsonObject? PrecisionState { get; init; }
    public long? Seed { get; init; }
    /// <summary>The partial epoch's metric sums, to continue the epoch's means.</summary>
    public JsonArray? TrainMetrics { get; init; }
    public JsonArray? ValMetrics { get; init; }
    public bool ValidatedThisEpoch { get; init; }

    public JsonObject ToJson()
    {
        var t = new JsonObject
        {
            ["resumable"] = Resumable,
            ["epoch"] = Epoch,
            ["batch"] = Batch,
            ["epochs_completed"] = EpochsCompleted,
            ["max_epochs"] = MaxEpochs,
            ["global_step"] = GlobalStep,
            ["batches_per_epoch"] = BatchesPerEpoch,
            ["train_seconds"] = TrainSeconds,
            ["precision"] = Precision,
            ["device"] = Device,
            ["metrics"] = new JsonObject(Metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        };
        if (Ema is not null) t["ema"] = Ema.DeepClone();
        if (!Resumable) return t;
        t["last_opt_iteration"] = LastOptIteration;
        t["iteration"] = Iteration;
        t["non_finite"] = NonFinite;
        t["optimizer"] = new JsonObject { ["name"] = OptimizerName, ["groups"] = OptimizerGroups?.DeepClone() };
        if (Scheduler is not null) t["scheduler"] = Scheduler.DeepClone();
        if (PrecisionState is not null) t["scaler"] = PrecisionState.DeepClone();
        t["seed"] = Seed;
        t["train_metrics"] = TrainMetrics?.DeepClone();
        t["val_metrics"] = ValMetrics?.DeepClone();
        t["validated_this_epoch"] = ValidatedThisEpoch;
        return t;
    }

    /// <summary>Reads <see cref="ToJson"/>'s form; a missing required key is an <see cref="InvalidDataException"/> naming <paramref name="path"/>.</summary>
    public static LoopProgress FromJson(JsonObject t, string path)
    {
        T Need<T>(string key) => t[key] is JsonNode n ? n.GetValue<T>() : throw new InvalidDataException($"{path}: checkpoint lacks trainer/{key}");
        bool resumable = (bool?)t["resumable"] ?? false;
        var optimizer = t["optimizer"] as JsonObject;
        return new LoopProgress
        {
            Resumable = resumable,
            Epoch = Need<int>("epoch"),
            Batch = Need<int>("batch"),
            EpochsCompleted = Need<int>("epochs_completed"),
            MaxEpochs = (int?)t["max_epochs"] ?? 0,
            GlobalStep = Need<long>("global_step"),
            BatchesPerEpoch = Need<int>("batches_per_epoch"),
            TrainSeconds = (double?)t["train_seconds"] ?? 0,
            Precision = (string?)t["precision"] ?? "32",
            Device = (string?)t["device"] ?? "cpu",
            Metrics = (t["metrics"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => (double?)kv.Value ?? double.NaN) ?? new Dictionary<string, double>(),
            Ema = t["ema"] as JsonObject,
            LastOptIteration = resumable ? Need<long>("last_opt_iteration") : -1,
            Iteration = (long?)t["iteration"] ?? 0,
            NonFinite = (int?)t["non_finite"] ?? 0,
            OptimizerName = (string?)optimizer?["name"],
            OptimizerGroups = optimizer?["groups"] as JsonArray,
            Scheduler = t["scheduler"] as JsonObject,
            PrecisionState = t["scaler"] as JsonObject,
            Seed = (long?)t["seed"],
            TrainMetrics = t["train_metrics"] as JsonArray,
            ValMetrics = t["val_metrics"] as JsonArray,
            ValidatedThisEpoch = (bool?)t["validated_this_epoch"] ?? false,
        };
    }
}
