using Strix.Runtime;
namespace Strix.Engine;

/// <summary>
/// How the <see cref="Trainer"/> runs (Lightning's Trainer flags with Ultralytics' names where they exist).
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (Ultralytics <c>epochs</c>). A resumed run may raise it.</summary>
    public int MaxEpochs { get; init; } = 100;
    /// <summary>Stop after this many optimizer steps (Lightning <c>max_steps</c>); null = no limit.</summary>
    public long? MaxSteps { get; init; }
    /// <summary>Training time budget in hours (Ultralytics <c>time</c>): after each epoch the number of epochs is re-fitted to the budget, and the run stops when it is spent.</summary>
    public double? TimeHours { get; init; }
    /// <summary>"cpu", "cuda", "cuda:N" or "N".</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>fp32, bf16-mixed or fp16-mixed (<see cref="Precision.PrecisionPlugin.For"/> makes the plugin).</summary>
    public Precision.PrecisionMode Precision { get; init; } = Strix.Engine.Precision.PrecisionMode.Fp32;
    /// <summary>Batches whose gradients are summed before each optimizer step (a schedule may override it per iteration).</summary>
    public int AccumulateGradBatches { get; init; } = 1;
    /// <summary>Clip the gradients' total 2-norm to this value (YOLO: 10); null = no clipping.</summary>
    public double? GradientClipVal { get; init; }
    /// <summary>Keep an EMA of the weights for validation and checkpoints.</summary>
    public bool Ema { get; init; }
    public double EmaDecay { get; init; } = 0.9999;
    public double EmaTau { get; init; } = 2000;
    /// <summary>One training and one validation batch, one epoch; no checkpoints, loggers silent.</summary>
    public bool FastDevRun { get; init; }
    /// <summary>Train on the first N batches of epoch 0, again every epoch (0 = off); validation is limited to N batches.</summary>
    public int OverfitBatches { get; init; }
    public BatchLimit? LimitTrainBatches { get; init; }
    public BatchLimit? LimitValBatches { get; init; }
    /// <summary>Validate every epoch; when false, only after the final epoch (Ultralytics <c>val</c>).</summary>
    public bool Val { get; init; } = true;
    /// <summary>Ask torch for deterministic algorithms.</summary>
    public bool Deterministic { get; init; }
    /// <summary>Seed for torch (null: leave its generators as they are); data loaders take their own seed.</summary>
    public long? Seed { get; init; }
    /// <summary>Consecutive non-finite losses after which the last good weights are restored.</summary>
    public int NonFiniteTolerance { get; init; } = 3;
    /// <summary>Turn SIGINT/SIGTERM into "save a checkpoint after this batch and stop".</summary>
    public bool HandleSignals { get; init; } = true;
    /// <summary>Where callbacks and loggers write by default (the run folder).</summary>
    public string? DefaultRootDir { get; init; }
    /// <summary>How training is spread over processes and devices (null: one process, one device). See <see cref="Strategies.DistributedDataParallelStrategy"/>.</summary>
    public Strategies.Strategy? Strategy { get; init; }
    /// <summary>Times the loop's actions (Lightning <c>profiler</c>); null = <see cref="Profilers.Profiler.None"/>.</summary>
    public Profilers.Profiler? Profiler { get; init; }
    /// <summary>Messages (warnings, notices) go here; default Console.Error.</summary>
    public TextWriter? Log { get; init; }
}
