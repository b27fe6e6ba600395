using System.Text.Json.Nodes;
using Strix.Engine.Optim;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>
/// A typed hook into the training loop with its own checkpointed state. Every hook is a no-op by default.
/// <para>Order of hooks during <c>Trainer.Fit</c> (module hook first, then each callback in list order):</para>
/// <code>
/// Setup("fit")
/// [OnLoadCheckpoint]                          when resuming
/// OnFitStart
/// OnTrainStart
/// for each epoch:
///   OnTrainEpochStart
///   for each batch:
///     OnTrainBatchStart
///       (TrainingStep)
///       OnBeforeBackward → (backward) → OnAfterBackward       skipped when the loss is not finite
///       [OnBeforeOptimizerStep → (unscale, clip, step, zero_grad, EMA)]   every `accumulate` batches
///     OnTrainBatchEnd
///   [validation, when val is on or on the final epoch:
///     OnValidationStart → OnValidationEpochStart →
///     (OnValidationBatchStart → ValidationStep → OnValidationBatchEnd)* →
///     OnValidationEpochEnd → OnValidationEnd]
///   OnTrainEpochEnd                          epoch metrics (train + val) are in Trainer.CallbackMetrics
///   (loggers write the epoch row)
///   OnEpochEnd                               checkpoints are written here: they include the whole epoch
///     [OnSaveCheckpoint]                     for each checkpoint written
/// OnTrainEnd                                 a run stopped mid-epoch (signal, max_steps) saves `last` here
/// OnFitEnd
/// Teardown("fit")                             always, also after an exception
/// OnException                                on an exception, before Teardown
/// </code>
/// </summary>
public abstract class Callback
{
    /// <summary>Key of this callback's state in checkpoints (default: the type name). Override for several instances of one type.</summary>
    public virtual string StateKey => GetType().Name;

    /// <summary>State to save in checkpoints (null: nothing).</summary>
    public virtual JsonObject? StateDict() => null;
    public virtual void LoadStateDict(JsonObject state) { }

    public virtual void Setup(Trainer trainer, StrixModule module, string stage) { }
    public virtual void Teardown(Trainer trainer, StrixModule module, string stage) { }
    public virtual void OnFitStart(Trainer trainer, StrixModule module) { }
    public virtual void OnFitEnd(Trainer trainer, StrixModule module) { }
    public virtual void OnTrainStart(Trainer trainer, StrixModule module) { }
    public virtual void OnTrainEnd(Trainer trainer, StrixModule module) { }
    public virtual void OnTrainEpochStart(Trainer trainer, StrixModule module) { }
    public virtual void OnTrainEpochEnd(Trainer trainer, StrixModule module) { }
    public virtual void OnTrainBatchStart(Trainer trainer, StrixModule module, object? batch, int batchIdx) { }
    /// <summary><paramref name="loss"/> is NaN/Inf when the batch was skipped as non-finite.</summary>
    public virtual void OnTrainBatchEnd(Trainer trainer, StrixModule module, double loss, object? batch, int batchIdx) { }
    public virtual void OnValidationStart(Trainer trainer, StrixModule module) { }
    public virtual void OnValidationEnd(Trainer trainer, StrixModule module) { }
    public virtual void OnValidationEpochStart(Trainer trainer, StrixModule module) { }
    public virtual void OnValidationEpochEnd(Trainer trainer, StrixModule module) { }
    public virtual void OnValidationBatchStart(Trainer trainer, StrixModule module, object? batch, int batchIdx) { }
    public virtual void OnValidationBatchEnd(Trainer trainer, StrixModule module, object? batch, int batchIdx) { }
    public virtual void OnBeforeBackward(Trainer trainer, StrixModule module, Tensor loss) { }
    public virtual void OnAfterBackward(Trainer trainer, StrixModule module) { }
    public virtual void OnBeforeOptimizerStep(Trainer trainer, StrixModule module, Optimizer optimizer) { }
    /// <summary>After the epoch's metrics were logged; the place to write checkpoints.</summary>
    public virtual void OnEpochEnd(Trainer trainer, StrixModule module) { }
    public virtual void OnSaveCheckpoint(Trainer trainer, StrixModule module, Checkpoint checkpoint) { }
    public virtual void OnLoadCheckpoint(Trainer trainer, StrixModule module, Checkpoint checkpoint) { }
    public virtual void OnException(Trainer trainer, StrixModule module, Exception exception) { }
}
