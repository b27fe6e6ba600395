using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>
/// Turns a run into a <see cref="Checkpoint"/> and back (Lightning's checkpoint connector): the weights
/// (the EMA's when kept, the raw model's beside them for resuming), optimizer state and pending
/// gradients, the torch generator, the <see cref="LoopProgress"/>, the scheduler's and precision
/// plugin's state, and each callback's and the module's own additions. The trainer owns the loop; this
/// class owns the file's contents.
/// </summary>
public sealed class CheckpointConnector(Trainer trainer)
{
    /// <summary>
    /// The run's state now, with <paramref name="progress"/> as the loop's record. <paramref name="pendingGradients"/>:
    /// gradients accumulated since the last optimizer step, saved so a mid-accumulation resume continues exactly.
    /// </summary>
    public Checkpoint Create(StrixModule module, LoopProgress progress, bool pendingGradients)
    {
        var ck = new Checkpoint();
        var sd = module.Model.state_dict();
        if (trainer.Ema is { } ema)
        {
            foreach (var (k, v) in ema.State) ck.Weights[k] = v.detach();
            if (progress.Resumable) ck.ModelWeights = sd.ToDictionary(kv => kv.Key, kv => kv.Value.detach());
        }
        else foreach (var (k, v) in sd) ck.Weights[k] = v.detach();
        if (progress.Resumable)
        {
            var opt = trainer.Optimizer!;
            foreach (var (k, v) in opt.StateTensors()) ck.OptimizerState[k] = v.detach();
            if (pendingGradients)
                foreach (var (name, p) in opt.NamedParameters)
                    if (p.grad is Tensor g) ck.Gradients[name] = g.detach();
            ck.TorchRngState = random.get_rng_state();
        }
        ck.Trainer = progress.ToJson();
        foreach (var c in trainer.Callbacks)
            if (c.StateDict() is JsonObject s) ck.Callbacks[c.StateKey] = s;
        module.OnSaveCheckpoint(ck);
        foreach (var c in trainer.Callbacks) c.OnSaveCheckpoint(trainer, module, ck);
        return ck;
    }

    /// <summary>
    /// Loads a resumable checkpoint into the module, EMA, optimizer (state and pending gradients), scheduler
    /// and precision plugin; returns the loop's record and the torch generator state to set
    /// when training starts (null when the file has none).
    /// </summary>
    public (LoopProgress Progress, Tensor? TorchRng) Restore(StrixModule module, Checkpoint ck, string path)
    {
        if (!ck.IsResumable)
            throw new InvalidDataException($"{path}: not a resumable checkpoint (it holds weights only); resume from weights/last.safetensors");
        var progress = LoopProgress.FromJson(ck.Trainer, path);
        using (no_grad())
        {
            var source = ck.ModelWeights ?? ck.Weights;
            Trainer.LoadInto(module.Model, source, path);
            if (trainer.Ema is { } ema)
            {
                if (ck.ModelWeights is not null) ema.Load(ck.Weights, (long?)progress.Ema?["updates"] ?? 0);
                else ema.Load(source, 0);
            }
        }
        var opt = trainer.Optimizer!;
        if (progress.OptimizerGroups is null) throw new InvalidDataException($"{path}: checkpoint lacks optimizer state");
        if (progress.OptimizerName != opt.Name)
            trainer.Warn($"{path} was trained with {progress.OptimizerName}, this run uses {opt.Name}: optimizer state not restored");
        else
            opt.LoadState(progress.OptimizerGroups, ck.OptimizerState);
        var byName = opt.NamedParameters.ToDictionary(p => p.Name, p => p.Param);
        foreach (var (name, g) in ck.Gradients)
        {
            if (!byName.TryGetValue(name, out var p)) throw new InvalidDataException($"{path}: pending gradient for unknown parameter '{name}'");
            using var scope = NewDisposeScope(); // holds the moved copy while clone reads it
            p.grad = g.to(p.device).clone().DetachFromDisposeScope();
        }
        if (progress.PrecisionState is { } ps) trainer.PrecisionPlugin.LoadStateDict(ps);
        if (trainer.Scheduler is { } sched && progress.Scheduler is { } ss) sched.LoadStateDict(ss);
        return (progress, ck.TorchRngState?.clone());
    }

    /// <summary>Gives the callbacks and the module their parts of the checkpoint (after the trainer took over the loop's progress).</summary>
    public void RestoreHooks(StrixModule module, Checkpoint ck)
    {
        foreach (var c in trainer.Callbacks)
            if (ck.Callbacks[c.StateKey] is JsonObject s) c.LoadStateDict(s);
        module.OnLoadCheckpoint(ck);
        foreach (var c in trainer.Callbacks) c.OnLoadCheckpoint(trainer, module, ck);
    }
}
