using Strix.Engine.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>Checkpoints: the loop's <see cref="LoopProgress"/>, writing it (with the <see cref="CheckpointConnector"/>) and resuming from it.</summary>
public sealed partial class Trainer
{
    /// <summary>The loop's progress now, as a checkpoint records it (<paramref name="resumable"/>: with what exact resume needs).</summary>
    public LoopProgress Progress(bool resumable = true)
    {
        var p = new LoopProgress
        {
            Resumable = resumable,
            Epoch = _epochDone ? Epoch + 1 : Epoch,
            Batch = _epochDone ? 0 : _batchesDone,
            EpochsCompleted = EpochsCompleted, MaxEpochs = MaxEpochs, GlobalStep = GlobalStep, BatchesPerEpoch = BatchesPerEpoch,
            TrainSeconds = TrainTime.TotalSeconds, Precision = Precision.Name(), Device = Device.ToString(),
            Metrics = CallbackMetrics, Ema = Ema?.StateDict(),
        };
        if (!resumable) return p;
        return p with
        {
            LastOptIteration = _lastOptIteration, Iteration = Iteration, NonFinite = _guard.NonFinite,
            OptimizerName = Optimizer!.Name, OptimizerGroups = Optimizer.GroupsState(),
            Scheduler = Scheduler?.StateDict(), PrecisionState = PrecisionPlugin.StateDict(), Seed = Options.Seed,
            TrainMetrics = _logged.Train.ToJson(), ValMetrics = _logged.Val.ToJson(), ValidatedThisEpoch = _validatedThisEpoch,
        };
    }

    /// <summary>
    /// The run's state now. <paramref name="resumable"/> adds optimizer state, pending gradients, the
    /// RNG state and counters needed to continue exactly; without it the file is for deployment (best).
    /// </summary>
    public Checkpoint CreateCheckpoint(bool resumable = true) =>
        _checkpoints.Create(Module, Progress(resumable), pendingGradients: resumable && _batchesDone > 0 && Iteration > _lastOptIteration);

    /// <summary>Writes <see cref="CreateCheckpoint"/> to <paramref name="path"/> atomically.</summary>
    public void SaveCheckpoint(string path, bool resumable = true)
    {
        using var ck = CreateCheckpoint(resumable);
        ck.Save(path);
    }

    void Restore(StrixModule module, Checkpoint ck, string path)
    {
        var (p, rng) = _checkpoints.Restore(module, ck, path);
        _rngToRestore = rng;
        if (cuda.is_available() && Device.type == DeviceType.CUDA)
            cuda.manual_seed_all((Options.Seed ?? 0) + p.GlobalStep); // libtorch exposes no CUDA generator state to .NET
        (Epoch, _batchesDone, EpochsCompleted, GlobalStep) = (p.Epoch, p.Batch, p.EpochsCompleted, p.GlobalStep);
        (_lastOptIteration, _guard.NonFinite, _trainSecondsBefore, _validatedThisEpoch) = (p.LastOptIteration, p.NonFinite, p.TrainSeconds, p.ValidatedThisEpoch);
        if (p.BatchesPerEpoch != BatchesPerEpoch)
            Warn($"{path} was trained with {p.BatchesPerEpoch} batches per epoch, this run has {BatchesPerEpoch}: iteration-based schedules shift");
        if (_batchesDone > 0) { _logged.Train.Load(p.TrainMetrics); _logged.Val.Load(p.ValMetrics); }
        if (Options.TimeHours is null) MaxEpochs = FastDevRun ? 1 : Options.MaxEpochs;
        else MaxEpochs = Math.Max(p.MaxEpochs > 0 ? p.MaxEpochs : Options.MaxEpochs, Epoch + 1);
        if (Epoch >= MaxEpochs)
            throw new ArgumentException($"{path}: training to {MaxEpochs} epochs is finished ({EpochsCompleted} done), nothing to resume; pass a larger epochs= to extend it");
        _checkpoints.RestoreHooks(module, ck);
        foreach (var l in ActiveLoggers) l.OnResume(EpochsCompleted);
        Print($"Resuming training from {path}: epoch {Epoch + 1}{(_batchesDone > 0 ? $", batch {_batchesDone}" : "")} of {MaxEpochs}, step {GlobalStep}");
    }

    /// <summary>Copies a state dict into a model; every model entry must be present with the same shape.</summary>
    internal static void LoadInto(nn.Module model, IReadOnlyDictionary<string, Tensor> source, string path)
    {
        using var _ = no_grad();
        foreach (var (k, v) in model.state_dict())
        {
            if (!source.TryGetValue(k, out var s)) throw new InvalidDataException($"{path}: checkpoint lacks '{k}'");
            if (!s.shape.SequenceEqual(v.shape))
                throw new InvalidDataException($"{path}: '{k}' has shape [{string.Join(", ", s.shape)}], the model needs [{string.Join(", ", v.shape)}]");
            v.copy_(s);
        }
    }
}
