using Strix.Engine.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>What <see cref="StrixModule.ConfigureOptimizers"/> returns: the optimizer and its schedule.</summary>
public sealed record OptimizerConfig(Optimizer Optimizer, LrScheduler? Scheduler = null)
{
    public static implicit operator OptimizerConfig(Optimizer optimizer) => new(optimizer);
}

/// <summary>
/// The model-side half of training (Lightning's LightningModule): it holds the network and says what
/// one training or validation step computes, which optimizer and schedule to use, and reacts to the
/// loop's hooks. The <see cref="Trainer"/> owns everything else (loop, device, precision, accumulation,
/// clipping, EMA, checkpoints, callbacks, loggers). Hooks of the module run before the callbacks' hooks
/// of the same name, so values it logs there are visible to callbacks.
/// </summary>
public abstract class StrixModule
{
    Trainer? _trainer;

    protected StrixModule(nn.Module model) { Model = model ?? throw new ArgumentNullException(nameof(model)); }

    /// <summary>The network being trained (moved to the trainer's device by the trainer).</summary>
    public nn.Module Model { get; }

    /// <summary>The trainer running this module (set during Fit/Validate).</summary>
    public Trainer Trainer => _trainer ?? throw new InvalidOperationException($"{GetType().Name} is not attached to a Trainer (call Trainer.Fit)");
    public bool HasTrainer => _trainer is not null;
    internal void Attach(Trainer? trainer) => _trainer = trainer;

    /// <summary>The device the trainer put the model on.</summary>
    public Device Device => Trainer.Device;

    /// <summary>
    /// Records a scalar. <paramref name="onEpoch"/>: averaged over the epoch (or validation run) into the
    /// epoch's metrics row; <paramref name="onStep"/>: also sent to loggers at the current global step;
    /// <paramref name="progBar"/>: shown by the progress bar (the running mean when on_epoch, else the last value).
    /// </summary>
    public void Log(string name, double value, bool progBar = false, bool onStep = false, bool onEpoch = true) =>
        Trainer.Log(name, value, progBar, onStep, onEpoch);

    /// <summary>Logs a one-element tensor (synchronises with the device).</summary>
    public void Log(string name, Tensor value, bool progBar = false, bool onStep = false, bool onEpoch = true)
    {
        if (value.numel() != 1) throw new ArgumentException($"Log('{name}') needs a one-element tensor, got shape [{string.Join(", ", value.shape)}]");
        double v;
        using (NewDisposeScope()) v = value.detach().cpu().to(ScalarType.Float64).item<double>();
        Log(name, v, progBar, onStep, onEpoch);
    }

    /// <summary>Builds the optimizer (and schedule) for <see cref="Model"/>; the trainer's fields (batches per epoch, epochs) are set.</summary>
    public abstract OptimizerConfig ConfigureOptimizers();

    public virtual void Setup(string stage) { }
    public virtual void Teardown(string stage) { }
    public virtual void OnFitStart() { }
    public virtual void OnFitEnd() { }
    public virtual void OnTrainStart() { }
    public virtual void OnTrainEnd() { }
    public virtual void OnTrainEpochStart() { }
    public virtual void OnTrainEpochEnd() { }
    public virtual void OnValidationStart() { }
    public virtual void OnValidationEnd() { }
    public virtual void OnValidationEpochStart() { }
    /// <summary>Compute epoch metrics from what the validation steps gathered and <see cref="Log(string, double, bool, bool, bool)"/> them here.</summary>
    public virtual void OnValidationEpochEnd() { }
    public virtual void OnBeforeBackward(Tensor loss) { }
    public virtual void OnAfterBackward() { }
    public virtual void OnBeforeOptimizerStep(Optimizer optimizer) { }
    /// <summary>Add module state (JSON, extra tensors, string metadata) to a checkpoint being written.</summary>
    public virtual void OnSaveCheckpoint(Checkpoint checkpoint) { }
    /// <summary>Restore what <see cref="OnSaveCheckpoint"/> added.</summary>
    public virtual void OnLoadCheckpoint(Checkpoint checkpoint) { }
}

/// <summary>A <see cref="StrixModule"/> whose batches are <typeparamref name="TBatch"/>.</summary>
public abstract class StrixModule<TBatch> : StrixModule
{
    protected StrixModule(nn.Module model) : base(model) { }

    /// <summary>Forward pass and loss of one training batch (a scalar; the trainer runs backward).</summary>
    public abstract Tensor TrainingStep(TBatch batch, int batchIdx);

    /// <summary>Evaluates one validation batch (under no_grad, eval mode, EMA weights when kept).</summary>
    public virtual void ValidationStep(TBatch batch, int batchIdx) { }

    /// <summary>
    /// Moves a batch to <paramref name="device"/>. The default handles <see cref="IDeviceBatch{T}"/> and
    /// tensors, and passes other batches through unchanged when the device is the CPU.
    /// </summary>
    public virtual TBatch TransferBatchToDevice(TBatch batch, Device device)
    {
        switch (batch)
        {
            case IDeviceBatch<TBatch> movable: return movable.To(device);
            case Tensor t: return (TBatch)(object)(t.device == device ? t : t.to(device));
        }
        if (device.type == DeviceType.CPU) return batch;
        throw new NotSupportedException($"{GetType().Name}: override TransferBatchToDevice to move a {typeof(TBatch).Name} to {device}");
    }

    public virtual void OnTrainBatchStart(TBatch batch, int batchIdx) { }
    /// <summary>After the step; <paramref name="loss"/> is NaN/Inf when the step was skipped as non-finite.</summary>
    public virtual void OnTrainBatchEnd(double loss, TBatch batch, int batchIdx) { }
    public virtual void OnValidationBatchStart(TBatch batch, int batchIdx) { }
    public virtual void OnValidationBatchEnd(TBatch batch, int batchIdx) { }
}

/// <summary>A batch that knows how to copy itself to a device (the copy is a new batch the trainer disposes).</summary>
public interface IDeviceBatch<out T>
{
    T To(Device device);
}
